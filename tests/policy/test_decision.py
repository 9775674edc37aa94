"""The pure decision logic (no Rasa): ``decide`` and ``derive_topic`` on plain views."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.policy.config import DEFAULT_CONFIG, EscalationConfig
from bot.policy.decision import (
    ConversationView,
    Reason,
    UserTurn,
    decide,
    derive_topic,
    is_failed,
    is_understood,
)

CONFIG = EscalationConfig.from_mapping(DEFAULT_CONFIG)


def turn(intent: str | None, text: str = "", confidence: float | None = 0.9, **kwargs) -> UserTurn:
    return UserTurn(text=text, intent=intent, confidence=confidence, **kwargs)


def view(*turns: UserTurn, **kwargs) -> ConversationView:
    return ConversationView(turns=turns, session_turns=turns, **kwargs)


def test_understood_and_failed_turns() -> None:
    assert is_understood(turn("track_order"), CONFIG)
    assert is_understood(turn("track_order", confidence=None), CONFIG)  # e.g. "/track_order"
    assert not is_understood(turn("nlu_fallback"), CONFIG)
    assert not is_understood(turn("track_order", confidence=0.49), CONFIG)
    assert not is_understood(turn(None), CONFIG)
    assert is_failed(turn("track_order", bot_actions=("action_default_fallback",)), CONFIG)
    assert is_failed(turn("affirm", form_rejected=True), CONFIG)
    assert not is_failed(turn("affirm", form_rejected=True), CONFIG, answered=False)


def test_no_decision_unless_a_new_message_waits_for_an_answer() -> None:
    asking = turn("contact_human_agent")
    assert decide(view(asking), CONFIG) is not None
    assert decide(view(asking, awaiting_reply=False), CONFIG) is None
    assert decide(view(asking, paused=True), CONFIG) is None
    assert decide(view(), CONFIG) is None


def test_first_firing_trigger_gives_the_reason() -> None:
    # Explicit request and offensive words and a legal threat at once: explicit first.
    both = turn("contact_human_agent", text="get me a damn lawyer or a human")
    decision = decide(view(both), CONFIG)
    assert decision is not None and decision.reason is Reason.EXPLICIT_REQUEST
    assert decision.reason_text == "explicit_request: the customer asked for a human agent"


def test_reason_topics_override_the_conversation_topic() -> None:
    legal = view(turn("track_order"), turn("out_of_scope", text="I'll see you in small claims court"))
    decision = decide(legal, CONFIG)
    assert decision is not None
    assert (decision.reason, decision.topic) == (Reason.LEGAL_THREAT, "complaints")
    assert derive_topic(legal, CONFIG) == "orders"


def test_topic_looks_back_only_a_few_turns() -> None:
    old = (turn("track_order"),) + tuple(turn("greet") for _ in range(CONFIG.topic_lookback_turns))
    assert derive_topic(view(*old), CONFIG) == "general"
    assert derive_topic(view(*old[1:], turn("get_invoice")), CONFIG) == "refunds_billing"


def test_topic_of_privacy_intents_is_account() -> None:
    for intent in ("why_my_data", "personalization_opt_out", "my_data_request", "forget_me"):
        assert derive_topic(view(turn(intent)), CONFIG) == "account"


def test_failed_turn_cap_is_configurable() -> None:
    one = EscalationConfig.from_mapping({"max_failed_turns": 1, "consecutive_fallbacks": 5})
    decision = decide(view(turn("nlu_fallback")), one)
    assert decision is not None and decision.reason is Reason.FAILED_TURNS
    off = EscalationConfig.from_mapping({"max_failed_turns": 0, "consecutive_fallbacks": 5})
    assert decide(view(turn("nlu_fallback"), turn("nlu_fallback")), off) is None


def test_form_loop_counts_only_the_active_form() -> None:
    rejected = dict(active_loop="get_invoice_form", requested_slot="invoice_id", form_rejected=True)
    turns = (turn("affirm", **rejected), turn("affirm", **rejected), turn("affirm"))
    assert decide(view(*turns, active_loop="get_invoice_form"), CONFIG).reason is Reason.FORM_LOOP
    # Same history, but that form is no longer active: no form loop; the two
    # failed turns still trigger the overall cap.
    decision = decide(view(*turns, active_loop=None), CONFIG)
    assert decision.reason is Reason.FAILED_TURNS


@pytest.mark.parametrize(
    "flags,set_in_window,fires",
    [
        (["sensitive_circumstance"], True, True),
        ("sensitive_circumstance", True, True),  # a single string is accepted too
        (["sensitive_circumstance"], False, False),  # already handled in an earlier window
        (["vip"], True, False),
        (None, True, False),
    ],
)
def test_sensitive_flag_fires_once_per_window(flags, set_in_window: bool, fires: bool) -> None:
    conversation = view(
        turn("track_order"),
        slots={"customer_flags": flags},
        slots_set_in_window=frozenset({"customer_flags"}) if set_in_window else frozenset(),
    )
    decision = decide(conversation, CONFIG)
    assert (decision is not None and decision.reason is Reason.SENSITIVE_CIRCUMSTANCE) is fires


def test_decision_metadata() -> None:
    decision = decide(view(turn("get_refund"), turn("contact_human_agent")), CONFIG)
    assert decision.as_metadata() == {
        "reason": "explicit_request",
        "explanation": "the customer asked for a human agent",
        "topic": "refunds_billing",
        "reason_text": "explicit_request: the customer asked for a human agent",
    }


def test_pure_modules_do_not_import_rasa() -> None:
    import subprocess
    import sys

    code = (
        "import sys, bot.policy.decision, bot.policy.config; "
        "sys.exit(1 if any(m == 'rasa' or m.startswith('rasa.') for m in sys.modules) else 0)"
    )
    root = Path(__file__).resolve().parents[2]
    assert subprocess.run([sys.executable, "-c", code], cwd=root, check=False).returncode == 0
