"""The three silent questions, for every process, variant and step."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.processes.catalogue import When, default_catalogue
from bot.processes.render import placeholder_problems
from bot.processes.statement import Case, UnknownStage, assess, build_statement

MONDAY = dt.datetime(2026, 11, 23, 10, 0)  # Monday 23 November 2026, 10:00 shop time

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
    assert len(statement.parts) == 3
    for part in statement.parts:
        assert part.strip(), (process, variant, stage)
        assert placeholder_problems(part) == [], part
        assert part.rstrip()[-1] in ".!?", part
    text = statement.text()
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
    assert statement.how_long == (
        "The money should be back on your card by Friday 27 November (4 working days from now)."
    )
    assert statement.next_step == "We send the money back to the card you paid with."
    assert statement.what_could_go_wrong.startswith("The card has expired")


def test_bank_transfer_sent_today_is_due_thursday() -> None:
    statement = build_statement(Case("refund", "bank_transfer", "sent"), MONDAY)
    assert "by Thursday 26 November (3 working days from now)" in statement.how_long


def test_weekend_and_holidays_are_skipped() -> None:
    # store credit approved on Christmas Eve (Thursday): 1 working day -> Tuesday 29 December
    statement = build_statement(
        Case("refund", "store_credit", "approved", dt.date(2026, 12, 24)), dt.datetime(2026, 12, 24, 9, 0)
    )
    assert statement.due == dt.datetime(2026, 12, 29, 23, 59, 59)
    assert "Tuesday 29 December" in statement.how_long


def test_overdue_case_says_so_and_uses_the_overdue_remedy() -> None:
    case = Case("refund", "card", "approved", dt.date(2026, 11, 2), {})
    progress = assess(case, MONDAY)
    assert progress.status is When.OVERDUE
    assert progress.overdue_business_days > 0
    statement = build_statement(case, MONDAY)
    assert "overdue" in statement.how_long
    assert "Monday 9 November" in statement.what_could_go_wrong
    assert "refund not received" in statement.what_could_go_wrong


def test_finished_case() -> None:
    statement = build_statement(Case("refund", "paypal", "paid", dt.date(2026, 11, 19)), MONDAY)
    assert statement.status is When.DONE
    assert statement.due is None
    assert statement.how_long == "Nothing more to wait for: it was finished on Thursday 19 November."


def test_handoff_out_of_hours_waits_for_opening() -> None:
    late = dt.datetime(2026, 11, 27, 21, 0)  # Friday evening
    statement = build_statement(Case("handoff"), late)
    assert statement.due == dt.datetime(2026, 11, 30, 8, 5)
    assert "08:05 on Monday 30 November" in statement.how_long


def test_short_waits_in_minutes() -> None:
    statement = build_statement(Case("invoice_copy", facts={"invoice_id": "INV-1"}), MONDAY)
    assert statement.how_long == "The invoice should be in your inbox within about 15 minutes (by 10:15)."
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
    assert "Wednesday 25 November" in statement.how_long
    late = build_statement(case, dt.datetime(2026, 11, 27, 9, 0))
    assert late.status is When.OVERDUE
