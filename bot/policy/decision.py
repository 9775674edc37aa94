"""The escalation decision as plain functions over a plain view of the conversation.

Nothing here imports Rasa: :mod:`bot.policy.tracker_view` turns a Rasa tracker
into a :class:`ConversationView`, and :func:`decide` answers "hand over now, and
why?" from that view and an :class:`~bot.policy.config.EscalationConfig`. That
keeps every trigger unit-testable with a few lines of data, and keeps the Rasa
policy class a thin adapter.

Contract of :func:`decide`:

* It only ever fires for a conversation that is waiting for the bot's reaction
  to a new customer message (``view.awaiting_reply``) and is not paused.
* It looks at the *window*: the customer turns since the session started or
  since the last handoff / hand-back, whichever is later, so a handed-back
  conversation starts with a clean slate and a standing condition (a profile
  flag, a failed data look-up) hands over at most once per window.
* Triggers are checked in a fixed order (explicit request, legal threat,
  profile rules, missing data, frustration, understanding, loops, overall
  failed-turn cap); the first that fires gives the reason. A disabled trigger
  group is skipped entirely.
* The overall guarantee: a turn fails when it was not understood, when the bot
  answered it with the core fallback, or when an active form rejected the
  answer. Once ``max_failed_turns`` (default 2) turns in the window have
  failed, the next customer message is handed over (and a not-understood
  message that is itself the second failure is handed over immediately).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Optional, Tuple

from bot.policy.config import EscalationConfig
from bot.vocabulary import GENERAL_TOPIC, Slot


class Reason(str, enum.Enum):
    """Machine codes of escalation reasons (stable: analytics group by them)."""

    EXPLICIT_REQUEST = "explicit_request"
    LEGAL_THREAT = "legal_threat"
    SENSITIVE_CIRCUMSTANCE = "sensitive_circumstance"
    PRIORITY_COMPLAINT = "priority_complaint"
    DATA_UNAVAILABLE = "data_unavailable"
    OFFENSIVE_LANGUAGE = "offensive_language"
    FRUSTRATION = "frustration"
    REPEATED_DENY = "repeated_deny"
    REPEATED_FALLBACK = "repeated_fallback"
    FORM_LOOP = "form_loop"
    INTENT_LOOP = "intent_loop"
    FAILED_TURNS = "failed_turns"


@dataclass(frozen=True)
class UserTurn:
    """One customer message and what the bot did with it.

    ``intent``/``confidence`` come from NLU (``confidence`` is None when NLU
    gave none, e.g. a ``/intent`` payload: treated as understood).
    ``bot_actions`` are the actions the bot ran in response, before the next
    message. ``active_loop``/``requested_slot`` are the form state when the
    message arrived; ``form_rejected`` says the form refused the answer (it was
    rejected, or asked for the same slot again). ``entities`` are the
    ``(entity, value)`` pairs NLU extracted, sorted.
    """

    text: str = ""
    intent: str | None = None
    confidence: float | None = None
    entities: tuple[tuple[str, str], ...] = ()
    bot_actions: tuple[str, ...] = ()
    active_loop: str | None = None
    requested_slot: str | None = None
    form_rejected: bool = False


@dataclass(frozen=True)
class ConversationView:
    """What :func:`decide` needs to know about a conversation.

    ``turns`` are the customer turns in the window, oldest first; when
    ``awaiting_reply`` is true the last one is the message being answered.
    ``session_turns`` are all customer turns of the session (for the topic).
    ``slots`` are current slot values; ``slots_set_in_window`` the names of
    slots that got a value during the window.
    """

    turns: tuple[UserTurn, ...]
    session_turns: tuple[UserTurn, ...] = ()
    slots: Mapping[str, Any] = field(default_factory=dict)
    slots_set_in_window: frozenset[str] = frozenset()
    active_loop: str | None = None
    paused: bool = False
    awaiting_reply: bool = True


@dataclass(frozen=True)
class Decision:
    """A decision to hand over: why (code and sentence) and to which queue topic."""

    reason: Reason
    explanation: str
    topic: str

    @property
    def reason_text(self) -> str:
        """The value written to the reason slot: ``"<code>: <sentence>"``."""
        return f"{self.reason.value}: {self.explanation}"

    def as_metadata(self) -> dict[str, str]:
        """JSON-ready summary, e.g. for the predicted action's metadata."""
        return {
            "reason": self.reason.value,
            "explanation": self.explanation,
            "topic": self.topic,
            "reason_text": self.reason_text,
        }


