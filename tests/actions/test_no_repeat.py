"""Never ask for something the conversation or the profile already holds.

Multi-intent conversations are driven the way Rasa would drive them: a form
first runs its validation action (which pre-fills from the profile) and asks
its question only if the slot is still empty; then the business action runs.
The test fails if any question is asked twice, or if a question asks for
something that was already known.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from actions.billing import ActionGetInvoice
from actions.delivery import ActionDeliveryPeriod
from actions.forms import (
    ValidateCancelOrderForm,
    ValidateGetInvoiceForm,
    ValidateGetRefundForm,
    ValidateTrackOrderForm,
    ValidateTrackRefundForm,
)
from actions.identity import ActionDecline, ActionIdentifyCustomer
from actions.orders import ActionCheckCancelOrder, ActionTrackOrder
from actions.privacy import ActionForgetMe, ActionMyDataRequest, ActionWhyMyData
from actions.refunds import ActionGetRefund, ActionTrackRefund

from .conftest import Conversation
from .helpers import AMELIA, type_code

FORMS = {
    "track_order_form": (ValidateTrackOrderForm, "order_id"),
    "cancel_order_form": (ValidateCancelOrderForm, "order_id"),
    "get_refund_form": (ValidateGetRefundForm, "order_id"),
    "track_refund_form": (ValidateTrackRefundForm, "order_id"),
    "get_invoice_form": (ValidateGetInvoiceForm, "invoice_id"),
}


async def form(conv: Conversation, name: str, answer: tuple[str, dict[str, str]] | None = None) -> bool:
    """Run a form's activation; return whether it had to ask (then answer with ``answer``)."""
    validator, slot = FORMS[name]
    await conv.run(validator())
    if conv.slots.get(slot):
        return False
    ask = conv.domain["responses"][f"utter_ask_{name}_{slot}"][0]["text"]
    conv.bot_messages.append(ask)
    if answer is not None:
        text, entities = answer
        conv.say(text, "inform", entities)
        await conv.run(validator())
    return True


def questions(messages: list[str]) -> list[str]:
    found = []
    for message in messages:
        for sentence in re.split(r"(?<=[.!?])\s+|\n", message):
            if sentence.strip().endswith("?"):
                found.append(sentence.strip())
    return found


def assert_no_repeats(conv: Conversation) -> None:
    asked = Counter(questions(conv.bot_messages))
    repeated = {q: n for q, n in asked.items() if n > 1}
    assert not repeated, repeated


async def test_identified_customer_is_never_asked_anything_known(domain: dict[str, Any], services) -> None:  # type: ignore[no-untyped-def]
    conv = Conversation(domain)
    conv.say("where's my parcel", "track_order", metadata=AMELIA)
    assert not await form(conv, "track_order_form")  # the only open order
    await conv.run(ActionTrackOrder())
    conv.say("can i cancel it", "cancel_order", metadata=AMELIA)
    assert not await form(conv, "cancel_order_form")  # the order we are talking about
    await conv.run(ActionCheckCancelOrder())
    conv.say("no", "deny")
    await conv.run(ActionDecline())
    conv.say("send me the invoice for it", "get_invoice")
    assert not await form(conv, "get_invoice_form")  # the invoice of that order
    await conv.run(ActionGetInvoice())
    conv.say("how long does delivery take", "delivery_period")
    await conv.run(ActionDeliveryPeriod())
    conv.say("why do you know all this", "why_my_data")
    await conv.run(ActionWhyMyData())
    conv.say("what do you hold about me", "my_data_request")
    await conv.run(ActionMyDataRequest())
    assert "utter_ask_identifier" not in conv.response_names
    courtesy = "Is there anything else I can help with?"
    # the only questions: the yes a data export waits for (no change without confirmation)
    asked = [q for q in questions(conv.bot_messages) if q != courtesy]
    assert all("If you say yes" in q or "Would you like a full copy" in q for q in asked), asked
    assert_no_repeats(conv)


async def test_unknown_customer_is_asked_once_and_each_question_only_once(domain: dict[str, Any], services, outbox) -> None:  # type: ignore[no-untyped-def]
    conv = Conversation(domain)
    conv.say("please delete my data", "forget_me")
    await conv.run(ActionForgetMe())
    conv.say("emma.wilson@example.org", "inform", {"email": "emma.wilson@example.org"})
    await conv.run_and_follow(ActionIdentifyCustomer())
    await type_code(conv, outbox)  # the address is proved with the code sent to it
    conv.say("where is my order", "track_order")
    assert not await form(conv, "track_order_form")  # the one recent delivery
    await conv.run(ActionTrackOrder())
    conv.say("i want a refund", "get_refund")
    # the refund could be for any of three deliveries: one question, answered once
    await form(conv, "get_refund_form", ("the first one, 4000000501", {"order_id": "4000000501"}))
    await conv.run(ActionGetRefund())
    conv.say("and where is my refund", "track_refund")
    assert not await form(conv, "track_refund_form")
    await conv.run(ActionTrackRefund())
    conv.say("what do you hold about me", "my_data_request")
    await conv.run(ActionMyDataRequest())
    conv.say("why my data", "why_my_data")
    await conv.run(ActionWhyMyData())
    assert conv.response_names.count("utter_ask_identifier") == 1
    assert_no_repeats(conv)
