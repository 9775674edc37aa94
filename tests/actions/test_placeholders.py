"""Template safety: no response or action message ever shows a placeholder, None, "{" or "<<".

Every response of the domain is rendered by Rasa's own NLG with no slots and
with every slot filled; every action runs for an anonymous customer with no
slots, for a customer with a full profile and every slot filled, and with
slots holding the "nothing" values silos produce ("None", "", "null").
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from bot.processes.render import placeholder_problems
from bot.settings import ROOT

from .conftest import Conversation
from .helpers import AMELIA, CHLOE, all_actions

ACTIONS = all_actions()
FULL_SLOTS: dict[str, Any] = {
    "order_id": "4000000101",
    "invoice_id": "INV-0000001",
    "refund_amount": "£59.99",
    "account_type": "business",
    "delivery_city": "Leeds",
    "delivery_country": "France",
    "person_name": "Amelia Hart",
    "email": "amelia.hart@example.com",
    "phone": "+447700900101",
    "feedback_text": "The parcel was late.",
    "cancel_confirmation": "4000000101",
    "delete_confirmation": True,
    "data_used": ["your orders (from our orders and payments system), to find your parcel"],
    "pending_action": "action_track_order",
    "identity_asked": True,
    "escalation_reason": "customer asked for a person",
    "escalation_topic": "orders",
}
NOTHING_SLOTS: dict[str, Any] = {name: "None" for name in ("order_id", "invoice_id", "delivery_country", "email", "customer_name", "feedback_text")} | {
    "data_used": ["", None],
    "customer_segments": [],
}


def _domain():  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"the load_module\(\) method is deprecated")
        from rasa.shared.core.domain import Domain

        return Domain.load(str(ROOT / "domain"))


async def test_every_domain_response_renders_cleanly_with_and_without_slots() -> None:
    """Responses without variables render cleanly whatever the slots hold; a response with
    variables renders cleanly once they are given (which variables each action passes, and
    that they are never missing, is what the next test proves by running every action)."""
    import re

    from rasa.core.channels.channel import OutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.events import SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = _domain()
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    empty = DialogueStateTracker.from_events("empty", [], domain.slots)
    full = DialogueStateTracker.from_events(
        "full",
        [SlotSet(s.name, FULL_SLOTS.get(s.name, "x")) for s in domain.slots if s.name in FULL_SLOTS or s.type_name == "text"],
        domain.slots,
    )
    assert domain.responses, "no responses found"
    for name, variations in domain.responses.items():
        names = {m for v in variations for m in re.findall(r"\{([^{}\n]+)\}", v.get("text") or "")}
        variables = {n: "value" for n in names}
        for tracker in (empty, full):
            message = await nlg.generate(name, tracker, OutputChannel.name(), **variables)
            assert message and message.get("text"), name
            assert placeholder_problems(message["text"]) == [], (name, message["text"])


@pytest.mark.parametrize("name", sorted(ACTIONS))
@pytest.mark.parametrize("case", ["anonymous-empty", "full-profile-full-slots", "full-profile-nothing-slots", "sensitive-profile"])
async def test_every_action_message_is_clean(domain, services, name: str, case: str) -> None:  # type: ignore[no-untyped-def]
    conv = Conversation(domain)
    metadata: dict[str, Any] = {}
    if case == "full-profile-full-slots":
        conv.slots.update(FULL_SLOTS)
        metadata = AMELIA
    elif case == "full-profile-nothing-slots":
        conv.slots.update(NOTHING_SLOTS)
        metadata = AMELIA
    elif case == "sensitive-profile":
        conv.input_channel, conv.sender_id = "whatsapp", "+447700900104"
        metadata = CHLOE if name.endswith("complaint") else {}
    conv.say("hello", "inform", metadata=metadata)
    messages = await conv.run(ACTIONS[name]())
    assert messages or name == "action_followup", name  # a follow-up with nothing to say stays silent
    for message in messages:
        assert placeholder_problems(message) == [], (name, message)
        assert "<<" not in message and "None" not in message
