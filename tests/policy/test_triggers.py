"""Every trigger of the escalation policy, on real Rasa trackers and the real domain.

Each test builds the conversation as Rasa records it and asks the policy
component itself (``predict_action_probabilities``) what to do next; a firing
policy must predict ``action_handoff`` with confidence 1.0 and carry the reason
and topic as ``SlotSet`` events.
"""

from __future__ import annotations

from typing import Any

import pytest
from rasa.core.policies.policy import PolicyPrediction
from rasa.shared.core.constants import REQUESTED_SLOT
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    SlotSet,
    UserUtteranceReverted,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.policy.escalation import EscalationPolicy
from tests.policy.helpers import bot, predicted_action, tracker_of, user


def predict(policy: EscalationPolicy, domain: Domain, tracker: DialogueStateTracker) -> PolicyPrediction:
    return policy.predict_action_probabilities(tracker, domain)


def slot_events(prediction: PolicyPrediction) -> dict[str, Any]:
    return {e.key: e.value for e in prediction.optional_events if isinstance(e, SlotSet)}


def assert_handoff(
    policy: EscalationPolicy,
    domain: Domain,
    tracker: DialogueStateTracker,
    reason: str,
    topic: str,
) -> PolicyPrediction:
    prediction = predict(policy, domain, tracker)
    assert predicted_action(domain, prediction.probabilities) == "action_handoff"
    assert max(prediction.probabilities) == 1.0
    assert prediction.policy_priority > 6, "must beat RulePolicy (priority 6)"
    slots = slot_events(prediction)
    code, _, sentence = slots["escalation_reason"].partition(": ")
    assert code == reason, slots["escalation_reason"]
    assert sentence, "the reason carries a human-readable sentence"
    assert slots["escalation_topic"] == topic
    assert prediction.action_metadata["escalation"]["reason"] == reason
    assert prediction.action_metadata["escalation"]["topic"] == topic
    return prediction


def asked_form(form: str, slot: str) -> list:
    """The bot's turn that activates a form and asks for its slot."""
    return [ActionExecuted(form), ActiveLoop(form), SlotSet(REQUESTED_SLOT, slot)]


def rejected_answer(form: str, slot: str) -> list:
    """The form validated the answer away and asked for the same slot again."""
    return [ActionExecuted(form), SlotSet(slot, None), SlotSet(REQUESTED_SLOT, slot)]


# (a) explicit request --------------------------------------------------------


def test_explicit_request_hands_over_at_once(policy, domain) -> None:
    tracker = tracker_of(domain, user("I want to talk to a human", "contact_human_agent"))
    prediction = assert_handoff(policy, domain, tracker, "explicit_request", "general")
    assert slot_events(prediction)["escalation_reason"] == (
        "explicit_request: the customer asked for a human agent"
    )


def test_explicit_request_takes_topic_from_the_earlier_business_intent(policy, domain) -> None:
    tracker = tracker_of(
        domain,
        user("where is my refund", "track_refund"),
        bot("utter_ok"),
        user("let me speak to an agent", "contact_human_agent"),
    )
    assert_handoff(policy, domain, tracker, "explicit_request", "refunds_billing")


@pytest.mark.parametrize(
    "text",
    # The bot's own fallback message says: just say "agent".
    ["agent", "Human!", "get me a real person", "I want to talk to someone", "put me through to a manager"],
)
def test_explicit_request_by_words_when_nlu_missed_it(policy, domain, text: str) -> None:
    tracker = tracker_of(domain, user(text, "out_of_scope", 0.7))
    assert_handoff(policy, domain, tracker, "explicit_request", "general")


# (b) understanding ------------------------------------------------------------


def test_two_nlu_fallbacks_in_a_row(policy, domain) -> None:
    tracker = tracker_of(
        domain,
        user("blorp the zibble", "nlu_fallback", 0.5),
        bot("utter_ask_rephrase"),
        user("zibble blorp!!", "nlu_fallback", 0.5),
    )
    prediction = assert_handoff(policy, domain, tracker, "repeated_fallback", "general")
    assert slot_events(prediction)["escalation_reason"] == (
        "repeated_fallback: 2 messages in a row were not understood"
    )


def test_two_low_confidence_turns_in_a_row(policy, domain) -> None:
    tracker = tracker_of(
        domain,
        user("the thing with the stuff", "change_order", 0.31),
        bot("utter_ask_rephrase"),
        user("you know the stuff", "place_order", 0.22),
    )
    assert_handoff(policy, domain, tracker, "repeated_fallback", "general")


