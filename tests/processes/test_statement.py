"""The three silent questions, for every process, variant and step."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.processes.catalogue import When, default_catalogue
from bot.processes.render import placeholder_problems
from bot.processes.statement import Case, Statement, UnknownStage, assess, build_statement, statement_text

MONDAY = dt.datetime(2026, 11, 23, 10, 0)  # Monday 23 November 2026, 10:00 shop time


def how_long(statement: Statement) -> str:
    """The "How long" line of the rendered statement response."""
    line = statement_text(statement).split("\n")[1]
    assert line.startswith("How long: "), line
    return line.removeprefix("How long: ")

CASES = [
    (process.key, variant.key, step.id)
    for process in default_catalogue()
    for variant in process.variants.values()
    for step in variant.steps
]
FULL_FACTS = {
    "order_id": "ORD-1001",
    "invoice_id": "INV-77",
    "carrier": "DPD",
    "tracking_number": "1Z999",
    "amount": "£42.50",
    "email": "ann@example.com",
    "card_hint": "Visa ending 4242",
    "account_hint": "1234",
    "new_address": "1 High Street, York",
    "reference": "C-123",
    "position": 2,
}


@pytest.mark.parametrize(("process", "variant", "stage"), CASES)
@pytest.mark.parametrize("facts", [{}, FULL_FACTS], ids=["no-facts", "all-facts"])
@pytest.mark.parametrize(
    "since",
    [None, dt.date(2026, 11, 20), dt.date(2026, 10, 1)],
    ids=["now", "last-friday", "long-ago"],
)
def test_every_statement_has_three_clean_parts(process, variant, stage, facts, since) -> None:  # type: ignore[no-untyped-def]
    statement = build_statement(Case(process, variant, stage, since, facts), MONDAY)
    text = statement_text(statement)
    assert placeholder_problems(text) == [], text
    parts = [line.split(": ", 1)[1] for line in text.split("\n")]
    assert len(parts) == 3
    for part in parts:
        assert part.strip(), (process, variant, stage)
        assert part.rstrip()[-1] in ".!?", part
    assert text.count("\n") == 2
    assert "What happens next: " in text and "How long: " in text and "If something goes wrong: " in text


@pytest.mark.parametrize(("process", "variant", "stage"), CASES)
def test_due_dates_are_working_days_and_in_the_future_when_pending(process, variant, stage) -> None:  # type: ignore[no-untyped-def]
    catalogue = default_catalogue()
    progress = assess(Case(process, variant, stage), MONDAY)
    if progress.status is When.DONE:
        assert progress.due is None
        return
    assert progress.status is When.PENDING
    assert progress.due is not None and progress.due >= MONDAY
    units = {s.takes.unit for s in progress.variant.steps[progress.step_index : -1]}
    if any(u.value == "business_days" for u in units):
        assert catalogue.calendar.is_business_day(progress.due.date())


def test_card_refund_approved_on_friday_is_due_the_next_friday() -> None:
    case = Case("refund", "card", "approved", dt.date(2026, 11, 20), {"amount": "£20"})
    statement = build_statement(case, MONDAY)
    assert statement.due == dt.datetime(2026, 11, 27, 23, 59, 59)
    assert how_long(statement) == (
        "The money should be back on your card by Friday 27 November (4 working days from now)."
    )
    assert statement.next_step == "We send the money back to the card you paid with."
    assert statement.what_could_go_wrong.startswith("The card has expired")


def test_bank_transfer_sent_today_is_due_thursday() -> None:
    statement = build_statement(Case("refund", "bank_transfer", "sent"), MONDAY)
    assert "by Thursday 26 November (3 working days from now)" in how_long(statement)


def test_weekend_and_holidays_are_skipped() -> None:
    # store credit approved on Christmas Eve (Thursday): 1 working day -> Tuesday 29 December
    statement = build_statement(
        Case("refund", "store_credit", "approved", dt.date(2026, 12, 24)), dt.datetime(2026, 12, 24, 9, 0)
    )
    assert statement.due == dt.datetime(2026, 12, 29, 23, 59, 59)
    assert "Tuesday 29 December" in how_long(statement)


def test_overdue_case_says_so_and_uses_the_overdue_remedy() -> None:
    case = Case("refund", "card", "approved", dt.date(2026, 11, 2), {})
    progress = assess(case, MONDAY)
    assert progress.status is When.OVERDUE
    assert progress.overdue_business_days > 0
    statement = build_statement(case, MONDAY)
    assert "overdue" in how_long(statement)
    assert "Monday 9 November" in statement.what_could_go_wrong
    assert "refund not received" in statement.what_could_go_wrong


def test_finished_case() -> None:
    statement = build_statement(Case("refund", "paypal", "paid", dt.date(2026, 11, 19)), MONDAY)
    assert statement.status is When.DONE
    assert statement.due is None
    assert how_long(statement) == "Nothing more to wait for: it was finished on Thursday 19 November."


def test_handoff_out_of_hours_waits_for_opening() -> None:
    late = dt.datetime(2026, 11, 27, 21, 0)  # Friday evening
    statement = build_statement(Case("handoff"), late)
    assert statement.due == dt.datetime(2026, 11, 30, 8, 5)
    assert "08:05 on Monday 30 November" in how_long(statement)


def test_short_waits_in_minutes() -> None:
    statement = build_statement(Case("invoice_copy", facts={"invoice_id": "INV-1"}), MONDAY)
    assert how_long(statement) == "The invoice should be in your inbox within about 15 minutes (by 10:15)."
    assert "INV-1" in statement.next_step
    assert "the email address on your account" in statement.next_step


def test_stage_specific_failure_mode_comes_first() -> None:
    statement = build_statement(Case("order_cancellation", "before_dispatch", "cancelled"), MONDAY)
    assert statement.what_could_go_wrong.startswith("Your bank takes a few days")


def test_unknown_stage_and_process() -> None:
    with pytest.raises(UnknownStage):
        build_statement(Case("refund", "card", "lost"), MONDAY)
    with pytest.raises(KeyError):
        build_statement(Case("teleport"), MONDAY)
    with pytest.raises(KeyError):
        build_statement(Case("refund", "cheque"), MONDAY)


def test_aware_now_is_converted_to_shop_time() -> None:
    now = dt.datetime(2026, 7, 1, 18, 30, tzinfo=dt.timezone.utc)  # 19:30 in London (BST)
    statement = build_statement(Case("handoff"), now)
    assert statement.due == dt.datetime(2026, 7, 1, 19, 35)


def test_a_promise_from_the_source_system_wins() -> None:
    case = Case("delivery", "standard_domestic", "dispatched", dt.date(2026, 11, 20), promised=dt.date(2026, 11, 25))
    statement = build_statement(case, MONDAY)
    assert statement.due == dt.datetime(2026, 11, 25, 23, 59, 59)
    assert "Wednesday 25 November" in how_long(statement)
    late = build_statement(case, dt.datetime(2026, 11, 27, 9, 0))
    assert late.status is When.OVERDUE


FRIDAY = dt.datetime(2026, 11, 27, 10, 0)  # Friday 27 November 2026


def test_a_promised_weekend_date_is_said_without_a_working_day_count() -> None:
    # the carrier promised Sunday: "0 working days from now" on a Friday would be nonsense
    case = Case("delivery", "standard_domestic", "dispatched", dt.date(2026, 11, 25), promised=dt.date(2026, 11, 29))
    statement = build_statement(case, FRIDAY)
    assert statement.response == "utter_process_statement_by_day"
    assert how_long(statement) == "The parcel should arrive by Sunday 29 November."
    assert "working days from now" not in statement_text(statement)


def test_one_working_day_is_singular_and_many_are_plural() -> None:
    # promised for Monday, said on Friday: one working day away
    monday = Case("delivery", "standard_domestic", "dispatched", dt.date(2026, 11, 25), promised=dt.date(2026, 11, 30))
    statement = build_statement(monday, FRIDAY)
    assert statement.response == "utter_process_statement_by_day_one"
    assert how_long(statement) == "The parcel should arrive by Monday 30 November (1 working day from now)."
    wednesday = Case("delivery", "standard_domestic", "dispatched", dt.date(2026, 11, 25), promised=dt.date(2026, 12, 2))
    assert how_long(build_statement(wednesday, FRIDAY)).endswith("(3 working days from now).")


def test_a_promise_for_today_or_tomorrow_is_said_so() -> None:
    today = Case("delivery", "standard_domestic", "dispatched", dt.date(2026, 11, 25), promised=dt.date(2026, 11, 27))
    assert how_long(build_statement(today, FRIDAY)) == "The parcel should arrive by the end of today."
    saturday = Case("delivery", "standard_domestic", "dispatched", dt.date(2026, 11, 25), promised=dt.date(2026, 11, 28))
    assert how_long(build_statement(saturday, FRIDAY)) == "The parcel should arrive by tomorrow, Saturday 28 November."


@pytest.mark.parametrize("minutes", [1, 2, 45])
def test_minutes_are_counted_in_words_that_fit(minutes: int) -> None:
    from bot.processes.statement import _timing

    progress = assess(Case("handoff"), MONDAY)
    due = MONDAY + dt.timedelta(minutes=minutes)
    timing, values = _timing(
        type(progress)(progress.variant, progress.step_index, progress.status, due), MONDAY, None, default_catalogue().calendar
    )
    assert timing == ("within_a_minute" if minutes == 1 else "within_minutes")
    statement = Statement("handoff", "default", When.PENDING, "Next.", "Risk.", timing, {**values, "outcome": "It is done"})
    text = how_long(statement)
    assert text == ("It is done within about a minute (by 10:01)." if minutes == 1 else f"It is done within about {minutes} minutes (by {values['time']}).")
