"""Business-day and opening-hours arithmetic for service levels.

Every promise the bot makes ("by Thursday 26 November", "within about 5
minutes") is computed here from a start instant and a :class:`Duration`. The
calendar is the shop's: weekends and a holiday list (both configurable in the
process catalogue) and the contact centre's opening hours.

Times are *local wall-clock* times of the shop. Aware datetimes are converted
to the calendar's time zone first and the result is naive local time, so the
customer reads the same clock the contact centre works by.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass, field
from typing import Iterable
from zoneinfo import ZoneInfo

__all__ = [
    "BusinessCalendar",
    "Duration",
    "TimeUnit",
    "format_day",
    "format_time",
]


class TimeUnit(str, enum.Enum):
    """How a service level is counted."""

    MINUTES = "minutes"
    HOURS = "hours"
    DAYS = "days"
    #: minutes counted only while the contact centre is open
    BUSINESS_MINUTES = "business_minutes"
    #: hours counted only while the contact centre is open
    BUSINESS_HOURS = "business_hours"
    #: working days (no weekends, no holidays); the promise is the end of that day
    BUSINESS_DAYS = "business_days"

    @property
    def is_day_based(self) -> bool:
        return self in (TimeUnit.DAYS, TimeUnit.BUSINESS_DAYS)


_UNIT_WORDS = {
    "minute": TimeUnit.MINUTES,
    "minutes": TimeUnit.MINUTES,
    "hour": TimeUnit.HOURS,
    "hours": TimeUnit.HOURS,
    "day": TimeUnit.DAYS,
    "days": TimeUnit.DAYS,
    "business_minute": TimeUnit.BUSINESS_MINUTES,
    "business_minutes": TimeUnit.BUSINESS_MINUTES,
    "business_hour": TimeUnit.BUSINESS_HOURS,
    "business_hours": TimeUnit.BUSINESS_HOURS,
    "business_day": TimeUnit.BUSINESS_DAYS,
    "business_days": TimeUnit.BUSINESS_DAYS,
}
_DURATION_RE = re.compile(r"^\s*(\d+)\s+([a-z_ ]+?)\s*$")


@dataclass(frozen=True)
class Duration:
    """A service level: ``amount`` units, e.g. ``Duration(5, TimeUnit.BUSINESS_DAYS)``."""

    amount: int
    unit: TimeUnit

    def __post_init__(self) -> None:
        if self.amount < 0:
            raise ValueError(f"a duration cannot be negative: {self.amount}")

    @classmethod
    def parse(cls, text: str) -> "Duration":
        """Parse ``"5 business_days"``, ``"10 minutes"``, ``"2 business hours"``."""
        match = _DURATION_RE.match(str(text).lower())
        if not match:
            raise ValueError(f"not a duration: {text!r} (expected e.g. '5 business_days')")
        unit_word = match.group(2).replace(" ", "_")
        try:
            unit = _UNIT_WORDS[unit_word]
        except KeyError:
            raise ValueError(
                f"unknown time unit {match.group(2)!r} in {text!r}; use one of {sorted(set(_UNIT_WORDS))}"
            ) from None
        return cls(int(match.group(1)), unit)

    def describe(self) -> str:
        """Plain English: ``"5 working days"``, ``"about 10 minutes"``."""
        n = self.amount
        words = {
            TimeUnit.MINUTES: ("minute", "minutes"),
            TimeUnit.HOURS: ("hour", "hours"),
            TimeUnit.DAYS: ("day", "days"),
            TimeUnit.BUSINESS_MINUTES: ("minute", "minutes"),
            TimeUnit.BUSINESS_HOURS: ("working hour", "working hours"),
            TimeUnit.BUSINESS_DAYS: ("working day", "working days"),
        }[self.unit]
        return f"{n} {words[0] if n == 1 else words[1]}"


@dataclass(frozen=True)
class BusinessCalendar:
    """Working days and opening hours of the shop.

    ``weekend`` holds ISO weekday numbers (Monday is 1). ``opening`` and
    ``closing`` bound the contact centre's day on working days.
    """

    holidays: frozenset[dt.date] = frozenset()
    weekend: frozenset[int] = frozenset({6, 7})
    opening: dt.time = dt.time(8, 0)
    closing: dt.time = dt.time(20, 0)
    timezone: str = "Europe/London"
    _tz: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.opening < self.closing:
            raise ValueError("opening time must be before closing time")
        if len(self.weekend) >= 7:
            raise ValueError("a calendar needs at least one working weekday")
        object.__setattr__(self, "_tz", ZoneInfo(self.timezone))

    @classmethod
    def build(
        cls,
        holidays: Iterable[dt.date | str] = (),
        weekend: Iterable[int] = (6, 7),
        opening: str | dt.time = "08:00",
        closing: str | dt.time = "20:00",
        timezone: str = "Europe/London",
    ) -> "BusinessCalendar":
        """Build from loosely typed configuration (ISO date strings, ``"HH:MM"``)."""
        days = frozenset(d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)) for d in holidays)
        return cls(
            holidays=days,
            weekend=frozenset(int(w) for w in weekend),
            opening=opening if isinstance(opening, dt.time) else dt.time.fromisoformat(opening),
            closing=closing if isinstance(closing, dt.time) else dt.time.fromisoformat(closing),
            timezone=timezone,
        )

    # -- basic predicates -------------------------------------------------
    def is_business_day(self, day: dt.date) -> bool:
        return day.isoweekday() not in self.weekend and day not in self.holidays

    def is_open(self, moment: dt.datetime) -> bool:
        moment = self.local(moment)
        return self.is_business_day(moment.date()) and self.opening <= moment.time() < self.closing

    def local(self, moment: dt.datetime) -> dt.datetime:
        """Naive local wall-clock time of the shop for any datetime."""
        if moment.tzinfo is not None:
            return moment.astimezone(self._tz).replace(tzinfo=None)
        return moment

    # -- arithmetic -------------------------------------------------------
    def next_business_day(self, day: dt.date) -> dt.date:
        """The first working day strictly after ``day``."""
        day += dt.timedelta(days=1)
        while not self.is_business_day(day):
            day += dt.timedelta(days=1)
        return day

    def add_business_days(self, start: dt.date, days: int) -> dt.date:
        """The working day ``days`` working days after ``start``.

        ``start`` itself is day 0 whether or not it is a working day; with
        ``days == 0`` a non-working start rolls forward to the next working
        day (nothing is done on a Sunday).
        """
        if days < 0:
            raise ValueError("days must not be negative")
        day = start
        if days == 0:
            return day if self.is_business_day(day) else self.next_business_day(day)
        for _ in range(days):
            day = self.next_business_day(day)
        return day

    def business_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 if end <= start)."""
        count = 0
        day = start
        while day < end:
            day += dt.timedelta(days=1)
            if self.is_business_day(day):
                count += 1
        return count

    def next_opening(self, moment: dt.datetime) -> dt.datetime:
        """``moment`` itself if open, otherwise when the contact centre next opens."""
        moment = self.local(moment)
        if self.is_business_day(moment.date()):
            if moment.time() < self.opening:
                return dt.datetime.combine(moment.date(), self.opening)
            if moment.time() < self.closing:
                return moment
        return dt.datetime.combine(self.next_business_day(moment.date()), self.opening)

    def add_business_minutes(self, start: dt.datetime, minutes: int) -> dt.datetime:
        """``start`` plus ``minutes`` counted only inside opening hours."""
        if minutes < 0:
            raise ValueError("minutes must not be negative")
        moment = self.next_opening(start)
        remaining = dt.timedelta(minutes=minutes)
        while True:
            closing = dt.datetime.combine(moment.date(), self.closing)
            available = closing - moment
            if remaining <= available:
                return moment + remaining
            remaining -= available
            moment = dt.datetime.combine(self.next_business_day(moment.date()), self.opening)

    def add(self, start: dt.datetime, duration: Duration) -> dt.datetime:
        """When something started at ``start`` and taking ``duration`` is due.

        Day-based units return the *end* of the due day (23:59:59), because a
        promise "by Thursday" holds all Thursday.
        """
        start = self.local(start)
        unit = duration.unit
        if unit is TimeUnit.MINUTES:
            return start + dt.timedelta(minutes=duration.amount)
        if unit is TimeUnit.HOURS:
            return start + dt.timedelta(hours=duration.amount)
        if unit is TimeUnit.BUSINESS_MINUTES:
            return self.add_business_minutes(start, duration.amount)
        if unit is TimeUnit.BUSINESS_HOURS:
            return self.add_business_minutes(start, duration.amount * 60)
        if unit is TimeUnit.DAYS:
            day = start.date() + dt.timedelta(days=duration.amount)
        else:
            day = self.add_business_days(start.date(), duration.amount)
        return dt.datetime.combine(day, dt.time(23, 59, 59))


def format_day(day: dt.date, today: dt.date | None = None) -> str:
    """``"Thursday 26 November"``; the year is added when it is not ``today``'s year."""
    text = f"{day:%A} {day.day} {day:%B}"
    if today is not None and day.year != today.year:
        text += f" {day.year}"
    return text


def format_time(moment: dt.datetime, now: dt.datetime) -> str:
    """``"14:35"`` today, ``"09:30 tomorrow"``, else ``"09:30 on Tuesday 24 November"``."""
    clock = f"{moment:%H:%M}"
    if moment.date() == now.date():
        return clock
    if moment.date() == now.date() + dt.timedelta(days=1):
        return f"{clock} tomorrow"
    return f"{clock} on {format_day(moment.date(), now.date())}"