def test_low_confidence_threshold_is_configurable(make_policy, domain) -> None:
    strict = make_policy(low_confidence_threshold=0.9)
    strict.train([], domain)
    tracker = tracker_of(
        domain,
        user("order", "track_order", 0.85),
        bot("utter_ok"),
        user("order please", "track_order", 0.8),
    )
    assert_handoff(strict, domain, tracker, "repeated_fallback", "general")


def test_core_fallback_twice_then_human_on_next_message(policy, domain) -> None:
    # action_default_fallback reverts the message; the customer still had a failed turn.
    tracker = tracker_of(
        domain,
        user("can u do the thing for my order", "track_order", 0.6),
        bot("action_default_fallback"),
        [UserUtteranceReverted()],
        user("the order thing", "change_order", 0.55),
        bot("action_default_fallback"),
        [UserUtteranceReverted()],
        user("where is my order", "track_order", 0.9),
    )
    assert_handoff(policy, domain, tracker, "failed_turns", "orders")


def test_mixed_failures_hand_over_on_the_second(policy, domain) -> None:
    tracker = tracker_of(
        domain,
        user("refund status", "track_refund", 0.9),
        bot("action_default_fallback"),
        [UserUtteranceReverted()],
        user("thank you", "thank"),
        bot("utter_you_are_welcome"),
        user("gnarf", "nlu_fallback", 0.5),
    )
    assert_handoff(policy, domain, tracker, "failed_turns", "refunds_billing")


# (c) loops -------------------------------------------------------------------


def test_same_intent_three_times_in_a_row(policy, domain) -> None:
    tracker = tracker_of(
        domain,
        user("where is my parcel", "track_order"),
        bot("utter_ok"),
        user("but where is my parcel", "track_order"),
        bot("utter_ok"),
        user("WHERE IS MY PARCEL", "track_order"),
    )
    prediction = assert_handoff(policy, domain, tracker, "intent_loop", "orders")
    assert "track_order 3 times" in slot_events(prediction)["escalation_reason"]


def test_form_rejecting_the_answer_twice(policy, domain) -> None:
    tracker = tracker_of(
        domain,
        user("where is my order", "track_order"),
        asked_form("track_order_form", "order_id"),
        user("the blue one", "affirm", 0.8),
        rejected_answer("track_order_form", "order_id"),
        user("the one from tuesday", "affirm", 0.8),
        rejected_answer("track_order_form", "order_id"),
        user("i told you, tuesday", "affirm", 0.8),
    )
    prediction = assert_handoff(policy, domain, tracker, "form_loop", "orders")
    assert "'track_order_form'" in slot_events(prediction)["escalation_reason"]
    # The form is deactivated with the handoff, so it does not ask again after hand-back.
    assert ActiveLoop(None) in prediction.optional_events
    # And the handoff wins over RulePolicy's form happy path (a "no user" prediction).
    assert prediction.is_no_user_prediction


def test_form_execution_rejected_twice(policy, domain) -> None:
    tracker = tracker_of(
        domain,
        user("i need my invoice", "get_invoice"),
        asked_form("get_invoice_form", "invoice_id"),
        user("why do you need that", "out_of_scope", 0.9),
        [ActionExecutionRejected("get_invoice_form")],
        bot("utter_out_of_scope", "get_invoice_form"),
        [SlotSet(REQUESTED_SLOT, "invoice_id")],
        user("no idea", "out_of_scope", 0.9),
        [ActionExecutionRejected("get_invoice_form")],
        bot("utter_out_of_scope", "get_invoice_form"),
        [SlotSet(REQUESTED_SLOT, "invoice_id")],
        user("hmm", "affirm", 0.7),
    )
    assert_handoff(policy, domain, tracker, "form_loop", "refunds_billing")


# (d) frustration ---------------------------------------------------------------


def test_offensive_language(policy, domain) -> None:
    tracker = tracker_of(domain, user("where the fuck is my order", "track_order"))
    assert_handoff(policy, domain, tracker, "offensive_language", "orders")


@pytest.mark.parametrize(
    "text",
    ["this is useless", "you're not helping", "what a stupid bot", "this is a waste of my time"],
)
def test_frustrated_phrases(policy, domain, text: str) -> None:
    tracker = tracker_of(domain, user(text, "out_of_scope", 0.8))
    assert_handoff(policy, domain, tracker, "frustration", "general")