def is_understood(turn: UserTurn, config: EscalationConfig) -> bool:
    """Whether NLU understood ``turn``: a real intent with enough confidence."""
    if turn.intent is None or turn.intent in config.fallback_intents:
        return False
    return turn.confidence is None or turn.confidence >= config.low_confidence_threshold


def is_failed(turn: UserTurn, config: EscalationConfig, *, answered: bool = True) -> bool:
    """Whether ``turn`` failed: not understood, or (once answered) core fallback / form rejection."""
    if not is_understood(turn, config):
        return True
    if not answered:
        return False
    return turn.form_rejected or config.core_fallback_action in turn.bot_actions


def derive_topic(view: ConversationView, config: EscalationConfig, reason: Reason | None = None) -> str:
    """The handoff queue topic.

    A reason listed in ``reason_topics`` fixes the topic (a legal threat goes to
    complaints whatever the subject). Otherwise the most recent *understood*
    intent with a topic among the last ``topic_lookback_turns`` customer turns
    of the session decides; with none, the topic is ``general``.
    """
    if reason is not None and reason.value in config.reason_topics:
        return config.reason_topics[reason.value]
    turns = view.session_turns or view.turns
    for turn in reversed(turns[-config.topic_lookback_turns:]):
        if turn.intent in config.topic_by_intent and is_understood(turn, config):
            return config.topic_by_intent[turn.intent]
    return GENERAL_TOPIC


def decide(view: ConversationView, config: EscalationConfig) -> Decision | None:
    """Returns the handoff decision for the current message, or None to let other policies act."""
    if view.paused or not view.awaiting_reply or not view.turns:
        return None
    current = view.turns[-1]
    if current.intent in config.exempt_intents:
        return None
    for check in _CHECKS:
        found = check(view, current, config)
        if found is not None:
            reason, explanation = found
            return Decision(reason, explanation, derive_topic(view, config, reason))
    return None


# A check returns the reason and its sentence, or None when it does not fire.
_Found = Optional[Tuple[Reason, str]]


def _matches(patterns: Iterable[Any], text: str) -> bool:
    return any(p.search(text) for p in patterns)


def _check_explicit(view: ConversationView, current: UserTurn, config: EscalationConfig) -> _Found:
    if not config.explicit_request_enabled:
        return None
    asked = current.intent in config.explicit_request_intents and is_understood(current, config)
    if asked or _matches(config.explicit_request_patterns, current.text):
        return Reason.EXPLICIT_REQUEST, "the customer asked for a human agent"
    return None


def _check_legal(view: ConversationView, current: UserTurn, config: EscalationConfig) -> _Found:
    if config.business_rules_enabled and _matches(config.legal_threat_patterns, current.text):
        return Reason.LEGAL_THREAT, "the customer mentioned legal action"
    return None


def _as_set(value: Any) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset({value})
    if isinstance(value, (list, tuple, set, frozenset)):
        return frozenset(str(v) for v in value)
    return frozenset()


def _check_profile(view: ConversationView, current: UserTurn, config: EscalationConfig) -> _Found:
    if not config.business_rules_enabled:
        return None
    flags = _as_set(view.slots.get(Slot.CUSTOMER_FLAGS))
    if flags & config.sensitive_flags and Slot.CUSTOMER_FLAGS in view.slots_set_in_window:
        return (
            Reason.SENSITIVE_CIRCUMSTANCE,
            "the customer's profile flags a sensitive circumstance",
        )
    if current.intent in config.complaint_intents and is_understood(current, config):
        segments = _as_set(view.slots.get(Slot.CUSTOMER_SEGMENTS))
        for required in config.priority_complaint_segments:
            if required <= segments:
                return (
                    Reason.PRIORITY_COMPLAINT,
                    f"a complaint from a customer in segments {', '.join(sorted(required))}",
                )
    return None


