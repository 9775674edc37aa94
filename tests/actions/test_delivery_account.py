"""Delivery and account actions."""

from __future__ import annotations

import re

import pytest

from actions.account import (
    ActionCheckDeleteAccount,
    ActionCreateAccount,
    ActionEditAccount,
    ActionRecoverPassword,
    ActionRegistrationProblems,
    ActionSwitchAccount,
)
from actions.delivery import (
    ActionChangeShippingAddress,
    ActionConfirmAddressChange,
    ActionDeliveryOptions,
    ActionDeliveryPeriod,
    ActionSetUpShippingAddress,
)
from actions.identity import ActionConfirm, ActionDecline
from bot.actions_support.delivery import country_code

from .helpers import AMELIA, IAN_ORDER, JACK, clean, three_parts, latest_code


@pytest.mark.parametrize(
    ("text", "code"),
    [("France", "FR"), ("the UK", "GB"), ("germany", "DE"), ("USA", "US"), ("de", "DE"), ("Narnia", None), ("", None)],
)
def test_country_names(text: str, code: str | None) -> None:
    assert country_code(text) == code


async def test_delivery_options_for_a_named_country(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("do you deliver to france", "delivery_options", {"delivery_country": "France"})
    messages = await conversation.run(ActionDeliveryOptions())
    clean(messages)
    assert messages == ["Delivery to Europe: standard (7 working days, £9.95) or express (3 working days, £19.95)."]


async def test_delivery_options_from_the_saved_address_say_why(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("what delivery options are there", "delivery_options", metadata=AMELIA)
    messages = await conversation.run(ActionDeliveryOptions())
    clean(messages)
    assert messages[0] == "I'm using your saved address to show the options that apply to you."
    assert messages[1].startswith("Delivery within the UK: standard (4 working days, £3.95)")
    assert any(u.startswith("address_country|") for u in conversation.slots["data_used"])


async def test_delivery_options_anonymous_lists_every_zone(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("delivery options", "delivery_options")
    messages = await conversation.run(ActionDeliveryOptions())
    clean(messages)
    assert "within the UK" in messages[0] and "to Europe" in messages[0] and "outside Europe" in messages[0]


async def test_delivery_period_gives_dates(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("how long to germany", "delivery_period", {"delivery_country": "germany"})
    messages = await conversation.run(ActionDeliveryPeriod())
    clean(messages)
    assert messages == [
        "If you order today, standard delivery to Europe arrives by Wednesday 2 December; "
        "express delivery to Europe arrives by Thursday 26 November."
    ]


async def test_address_change_of_a_dispatched_order_is_a_redirect_after_a_yes(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("change delivery address", "change_shipping_address", metadata=AMELIA)
    messages = await conversation.run(ActionChangeShippingAddress())
    clean(messages)
    assert messages == ["Order 4000000101 is already with DPD, but it can still be redirected to a new address."]
    assert conversation.followup() == "address_form"  # the new address is collected and checked first
    conversation.say("12 High Street, Leeds LS1 4AP", "inform")
    conversation.slots["new_address"] = "12 High Street, Leeds LS1 4AP"
    asked = await conversation.run(ActionConfirmAddressChange())
    assert asked == [
        "If you say yes, I'll ask our delivery team to have order 4000000101 redirected by DPD to: "
        "12 High Street, Leeds LS1 4AP. If DPD can't redirect it, they'll hold it at a local collection "
        "point for 14 days. Shall I go ahead?"
    ]
    conversation.say("yes", "affirm")
    done = await conversation.run(ActionConfirm())
    assert "already with DPD, so I've asked our delivery team to have it redirected (reference R-" in done[0]
    three_parts(done)
    assert conversation.slots["pending_change"] is None


async def test_address_change_of_a_typed_order_number_sends_a_code_first(conversation, outbox) -> None:  # type: ignore[no-untyped-def]
    conversation.say("change address", "change_shipping_address", {"order_id": IAN_ORDER})
    messages = await conversation.run(ActionChangeShippingAddress())
    assert conversation.response_names == ["utter_verification_sent_order_id"]
    assert IAN_ORDER not in " ".join(messages) and conversation.followup() is None
    assert latest_code(outbox)


async def test_set_up_address(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("add a new address", "set_up_shipping_address")
    three_parts(await conversation.run(ActionSetUpShippingAddress()))


async def test_create_account_when_one_exists(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("create an account", "create_account", metadata=AMELIA)
    messages = await conversation.run(ActionCreateAccount())
    assert "You already have an account with us under a***@example.com" in messages[0]


async def test_create_account_anonymous(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("create an account", "create_account")
    three_parts(await conversation.run(ActionCreateAccount()))


async def test_delete_account_confirm_and_decline(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("delete my account", "delete_account", metadata=AMELIA)
    ask = await conversation.run(ActionCheckDeleteAccount())
    clean(ask)
    assert "You have 1 open order, return or refund; the account closes once it's finished." in ask
    assert ask[-1] == "Shall I start closing your account?"
    conversation.say("yes", "affirm")
    done = await conversation.run(ActionConfirm())
    assert re.fullmatch(r"I've started closing your account \(reference R-[0-9A-F]{8}\)\.", done[0])
    three_parts(done)
    conversation.say("delete my account", "delete_account")
    await conversation.run(ActionCheckDeleteAccount())
    conversation.say("no", "deny")
    assert await conversation.run(ActionDecline()) == ["No problem, your account stays open."]


async def test_recover_password_and_registration(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("forgot my password", "recover_password", metadata=AMELIA)
    statement = three_parts(await conversation.run(ActionRecoverPassword()))
    assert "a***@example.com" in statement
    conversation.say("i cant register", "registration_problems")
    messages = await conversation.run(ActionRegistrationProblems())
    assert "You're already registered as a***@example.com" in messages[0]


async def test_edit_account_points_at_stale_details(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("update my details", "edit_account", metadata=JACK)
    messages = await conversation.run(ActionEditAccount())
    clean(messages)
    assert "Your address and phone number have not been updated for a long time" in messages[1]


async def test_switch_account(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("switch to business", "switch_account", metadata=AMELIA)
    messages = await conversation.run(ActionSwitchAccount())
    clean(messages)
    assert messages[0] == "You have a consumer account."
