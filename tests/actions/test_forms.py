"""Form validation: pre-fill from the profile, verify what an identified customer gives."""

from __future__ import annotations

from actions.forms import ValidateGetInvoiceForm, ValidateTrackOrderForm
from actions.identity import ActionIdentifyCustomer
from actions.orders import ActionTrackOrder

from .helpers import AMELIA, AMELIA_ORDER, CHLOE, IAN_ORDER, type_code


async def test_the_only_open_order_is_prefilled(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("where is my order", "track_order", metadata=AMELIA)
    await conversation.run(ValidateTrackOrderForm())
    assert conversation.slots["order_id"] == AMELIA_ORDER


async def test_nothing_is_prefilled_when_it_is_not_obvious(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("where is my order", "track_order", metadata=CHLOE)  # five old deliveries
    await conversation.run(ValidateTrackOrderForm())
    assert conversation.slots["order_id"] is None


async def test_an_identified_customers_wrong_number_is_caught_at_once(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("it's 4000000999", "inform", {"order_id": "4000000999"}, metadata=AMELIA)
    messages = await conversation.run(ValidateTrackOrderForm())
    assert messages == [
        "I can't find order 4000000999 on your account. Please check the number in your order confirmation e-mail (8 to 12 digits)."
    ]
    assert conversation.slots["order_id"] is None


async def test_an_unknown_customers_number_is_left_to_the_action(conversation, outbox) -> None:  # type: ignore[no-untyped-def]
    conversation.say("it's 40512398", "inform", {"order_id": "40512398"})
    assert await conversation.run(ValidateTrackOrderForm()) == []
    assert conversation.slots["order_id"] == "40512398"
    await conversation.run(ActionTrackOrder())
    assert conversation.response_names == ["utter_verification_sent_order_id"]  # no hint it matched nothing
    assert conversation.slots["pending_action"] == "action_track_order"
    # the corrected number gets a code; the code resumes the request without asking again
    conversation.say(f"sorry, it's {IAN_ORDER}", "inform", {"order_id": IAN_ORDER})
    await conversation.run_and_follow(ActionIdentifyCustomer())
    assert conversation.response_names[-1] == "utter_verification_sent_order_id"
    resumed = await type_code(conversation, outbox)
    assert resumed[0] == "Thanks, Ian, that's confirmed."
    assert any("is being prepared in our warehouse" in m for m in resumed)
    assert conversation.slots["pending_action"] is None


async def test_invoice_is_prefilled_from_the_order_in_question(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.slots["order_id"] = "4000000102"
    conversation.say("i need the invoice", "get_invoice", metadata=AMELIA)
    await conversation.run(ValidateGetInvoiceForm())
    assert conversation.slots["invoice_id"] == "INV-0000002"
