"""The words the escalation policy, the actions and the handoff service share, defined once.

Topics (one queue per topic), the intent → topic map, the reasons whose queue is fixed, and
the names of the slots that carry an escalation from the policy to ``action_handoff`` and the
customer's identity to both. The slot names are not options: the domain declares exactly these
slots (``domain/core.yml``, ``domain/handoff.yml``) and every reader imports them from here.
"""

from __future__ import annotations

import enum
from typing import Iterable, Mapping


class Topic(str, enum.Enum):
    """Queues of the handoff service, one per skill; the policy's ``escalation_topic`` values."""

    ORDERS = "orders"
    REFUNDS_BILLING = "refunds_billing"
    ACCOUNT = "account"
    COMPLAINTS = "complaints"
    GENERAL = "general"

    @classmethod
    def parse(cls, value: object) -> "Topic":
        """Unknown or empty topics go to the general queue rather than being lost."""
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            return cls.GENERAL


TOPICS: tuple[str, ...] = tuple(t.value for t in Topic)
GENERAL_TOPIC = Topic.GENERAL.value

#: the business intents of each topic (the domain's intents; the last understood one decides)
TOPIC_INTENTS: Mapping[str, tuple[str, ...]] = {
    Topic.ORDERS.value: (
        "track_order", "cancel_order", "change_order", "place_order",
        "delivery_options", "delivery_period",
        "change_shipping_address", "set_up_shipping_address",
    ),
    Topic.REFUNDS_BILLING.value: (
        "check_refund_policy", "get_refund", "track_refund",
        "check_invoice", "get_invoice",
        "check_payment_methods", "payment_issue", "check_cancellation_fee",
    ),
    Topic.ACCOUNT.value: (
        "create_account", "delete_account", "edit_account", "recover_password",
        "registration_problems", "switch_account", "newsletter_subscription",
        "why_my_data", "personalization_opt_out", "my_data_request", "forget_me",
    ),
    Topic.COMPLAINTS.value: ("complaint", "review"),
}

#: escalation reasons whose queue does not depend on the conversation's subject
REASON_TOPICS: Mapping[str, str] = {"legal_threat": Topic.COMPLAINTS.value, "priority_complaint": Topic.COMPLAINTS.value}

#: the handoff conversation's reason when nobody recorded one
EXPLICIT_REQUEST_REASON = "explicit_request: The customer asked to speak to a person."
UNSPECIFIED_REASON = "unspecified: The conversation was handed to an agent without a recorded reason."


def topic_by_intent(topic_intents: Mapping[str, Iterable[str]] = TOPIC_INTENTS) -> dict[str, str]:
    """``intent -> topic`` from a ``topic -> intents`` map."""
    return {intent: topic for topic, intents in topic_intents.items() for intent in intents}


def topic_for_intents(intents: Iterable[str | None]) -> Topic:
    """The topic of the most recent business intent in ``intents`` (newest first); general if none."""
    by_intent = topic_by_intent()
    for intent in intents:
        if intent in by_intent:
            return Topic(by_intent[intent])
    return Topic.GENERAL


class Slot:
    """Names of the slots more than one part of tandem reads or writes."""

    ESCALATION_REASON = "escalation_reason"
    ESCALATION_TOPIC = "escalation_topic"
    HANDOFF_REQUEST = "handoff_request"
    CUSTOMER_ID = "customer_id"
    CUSTOMER_NAME = "customer_name"
    CUSTOMER_SEGMENTS = "customer_segments"
    CUSTOMER_FLAGS = "customer_flags"
    DATA_UNAVAILABLE = "data_unavailable"


#: slots cleared when an agent hands the conversation back, so the next escalation starts fresh
HANDOFF_SLOTS: tuple[str, ...] = (Slot.HANDOFF_REQUEST, Slot.ESCALATION_REASON, Slot.ESCALATION_TOPIC)


#: message metadata naming the messaging connector a message came in on (``"twilio"``,
#: ``"facebook"``...). Set only by tandem's subclasses of Rasa's connectors
#: (``bot/channels/messaging.py``), because Rasa runs ``action_session_start`` before the message
#: (and its input channel) is in the tracker; the channel guard drops it from what REST callers
#: send, and the socket.io channel never accepts it, so a caller cannot claim a phone's identity.
MESSAGING_CHANNEL_METADATA_KEY = "messaging_channel"
