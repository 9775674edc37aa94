"""Business-day arithmetic: weekends, holidays, opening hours."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.processes.calendar import BusinessCalendar, Duration, TimeUnit, format_day, format_time

D = dt.date
T = dt.datetime
CAL = BusinessCalendar.build(holidays=["2026-12-25", "2026-12-28", "2027-01-01"])


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (D(2026, 11, 23), 3, D(2026, 11, 26)),  # Monday + 3 = Thursday
        (D(2026, 11, 26), 2, D(2026, 11, 30)),  # Thursday + 2 crosses the weekend
        (D(2026, 11, 27), 1, D(2026, 11, 30)),  # Friday + 1 = Monday
        (D(2026, 11, 28), 1, D(2026, 11, 30)),  # Saturday + 1 = Monday
        (D(2026, 11, 29), 5, D(2026, 12, 4)),  # Sunday + 5 = Friday
        (D(2026, 11, 28), 0, D(2026, 11, 30)),  # nothing happens on a Saturday
        (D(2026, 11, 24), 0, D(2026, 11, 24)),
        (D(2026, 12, 23), 2, D(2026, 12, 29)),  # Christmas and its substitute skipped
        (D(2026, 12, 24), 1, D(2026, 12, 29)),
        (D(2026, 12, 31), 1, D(2027, 1, 4)),  # New Year's Day and a weekend
        (D(2026, 11, 23), 10, D(2026, 12, 7)),
    ],
)
def test_add_business_days(start: dt.date, days: int, expected: dt.date) -> None:
    assert CAL.add_business_days(start, days) == expected
    assert CAL.is_business_day(expected)


def test_negative_days_are_rejected() -> None:
    with pytest.raises(ValueError):
        CAL.add_business_days(D(2026, 11, 23), -1)


def test_business_days_between() -> None:
    assert CAL.business_days_between(D(2026, 11, 23), D(2026, 11, 26)) == 3
    assert CAL.business_days_between(D(2026, 11, 27), D(2026, 11, 30)) == 1
    assert CAL.business_days_between(D(2026, 11, 30), D(2026, 11, 23)) == 0


@pytest.mark.parametrize(
    ("start", "minutes", "expected"),
    [
        (T(2026, 11, 23, 10, 0), 5, T(2026, 11, 23, 10, 5)),
        (T(2026, 11, 23, 19, 58), 5, T(2026, 11, 24, 8, 3)),  # runs over closing
        (T(2026, 11, 23, 21, 0), 5, T(2026, 11, 24, 8, 5)),  # after hours: next opening
        (T(2026, 11, 23, 6, 0), 5, T(2026, 11, 23, 8, 5)),  # before opening
        (T(2026, 11, 27, 19, 0), 120, T(2026, 11, 30, 9, 0)),  # Friday evening to Monday
        (T(2026, 12, 24, 19, 30), 60, T(2026, 12, 29, 8, 30)),  # over Christmas
    ],
)
def test_business_minutes(start: dt.datetime, minutes: int, expected: dt.datetime) -> None:
    assert CAL.add_business_minutes(start, minutes) == expected


def test_add_dispatches_on_units() -> None:
    start = T(2026, 11, 23, 10, 0)
    assert CAL.add(start, Duration(2, TimeUnit.HOURS)) == T(2026, 11, 23, 12, 0)
    assert CAL.add(start, Duration(3, TimeUnit.BUSINESS_DAYS)) == T(2026, 11, 26, 23, 59, 59)
    assert CAL.add(start, Duration(14, TimeUnit.DAYS)) == T(2026, 12, 7, 23, 59, 59)
    assert CAL.add(start, Duration(4, TimeUnit.BUSINESS_HOURS)) == T(2026, 11, 23, 14, 0)


def test_aware_datetimes_become_shop_local_time() -> None:
    summer = dt.datetime(2026, 7, 1, 9, 0, tzinfo=dt.timezone.utc)
    assert CAL.local(summer) == T(2026, 7, 1, 10, 0)  # BST
    winter = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)
    assert CAL.local(winter) == T(2026, 11, 23, 9, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5 business_days", Duration(5, TimeUnit.BUSINESS_DAYS)),
        ("1 business day", Duration(1, TimeUnit.BUSINESS_DAYS)),
        ("10 minutes", Duration(10, TimeUnit.MINUTES)),
        (" 2 Hours ", Duration(2, TimeUnit.HOURS)),
        ("4 business hours", Duration(4, TimeUnit.BUSINESS_HOURS)),
    ],
)
def test_parse_duration(text: str, expected: Duration) -> None:
    assert Duration.parse(text) == expected


@pytest.mark.parametrize("text", ["", "five days", "3 fortnights", "-1 days", "3"])
def test_parse_duration_rejects_nonsense(text: str) -> None:
    with pytest.raises(ValueError):
        Duration.parse(text)


def test_calendar_validation() -> None:
    with pytest.raises(ValueError):
        BusinessCalendar.build(opening="20:00", closing="08:00")
    with pytest.raises(ValueError):
        BusinessCalendar.build(weekend=range(1, 8))


def test_formatting() -> None:
    assert format_day(D(2026, 11, 26)) == "Thursday 26 November"
    assert format_day(D(2027, 1, 4), today=D(2026, 12, 30)) == "Monday 4 January 2027"
    now = T(2026, 11, 23, 10, 0)
    assert format_time(T(2026, 11, 23, 14, 35), now) == "14:35"
    assert format_time(T(2026, 11, 24, 9, 30), now) == "09:30 tomorrow"
    assert format_time(T(2026, 11, 26, 9, 30), now) == "09:30 on Thursday 26 November"
