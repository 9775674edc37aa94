"""Copy that reads right: counts agree with their nouns, one reference format, honest dates."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.actions_support.privacy import _count
from bot.processes.statement import Case, build_statement

from .conftest import render_response


@pytest.mark.parametrize(("n", "expected"), [(0, "0 orders"), (1, "1 order"), (2, "2 orders")])
def test_counts_agree_with_their_nouns(n: int, expected: str) -> None:
    assert _count(n, "order", "orders") == expected


async def test_data_summary_counts_singular_and_plural() -> None:
    one = {k: _count(1, k[:-1], k) for k in ("orders", "refunds", "invoices")}
    many = {k: _count(3, k[:-1], k) for k in ("orders", "refunds", "invoices")}
    text = await render_response(
        "utter_data_held_counts", {**one, "conversations": _count(1, "past conversation", "past conversations")}
    )
    assert text == "In numbers: 1 order, 1 refund, 1 invoice and 1 past conversation."
    text = await render_response(
        "utter_data_held_counts", {**many, "conversations": _count(3, "past conversation", "past conversations")}
    )
    assert text == "In numbers: 3 orders, 3 refunds, 3 invoices and 3 past conversations."


async def test_open_items_before_closing_an_account_singular_and_plural() -> None:
    assert await render_response("utter_closing_waits_for_one", {}) == (
        "You have 1 open order, return or refund; the account closes once it's finished."
    )
    assert await render_response("utter_closing_waits_for_many", {"n": "2"}) == (
        "You have 2 open orders, returns or refunds; the account closes once they're finished."
    )


@pytest.mark.parametrize(
    ("promised", "expected"),
    [
        (dt.date(2026, 11, 28), "by tomorrow, Saturday 28 November."),
        (dt.date(2026, 11, 29), "by Sunday 29 November."),
        (dt.date(2026, 11, 30), "by Monday 30 November (1 working day from now)."),
        (dt.date(2026, 12, 1), "by Tuesday 1 December (2 working days from now)."),
    ],
)
async def test_delivery_promises_on_a_friday_around_a_weekend(promised: dt.date, expected: str) -> None:
    friday = dt.datetime(2026, 11, 27, 10, 0)
    case = Case("delivery", "standard_domestic", "dispatched", dt.date(2026, 11, 25), promised=promised)
    statement = build_statement(case, friday)
    text = await render_response(statement.response, statement.variables)
    assert f"How long: The parcel should arrive {expected}" in text


async def test_the_data_summary_is_not_said_to_come_from_our_worked_out() -> None:
    text = await render_response("utter_data_use_profile_summary", {})
    assert "from our worked out" not in text and "worked out from the records above" in text
