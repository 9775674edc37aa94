"""bot.action_fallback without a server: the handoff it makes is one the handoff service reads."""

from __future__ import annotations

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from bot.action_fallback import action_timeout_s, handoff_request
from bot.handoff.models import HandoffRequest
from bot.settings import ROOT


def test_the_handoff_request_made_without_the_action_server_is_read_by_the_handoff_service() -> None:
    domain = Domain.load(str(ROOT / "domain"))
    tracker = DialogueStateTracker.from_events(
        "whatsapp:+447700900199",
        [SlotSet("customer_id", "C1000003"), SlotSet("escalation_topic", "orders")],
        slots=domain.slots,
    )
    value = handoff_request(tracker)
    request = HandoffRequest.from_slot(value, tracker.sender_id)
    assert request.handoff_id == value["handoff_id"] and request.sender_id == "whatsapp:+447700900199"
    assert request.customer_id == "C1000003" and request.topic.value == "orders"
    assert request.to_slot()["mode"] == value["mode"]


def test_the_action_timeout_is_configurable_and_sane() -> None:
    assert action_timeout_s({}) == 20.0
    assert action_timeout_s({"TANDEM_ACTION_TIMEOUT_S": "3"}) == 3.0
    assert action_timeout_s({"TANDEM_ACTION_TIMEOUT_S": "soon"}) == 20.0
    assert action_timeout_s({"TANDEM_ACTION_TIMEOUT_S": "-1"}) == 20.0
