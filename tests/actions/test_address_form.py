"""The new delivery address: checked before the bot asks to deliver anywhere."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import ValidateAddressForm
from bot.actions_support.address import check_address

from .helpers import AMELIA, AMELIA_ORDER


@pytest.mark.parametrize(
    ("text", "country", "problem"),
    [
        ("12 High Street, Leeds LS1 4AP", "GB", None),
        ("flat 3, 27 Mill Lane, Bristol bs1 5tr", "GB", None),
        ("Hauptstrasse 5, 10115 Berlin", "DE", None),
        ("1600 Pennsylvania Ave, Washington 20500-0003", "US", None),
        ("Keizersgracht 1, 1015 CJ Amsterdam", "NL", None),
        ("12 High Street, Leeds", "GB", "postcode"),
        ("what's the address on my account?", "GB", "postcode"),
        ("LS1 4AP", "GB", "no_street"),
        ("   ", "GB", "empty"),
        (None, "GB", "empty"),
        ("x" * 201 + " LS1 4AP", "GB", "too_long"),
        ("5 Rue de la Paix, Paris", "FR", "postcode"),
        ("Main Road 4, Springfield A1B-22", None, None),  # unknown country: a generic postcode
    ],
)
def test_check_address(text: object, country: str | None, problem: str | None) -> None:
    checked = check_address(text, country)
    assert checked.ok is (problem is None) and checked.problem == problem, checked


def test_the_check_is_linear_on_long_input() -> None:
    import time

    started = time.perf_counter()
    check_address("a1 " * 60_000, "GB")
    check_address("1" * 200_000, None)
    assert time.perf_counter() - started < 2.0


async def test_the_form_checks_against_the_orders_country(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("12 High Street, Leeds", "inform", metadata=AMELIA)
    conversation.slots["order_id"] = AMELIA_ORDER
    conversation.slots["requested_slot"] = "new_address"
    conversation.slots["new_address"] = "12 High Street, Leeds"  # what Rasa's from_text mapping fills
    conversation.events.append({"event": "slot", "name": "new_address", "value": "12 High Street, Leeds"})
    tracker = conversation.tracker()
    tracker.active_loop = {"name": "address_form"}
    dispatcher = CollectingDispatcher()
    events = await ValidateAddressForm().run(dispatcher, tracker, conversation.domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_address_invalid_postcode"]
    assert {"event": "slot", "timestamp": None, "name": "new_address", "value": None} in events
    # with the postcode it is taken as typed
    conversation.say("12 High Street, Leeds LS1 4AP", "inform", metadata=AMELIA)
    conversation.slots["new_address"] = "12 High Street, Leeds LS1 4AP"
    conversation.events.append({"event": "slot", "name": "new_address", "value": "12 High Street, Leeds LS1 4AP"})
    tracker = conversation.tracker()
    tracker.active_loop = {"name": "address_form"}
    events = await ValidateAddressForm().run(CollectingDispatcher(), tracker, conversation.domain)
    assert {"event": "slot", "timestamp": None, "name": "new_address", "value": "12 High Street, Leeds LS1 4AP"} in events
