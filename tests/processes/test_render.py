"""The template renderer never shows a placeholder, None or template syntax."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bot.processes.render import (
    TemplateSyntaxError,
    format_money,
    is_missing,
    join_words,
    placeholder_problems,
    render,
)


@pytest.mark.parametrize("value", [None, "", "  ", "None", "null", "NaN", "undefined", [], {}, [None, ""], float("nan")])
def test_missing_values(value: object) -> None:
    assert is_missing(value)


@pytest.mark.parametrize("value", [0, False, "Ann", ["a"], Decimal("0"), dt.date(2026, 1, 1)])
def test_present_values(value: object) -> None:
    assert not is_missing(value)


def test_required_field_drops_only_its_sentence() -> None:
    template = "Hi! Your order {order_id} is on its way. It goes with {carrier|the carrier}."
    assert render(template, {}) == "Hi! It goes with the carrier."
    assert render(template, {"order_id": "A-1", "carrier": "DPD"}) == (
        "Hi! Your order A-1 is on its way. It goes with DPD."
    )


def test_optional_segment() -> None:
    template = "Hello[[ {first_name}]], how can I help?"
    assert render(template, {"first_name": "Ann"}) == "Hello Ann, how can I help?"
    assert render(template, {"first_name": None}) == "Hello, how can I help?"
    assert render(template, {"first_name": "None"}) == "Hello, how can I help?"


def test_dear_first_name_never_appears() -> None:
    out = render("Dear[[ {first_name}]],\nyour refund is approved.", {})
    assert out == "Dear,\nyour refund is approved."
    assert placeholder_problems(out) == []


def test_values_cannot_inject_template_syntax() -> None:
    out = render("Name: {name}.", {"name": "<<FIRST NAME>> {x}"})
    assert placeholder_problems(out) == []
    assert out == "Name: FIRST NAME x."


def test_everything_missing_gives_default() -> None:
    assert render("Your order {order_id}.", {}, default="I couldn't find that.") == "I couldn't find that."


def test_value_formatting() -> None:
    out = render(
        "Due {due}; items {items}; paid {paid}; amount {amount}.",
        {"due": dt.date(2026, 11, 26), "items": ["shoes", "socks", "hat"], "paid": True, "amount": 12.5},
    )
    assert out == "Due Thursday 26 November; items shoes, socks and hat; paid yes; amount 12.5."


def test_lines_are_kept_and_empty_lines_dropped() -> None:
    out = render("First {a}.\nSecond {b}.\nThird.", {"b": "x"})
    assert out == "Second x.\nThird."


@pytest.mark.parametrize("template", ["Hello {name", "Hello name}", "[[ unclosed", "{}"])
def test_malformed_templates_are_programming_errors(template: str) -> None:
    with pytest.raises(TemplateSyntaxError):
        render(template, {"name": "x"})


def test_join_words_and_money() -> None:
    assert join_words([]) == ""
    assert join_words(["a"]) == "a"
    assert join_words(["a", None, "b"]) == "a and b"
    assert join_words(["a", "b", "c"], "or") == "a, b or c"
    assert format_money(Decimal("12.5"), "GBP") == "£12.50"
    assert format_money(3, "EUR") == "€3"
    assert format_money("1234.5", "CHF") == "1,234.50 CHF"
    assert format_money("-2", "GBP") == "-£2"


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("All fine.", []),
        ("Hi {name}", ["{", "}"]),
        ("Dear <<FIRST NAME>>", ["<<", ">>"]),
        ("Your order None", ["None"]),
        ("Nonetheless fine", []),
    ],
)
def test_placeholder_problems(text: str, problems: list[str]) -> None:
    assert placeholder_problems(text) == problems
