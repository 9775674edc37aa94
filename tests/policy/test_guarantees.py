"""What the escalation policy must never do, and how it sits among Rasa's policies.

* Clear conversations never escalate, at any point of the conversation.
* It predicts only right after a customer message, never while paused, never
  again after the handoff without a new message, and a handed-back
  conversation starts afresh (no re-escalation on old evidence).
* When it fires it wins Rasa's ensemble against RulePolicy, including a form's
  happy path; when it abstains, RulePolicy's prediction stands.
"""

from __future__ import annotations

from typing import Iterator

import pytest
from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME, REQUESTED_SLOT
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    ConversationPaused,
    ConversationResumed,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
    UserUtteranceReverted,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.policy.escalation import EscalationPolicy
from tests.policy.helpers import bot, predicted_action, tracker_of, user

Conversation = list[list[Event]]

CLEAR_CONVERSATIONS: dict[str, Conversation] = {
    "track an order through the form": [
        user("hi", "greet"),
        bot("utter_greet"),
        user("where is my order", "track_order"),
        [ActionExecuted("track_order_form"), ActiveLoop("track_order_form"), SlotSet(REQUESTED_SLOT, "order_id")],
        user("it's 12345", "track_order", 0.7),
        [ActionExecuted("track_order_form"), SlotSet("order_id", "12345"), SlotSet(REQUESTED_SLOT, None),
         ActiveLoop(None)],
        bot("utter_anything_else"),
        user("no thanks", "deny"),
        bot("utter_ok"),
        user("thank you", "thank"),
        bot("utter_you_are_welcome"),
        user("bye", "goodbye"),
        bot("utter_goodbye"),
    ],
    "invoice, then refund policy, then payment methods": [
        user("I need a copy of my invoice", "get_invoice"),
        bot("utter_ok"),
        user("what's your refund policy", "check_refund_policy"),
        bot("utter_ok"),
        user("can I pay with paypal", "check_payment_methods"),
        bot("utter_ok"),
        user("great, thanks", "thank"),
    ],
    "a single fallback followed by an understood message": [
        user("hmm the thing", "nlu_fallback", 0.4),
        bot("utter_ask_rephrase"),
        user("I want to change my delivery address", "change_shipping_address"),
        bot("utter_ok"),
    ],
    "one low-confidence turn then clear ones": [
        user("pasword??", "recover_password", 0.3),
        bot("utter_ask_rephrase"),
        user("I forgot my password", "recover_password"),
        bot("utter_ok"),
        user("thanks", "thank"),
    ],
    "one deny": [
        user("cancel my order", "cancel_order"),
        bot("utter_ok"),
        user("no", "deny"),
        bot("utter_ok"),
        user("what are the delivery options", "delivery_options"),
    ],
    "the same question twice (not a loop yet)": [
        user("where's my refund", "track_refund"),
        bot("utter_ok"),
        user("where is my refund", "track_refund"),
    ],
    "many affirmations are no loop": [
        user("sign me up for the newsletter", "newsletter_subscription"),
        bot("utter_ok"),
        user("yes", "affirm"),
        bot("utter_ok"),
        user("yes", "affirm"),
        bot("utter_ok"),
        user("yes please", "affirm"),
    ],
    "high-value customer asking about an order (no complaint)": [
        [SlotSet("customer_segments", ["high_value", "open_complaint"])],
        user("where is my order", "track_order"),
    ],
    "complaint from a customer without the priority segments": [
        [SlotSet("customer_segments", ["high_value"]), SlotSet("customer_flags", ["prefers_email"])],
        user("I want to complain about the courier", "complaint"),
    ],
    "data available": [
        [SlotSet("data_unavailable", False)],
        user("refund status", "track_refund"),
        bot("utter_ok"),
        user("ok", "affirm"),
    ],
    "three different orders are no loop": [
        user("where is order 111", "track_order", entities=[{"entity": "order_id", "value": "111"}]),
        bot("utter_ok"),
        user("and order 222?", "track_order", entities=[{"entity": "order_id", "value": "222"}]),
        bot("utter_ok"),
        user("and 333", "track_order", entities=[{"entity": "order_id", "value": "333"}]),
    ],
    "answering a form with the same intent is no loop": [
        user("where is my order", "track_order"),
        [ActionExecuted("track_order_form"), ActiveLoop("track_order_form"), SlotSet(REQUESTED_SLOT, "order_id")],
        user("my order is 12345", "track_order"),
        [ActionExecuted("track_order_form"), SlotSet("order_id", "12345"), SlotSet(REQUESTED_SLOT, None),
         ActiveLoop(None)],
        bot("utter_ok"),
        user("and where is my other order", "track_order"),
    ],
    "asking whether the bot is a real person": [
        user("are you a real person?", "bot_challenge"),
        bot("utter_iamabot"),
        user("are you human", "bot_challenge"),
    ],
    "polite words that look like trigger words": [
        user("sorry if this is a stupid question, where is my class schedule order", "track_order"),
        bot("utter_ok"),
        user("the courier said he will pass it to the court house reception", "track_order", 0.6),
    ],
}