def _check_data(view: ConversationView, current: UserTurn, config: EscalationConfig) -> _Found:
    if not config.data_unavailable_enabled:
        return None
    slot = Slot.DATA_UNAVAILABLE
    if view.slots.get(slot) is True and slot in view.slots_set_in_window:
        return Reason.DATA_UNAVAILABLE, "the data needed to help the customer is unavailable"
    return None


def _trailing_run(turns: tuple[UserTurn, ...], predicate: Callable[[UserTurn], bool]) -> int:
    count = 0
    for turn in reversed(turns):
        if not predicate(turn):
            break
        count += 1
    return count


def _check_frustration(view: ConversationView, current: UserTurn, config: EscalationConfig) -> _Found:
    if not config.frustration_enabled:
        return None
    if _matches(config.offensive_patterns, current.text):
        return Reason.OFFENSIVE_LANGUAGE, "the customer used offensive language"
    if _matches(config.frustration_patterns, current.text):
        return Reason.FRUSTRATION, "the customer said the assistant is not helping"
    denies = _trailing_run(
        view.turns, lambda t: t.intent in config.deny_intents and is_understood(t, config)
    )
    if denies >= config.deny_repeats:
        return Reason.REPEATED_DENY, f"the customer said no {denies} times in a row"
    return None


def _check_fallback(view: ConversationView, current: UserTurn, config: EscalationConfig) -> _Found:
    if not config.fallback_enabled:
        return None
    run = _trailing_run(view.turns, lambda t: not is_understood(t, config))
    if run >= config.consecutive_fallbacks:
        noun = "message was" if run == 1 else "messages in a row were"
        return Reason.REPEATED_FALLBACK, f"{run} {noun} not understood"
    return None


def _check_loops(view: ConversationView, current: UserTurn, config: EscalationConfig) -> _Found:
    if not config.loop_enabled:
        return None
    loop = view.active_loop
    if loop is not None:
        failed = [t for t in view.turns[:-1] if t.active_loop == loop and t.form_rejected]
        if len(failed) >= config.form_failures:
            slot = failed[-1].requested_slot
            what = f" for {slot!r}" if slot else ""
            return (
                Reason.FORM_LOOP,
                f"the form {loop!r} rejected the customer's answer{what} {len(failed)} times",
            )
    if (
        current.intent is not None
        and current.intent not in config.loop_ignore_intents
        and is_understood(current, config)
        and current.active_loop is None
    ):
        # A repeat carries nothing new: same intent, same entities (asking about
        # three different orders is no loop), and not an answer to a form's
        # question (failing forms are the form check's business).
        run = _trailing_run(
            view.turns,
            lambda t: t.intent == current.intent
            and t.entities == current.entities
            and t.active_loop is None
            and is_understood(t, config),
        )
        if run >= config.intent_repeats:
            return (
                Reason.INTENT_LOOP,
                f"the customer asked for {current.intent} {run} times in a row",
            )
    return None


def _check_failed_turns(view: ConversationView, current: UserTurn, config: EscalationConfig) -> _Found:
    if not config.fallback_enabled or config.max_failed_turns == 0:
        return None
    earlier = sum(1 for t in view.turns[:-1] if is_failed(t, config))
    total = earlier + (1 if is_failed(current, config, answered=False) else 0)
    if total >= config.max_failed_turns:
        noun = "turn" if total == 1 else "turns"
        return Reason.FAILED_TURNS, f"{total} {noun} of this conversation failed"
    return None


_CHECKS = (
    _check_explicit,
    _check_legal,
    _check_profile,
    _check_data,
    _check_frustration,
    _check_fallback,
    _check_loops,
    _check_failed_turns,
)