def test_repeated_deny(policy, domain) -> None:
    tracker = tracker_of(
        domain,
        user("cancel my order", "cancel_order"),
        bot("utter_ok"),
        user("no", "deny"),
        bot("utter_anything_else"),
        user("no!", "deny"),
    )
    assert_handoff(policy, domain, tracker, "repeated_deny", "orders")


def test_frustration_word_lists_are_configuration(make_policy, domain) -> None:
    custom = make_policy(frustration_patterns=[r"\bgrr+\b"])
    custom.train([], domain)
    assert_handoff(custom, domain, tracker_of(domain, user("grrr", "out_of_scope")), "frustration", "general")
    assert predict(custom, domain, tracker_of(domain, user("this is useless", "out_of_scope"))).max_confidence == 0


# (e) business rules ---------------------------------------------------------------


def test_open_complaint_of_a_high_value_customer(policy, domain) -> None:
    tracker = tracker_of(
        domain,
        [SlotSet("customer_segments", ["high_value", "open_complaint", "newsletter"])],
        user("my complaint is still not solved", "complaint"),
    )
    prediction = assert_handoff(policy, domain, tracker, "priority_complaint", "complaints")
    assert "high_value, open_complaint" in slot_events(prediction)["escalation_reason"]


def test_sensitive_circumstance_flag(policy, domain) -> None:
    tracker = tracker_of(
        domain,
        user("hi", "greet"),
        # set by the identification action from the unified profile
        [SlotSet("customer_flags", ["sensitive_circumstance"])],
        bot("utter_greet"),
        user("I need to cancel my late husband's order", "cancel_order"),
    )
    assert_handoff(policy, domain, tracker, "sensitive_circumstance", "orders")


@pytest.mark.parametrize(
    "text",
    [
        "I'm going to sue you",
        "my lawyer will hear about this",
        "I will take legal action",
        "I'm writing to the ombudsman",
    ],
)
def test_legal_threat(policy, domain, text: str) -> None:
    tracker = tracker_of(
        domain,
        user("I want my money back", "get_refund"),
        bot("utter_ok"),
        user(text, "complaint", 0.7),
    )
    assert_handoff(policy, domain, tracker, "legal_threat", "complaints")


# (f) missing data ----------------------------------------------------------------


def test_action_reporting_missing_data(policy, domain) -> None:
    tracker = tracker_of(
        domain,
        user("where is my refund", "track_refund"),
        bot("utter_ok"),
        [SlotSet("data_unavailable", True)],
        user("ok so what now", "affirm", 0.8),
    )
    assert_handoff(policy, domain, tracker, "data_unavailable", "refunds_billing")


# topics -------------------------------------------------------------------------

TOPIC_OF_INTENT = {
    "track_order": "orders",
    "cancel_order": "orders",
    "change_order": "orders",
    "place_order": "orders",
    "delivery_options": "orders",
    "delivery_period": "orders",
    "change_shipping_address": "orders",
    "set_up_shipping_address": "orders",
    "check_refund_policy": "refunds_billing",
    "get_refund": "refunds_billing",
    "track_refund": "refunds_billing",
    "check_invoice": "refunds_billing",
    "get_invoice": "refunds_billing",
    "check_payment_methods": "refunds_billing",
    "payment_issue": "refunds_billing",
    "check_cancellation_fee": "refunds_billing",
    "create_account": "account",
    "delete_account": "account",
    "edit_account": "account",
    "recover_password": "account",
    "registration_problems": "account",
    "switch_account": "account",
    "newsletter_subscription": "account",
    "complaint": "complaints",
    "review": "complaints",
    "contact_customer_service": "general",
    "contact_human_agent": "general",
}


def test_topic_map_covers_the_27_business_intents() -> None:
    assert len(TOPIC_OF_INTENT) == 27


@pytest.mark.parametrize("intent,topic", sorted(TOPIC_OF_INTENT.items()))
def test_topic_of_each_business_intent(policy, domain, intent: str, topic: str) -> None:
    tracker = tracker_of(
        domain,
        user("...", intent),
        bot("utter_ok"),
        user("get me a person", "contact_human_agent"),
    )
    assert_handoff(policy, domain, tracker, "explicit_request", topic)


def test_topic_ignores_turns_that_were_not_understood(policy, domain) -> None:
    tracker = tracker_of(
        domain,
        user("change my address", "change_shipping_address"),
        bot("utter_ok"),
        user("refund?", "get_refund", 0.2),
        bot("utter_ask_rephrase"),
        user("human please", "contact_human_agent"),
    )
    assert_handoff(policy, domain, tracker, "explicit_request", "orders")