def user_turn_prefixes(parts: Conversation) -> Iterator[list[list[Event]]]:
    """Every prefix of the conversation that ends with a customer message."""
    for index, part in enumerate(parts):
        if any(isinstance(event, UserUttered) for event in part):
            yield parts[: index + 1]


@pytest.mark.parametrize("name", sorted(CLEAR_CONVERSATIONS))
def test_clear_conversations_never_escalate(policy: EscalationPolicy, domain: Domain, name: str) -> None:
    prefixes = list(user_turn_prefixes(CLEAR_CONVERSATIONS[name]))
    assert prefixes
    for prefix in prefixes:
        tracker = tracker_of(domain, *prefix)
        assert tracker.latest_action_name == ACTION_LISTEN_NAME
        prediction = policy.predict_action_probabilities(tracker, domain)
        assert prediction.probabilities == [0.0] * domain.num_actions, (name, len(prefix))
        assert not prediction.events and not prediction.optional_events


def abstains(policy: EscalationPolicy, domain: Domain, tracker: DialogueStateTracker) -> bool:
    prediction = policy.predict_action_probabilities(tracker, domain)
    return predicted_action(domain, prediction.probabilities) is None and not prediction.optional_events


def fires(policy: EscalationPolicy, domain: Domain, tracker: DialogueStateTracker) -> bool:
    prediction = policy.predict_action_probabilities(tracker, domain)
    return predicted_action(domain, prediction.probabilities) == "action_handoff"


ASK_FOR_HUMAN = user("agent please", "contact_human_agent")


def test_never_predicts_while_paused(policy, domain) -> None:
    tracker = tracker_of(domain, [ConversationPaused()], ASK_FOR_HUMAN)
    assert tracker.is_paused()
    assert abstains(policy, domain, tracker)


def test_customer_messages_while_waiting_for_the_agent_do_not_escalate_again(policy, domain) -> None:
    tracker = tracker_of(
        domain,
        ASK_FOR_HUMAN,
        bot("action_handoff"),
        [ConversationPaused()],
        user("hello?? is anyone there", "nlu_fallback", 0.4),
        user("this is useless", "out_of_scope", 0.5),
    )
    assert abstains(policy, domain, tracker)


def test_not_again_right_after_the_handoff_without_a_new_message(policy, domain) -> None:
    tracker = tracker_of(domain, ASK_FOR_HUMAN, bot("action_handoff", ACTION_LISTEN_NAME))
    assert tracker.latest_action_name == ACTION_LISTEN_NAME
    assert abstains(policy, domain, tracker)


def test_only_right_after_a_customer_message(policy, domain) -> None:
    assert fires(policy, domain, tracker_of(domain, ASK_FOR_HUMAN))
    assert abstains(policy, domain, tracker_of(domain, ASK_FOR_HUMAN, bot("utter_ok")))
    assert abstains(policy, domain, tracker_of(domain, bot("utter_greet", ACTION_LISTEN_NAME)))


def test_restart_intent_is_never_overruled(policy, domain) -> None:
    tracker = tracker_of(domain, [SlotSet("data_unavailable", True)], user("/restart", "restart", 1.0))
    assert abstains(policy, domain, tracker)


HANDED_BACK = [
    [SlotSet("customer_flags", ["sensitive_circumstance"])],
    user("it's about my order", "track_order"),
    bot("action_handoff"),
    [ConversationPaused()],
    user("hello?", "nlu_fallback", 0.3),
    user("??", "nlu_fallback", 0.3),
    [ConversationResumed()],
    bot("utter_anything_else", ACTION_LISTEN_NAME),
]


def test_handed_back_conversation_starts_afresh(policy, domain) -> None:
    # Before: the sensitive flag hands over. After hand-back, neither the flag
    # nor the fallbacks typed while waiting count again.
    assert fires(policy, domain, tracker_of(domain, *HANDED_BACK[:2]))
    tracker = tracker_of(domain, *HANDED_BACK, user("what are the delivery options", "delivery_options"))
    assert abstains(policy, domain, tracker)
    one_fallback = tracker_of(domain, *HANDED_BACK, user("blah", "nlu_fallback", 0.3))
    assert abstains(policy, domain, one_fallback)


def test_handed_back_conversation_can_escalate_again_on_new_evidence(policy, domain) -> None:
    tracker = tracker_of(domain, *HANDED_BACK, user("put me through to a human again", "contact_human_agent"))
    assert fires(policy, domain, tracker)


def test_new_session_starts_afresh(policy, domain) -> None:
    tracker = tracker_of(
        domain,
        user("blah", "nlu_fallback", 0.3),
        bot("utter_ask_rephrase"),
        [ActionExecuted("action_session_start"), SessionStarted()],
        user("blub", "nlu_fallback", 0.3),
    )
    assert abstains(policy, domain, tracker)


def test_at_most_two_failed_turns_before_a_human(policy, domain) -> None:
    """Any mix of failures: by the customer's message after the second, a human is offered."""
    failures = {
        "not understood": [user("x", "nlu_fallback", 0.3), bot("utter_ask_rephrase")],
        "core fallback": [user("y", "track_order", 0.6), bot("action_default_fallback"), [UserUtteranceReverted()]],
    }
    for first in failures.values():
        for second in failures.values():
            tracker = tracker_of(domain, *first, *second, user("where is my order", "track_order"))
            assert fires(policy, domain, tracker)


# Interplay with Rasa's ensemble -------------------------------------------------


@pytest.fixture
def rule_policy(model_storage, execution_context, domain) -> RulePolicy:
    # No rules: its form happy path and default-action predictions need none.
    rules = RulePolicy.create(RulePolicy.get_default_config(), model_storage, Resource("rules"), execution_context)
    rules.train([], domain)
    return rules


def combine(policies, tracker: DialogueStateTracker, domain: Domain):
    predictions = [p.predict_action_probabilities(tracker, domain) for p in policies]
    return DefaultPolicyPredictionEnsemble().combine_predictions(predictions, tracker, domain)


def test_handoff_wins_over_a_forms_happy_path(policy, rule_policy, domain) -> None:
    tracker = tracker_of(
        domain,
        user("where is my order", "track_order"),
        [ActionExecuted("track_order_form"), ActiveLoop("track_order_form"), SlotSet(REQUESTED_SLOT, "order_id")],
        user("I'd rather talk to a person", "contact_human_agent"),
    )
    alone = rule_policy.predict_action_probabilities(tracker, domain)
    assert predicted_action(domain, alone.probabilities) == "track_order_form"
    best = combine([rule_policy, policy], tracker, domain)
    assert best.policy_name == "EscalationPolicy"
    assert predicted_action(domain, best.probabilities) == "action_handoff"
    # The winner's optional events are applied by the processor: reason, topic, form off.
    tracker.update_with_events(best.events, domain)
    assert tracker.get_slot("escalation_reason").startswith("explicit_request: ")
    assert tracker.get_slot("escalation_topic") == "orders"
    assert tracker.active_loop_name is None


def test_abstaining_leaves_rasas_choice_alone(policy, rule_policy, domain) -> None:
    tracker = tracker_of(
        domain,
        user("where is my order", "track_order"),
        [ActionExecuted("track_order_form"), ActiveLoop("track_order_form"), SlotSet(REQUESTED_SLOT, "order_id")],
        user("12345", "track_order", 0.8),
    )
    best = combine([rule_policy, policy], tracker, domain)
    assert best.policy_name == "RulePolicy"
    assert predicted_action(domain, best.probabilities) == "track_order_form"
    slot_keys = {e.key for e in best.events if isinstance(e, SlotSet)}
    assert not slot_keys & {"escalation_reason", "escalation_topic"}
