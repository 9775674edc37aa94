"""Configuration of the escalation policy: defaults, validation, typed access.

The policy's options live in ``config.yml`` under the policy entry. Rasa merges
them over :data:`DEFAULT_CONFIG` (shallowly, see
``rasa.utils.common.override_defaults``) and hands the result to the policy,
which turns it into an :class:`EscalationConfig` here. Everything that is a
*list of words* (intents, segments, regular expressions, the intent→topic map)
is data in the defaults below, never a literal inside the decision logic, so
an operator can tune triggers without touching code.

Validation is strict on purpose: a misspelt option name or a broken regular
expression must stop ``rasa train`` with a message naming the option, not
silently disable a trigger that customers rely on to reach a human.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from bot.vocabulary import REASON_TOPICS, TOPIC_INTENTS, TOPICS

# Rasa's RulePolicy has priority 6 (rasa.core.constants.RULE_POLICY_PRIORITY);
# a handoff that fires must win over any rule, so the default sits above it.
DEFAULT_PRIORITY = 7

# Topics, the default intent -> topic map and the slot names are tandem's shared vocabulary
# (bot/vocabulary.py): the actions and the handoff service read the same ones.

DEFAULT_CONFIG: dict[str, Any] = {
    # Ensemble priority; must stay above RulePolicy's 6 for a handoff to win.
    "priority": DEFAULT_PRIORITY,
    # The action predicted when a trigger fires (must be in the domain).
    "handoff_action": "action_handoff",
    # The decision is written to the slots Slot.ESCALATION_REASON and Slot.ESCALATION_TOPIC.
    # Deactivate an active form together with the handoff, so the form does not
    # ask its question again once the agent hands the conversation back.
    "deactivate_loop": True,
    # Intents for which the policy never fires (Rasa's own control intents).
    "exempt_intents": ["restart", "session_start", "back"],
    # A turn whose top intent is below this confidence counts as not understood
    # (FallbackClassifier usually turns such turns into nlu_fallback already).
    "low_confidence_threshold": 0.5,
    # (a) explicit request: hand over at once.
    "explicit_request_enabled": True,
    "explicit_request_intents": ["contact_human_agent"],
    "explicit_request_patterns": [
        r"\b(speak|talk|chat|connect me|put me through)\s+(to|with)\s+(a|an|some|the)?\s*"
        r"(real\s+|live\s+)?(human|person|agent|operator|representative|someone|manager|supervisor)\b",
        r"\b(want|need|get|give)\s+(me\s+)?(to\s+)?(a|an|to)?\s*(real\s+|live\s+)?"
        r"(human|person|agent|operator|manager|supervisor)\b",
        r"^\W*(agent|human|operator|representative)\W*$",
    ],
    # (b) understanding: consecutive NLU fallbacks, and the overall cap on
    # failed turns (not understood, core fallback, form answer rejected).
    "fallback_enabled": True,
    "fallback_intents": ["nlu_fallback"],
    "consecutive_fallbacks": 2,
    "max_failed_turns": 2,
    # (c) loops: same intent again and again, a form that keeps failing.
    "loop_enabled": True,
    "intent_repeats": 3,
    "loop_ignore_intents": [
        "affirm", "deny", "greet", "goodbye", "thank", "bot_challenge", "out_of_scope",
    ],
    "form_failures": 2,
    "core_fallback_action": "action_default_fallback",
    # (d) frustration: offensive words, frustrated phrases, repeated "no".
    "frustration_enabled": True,
    "offensive_patterns": [
        r"\bf+u+c+k+\w*",
        r"\bf\*+k?\w*",
        r"\bsh[i1!]t\w*",
        r"\bbull\s?shit\b",
        r"\bcrap\w*",
        r"\bwtf\b",
        r"\bidiots?\b",
        r"\bmorons?\b",
        r"\bbastards?\b",
        r"\ba(ss|rse)holes?\b",
        r"\bpiss\w*",
    ],
    "frustration_patterns": [
        r"\b(this|that|it|you|u)\s*('re|'s|re|s|are|is)?\s+(so\s+|completely\s+|totally\s+|absolutely\s+|utterly\s+)?"
        r"(useless|pointless|hopeless|rubbish|worthless)\b",
        r"\b(you'?re|you\s+are|ur)\s+(not|no)\s+help(ing|ful)?\b",
        r"\bnot\s+help(ing|ful)\s+(at\s+all|me)\b",
        r"\b(stupid|dumb|useless|pointless|silly)\s+(bot|robot|machine|chatbot|assistant|computer)\b",
        r"\bwaste\s+of\s+(my\s+)?time\b",
        r"\bfed\s+up\b",
        r"\bridiculous\b",
        r"\bunacceptable\b",
        r"\byou\s+(don'?t|do\s+not|never)\s+understand\b",
        r"\b(going\s+)?(round|around)\s+in\s+circles\b",
        r"\bfor\s+the\s+(last|third|3rd|fourth|4th|hundredth)\s+time\b",
        r"\bi\s+(already|just)\s+(told|said|gave)\b",
    ],
    "deny_intents": ["deny"],
    "deny_repeats": 2,
    # (e) business rules from the unified profile and the text.
    "business_rules_enabled": True,
    # (read from the slots Slot.CUSTOMER_SEGMENTS and Slot.CUSTOMER_FLAGS)
    # A complaint intent from a customer holding ALL segments of any one set.
    "priority_complaint_segments": [["high_value", "open_complaint"]],
    "complaint_intents": ["complaint"],
    "sensitive_flags": ["sensitive_circumstance"],
    "legal_threat_patterns": [
        r"\blawyers?\b",
        r"\bsolicitors?\b",
        r"\battorneys?\b",
        r"\bsu(e|ing)\s+(you|u|your\s+company|the\s+company|this\s+company|them)\b",
        r"\bi('ll|\s+will)\s+sue\b",
        r"\blegal\s+(action|proceedings|steps)\b",
        r"\bombudsm[ae]n\b",
        r"\b(take|taking)\s+(you|this|it|them)\s+to\s+court\b",
        r"\bsmall\s+claims\b",
        r"\btrading\s+standards\b",
    ],
    # (f) an action reported that the data it needed is unavailable.
    "data_unavailable_enabled": True,
    # (read from the slot Slot.DATA_UNAVAILABLE)
    # Topic of the handoff, from the most recent understood business intent.
    "topic_lookback_turns": 6,
    "topic_intents": {topic: list(intents) for topic, intents in TOPIC_INTENTS.items()},
    # Reasons whose queue does not depend on the conversation's subject.
    "reason_topics": dict(REASON_TOPICS),
}

# Keys Rasa's Policy base class may read or inject; accepted but unused here.
_RASA_KEYS = frozenset({"featurizer", "max_history"})


class EscalationConfigError(ValueError):
    """The escalation policy's configuration is invalid; the message names the option."""


@dataclass(frozen=True)
class EscalationConfig:
    """Validated, typed view of the policy options (see :data:`DEFAULT_CONFIG`)."""

    priority: int
    handoff_action: str
    deactivate_loop: bool
    exempt_intents: frozenset[str]
    low_confidence_threshold: float
    explicit_request_enabled: bool
    explicit_request_intents: frozenset[str]
    explicit_request_patterns: tuple[re.Pattern[str], ...]
    fallback_enabled: bool
    fallback_intents: frozenset[str]
    consecutive_fallbacks: int
    max_failed_turns: int
    loop_enabled: bool
    intent_repeats: int
    loop_ignore_intents: frozenset[str]
    form_failures: int
    core_fallback_action: str
    frustration_enabled: bool
    offensive_patterns: tuple[re.Pattern[str], ...]
    frustration_patterns: tuple[re.Pattern[str], ...]
    deny_intents: frozenset[str]
    deny_repeats: int
    business_rules_enabled: bool
    priority_complaint_segments: tuple[frozenset[str], ...]
    complaint_intents: frozenset[str]
    sensitive_flags: frozenset[str]
    legal_threat_patterns: tuple[re.Pattern[str], ...]
    data_unavailable_enabled: bool
    topic_lookback_turns: int
    topic_by_intent: Mapping[str, str]
    reason_topics: Mapping[str, str]

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> EscalationConfig:
        """Validates ``raw`` (defaults already merged in, or partial) and builds the config.

        Missing keys take their default; unknown keys, wrong types, out-of-range
        numbers, unknown topics and regular expressions that do not compile raise
        :class:`EscalationConfigError`.
        """
        if not isinstance(raw, Mapping):
            raise EscalationConfigError(f"the policy config must be a mapping, got {type(raw).__name__}")
        unknown = sorted(set(raw) - set(DEFAULT_CONFIG) - _RASA_KEYS)
        if unknown:
            raise EscalationConfigError(
                f"unknown option(s) {', '.join(unknown)}; valid options: {', '.join(sorted(DEFAULT_CONFIG))}"
            )
        merged = {**DEFAULT_CONFIG, **raw}

        topic_intents = _mapping_of_lists(merged, "topic_intents")
        topic_by_intent: dict[str, str] = {}
        for topic, intents in topic_intents.items():
            _check_topic("topic_intents", topic)
            for intent in intents:
                if intent in topic_by_intent and topic_by_intent[intent] != topic:
                    raise EscalationConfigError(
                        f"topic_intents: intent {intent!r} is listed under both "
                        f"{topic_by_intent[intent]!r} and {topic!r}"
                    )
                topic_by_intent[intent] = topic
        reason_topics = merged["reason_topics"]
        if not isinstance(reason_topics, Mapping):
            raise EscalationConfigError("reason_topics must be a mapping of reason code to topic")
        for reason, topic in reason_topics.items():
            if not isinstance(reason, str):
                raise EscalationConfigError(f"reason_topics: key {reason!r} must be a reason code")
            _check_topic("reason_topics", topic)

        segment_sets = merged["priority_complaint_segments"]
        if not isinstance(segment_sets, list) or not all(
            isinstance(s, list) and s and all(isinstance(x, str) for x in s) for s in segment_sets
        ):
            raise EscalationConfigError(
                "priority_complaint_segments must be a list of non-empty lists of segment names, "
                "e.g. [[high_value, open_complaint]]"
            )

        return cls(
            priority=_int(merged, "priority", minimum=0),
            handoff_action=_name(merged, "handoff_action"),
            deactivate_loop=_bool(merged, "deactivate_loop"),
            exempt_intents=_names(merged, "exempt_intents"),
            low_confidence_threshold=_fraction(merged, "low_confidence_threshold"),
            explicit_request_enabled=_bool(merged, "explicit_request_enabled"),
            explicit_request_intents=_names(merged, "explicit_request_intents"),
            explicit_request_patterns=_patterns(merged, "explicit_request_patterns"),
            fallback_enabled=_bool(merged, "fallback_enabled"),
            fallback_intents=_names(merged, "fallback_intents"),
            consecutive_fallbacks=_int(merged, "consecutive_fallbacks", minimum=1),
            max_failed_turns=_int(merged, "max_failed_turns", minimum=0),
            loop_enabled=_bool(merged, "loop_enabled"),
            intent_repeats=_int(merged, "intent_repeats", minimum=2),
            loop_ignore_intents=_names(merged, "loop_ignore_intents"),
            form_failures=_int(merged, "form_failures", minimum=1),
            core_fallback_action=_name(merged, "core_fallback_action"),
            frustration_enabled=_bool(merged, "frustration_enabled"),
            offensive_patterns=_patterns(merged, "offensive_patterns"),
            frustration_patterns=_patterns(merged, "frustration_patterns"),
            deny_intents=_names(merged, "deny_intents"),
            deny_repeats=_int(merged, "deny_repeats", minimum=1),
            business_rules_enabled=_bool(merged, "business_rules_enabled"),
            priority_complaint_segments=tuple(frozenset(s) for s in segment_sets),
            complaint_intents=_names(merged, "complaint_intents"),
            sensitive_flags=_names(merged, "sensitive_flags"),
            legal_threat_patterns=_patterns(merged, "legal_threat_patterns"),
            data_unavailable_enabled=_bool(merged, "data_unavailable_enabled"),
            topic_lookback_turns=_int(merged, "topic_lookback_turns", minimum=1),
            topic_by_intent=topic_by_intent,
            reason_topics=dict(reason_topics),
        )


def _check_topic(option: str, topic: Any) -> None:
    if topic not in TOPICS:
        raise EscalationConfigError(f"{option}: unknown topic {topic!r}; topics are {', '.join(TOPICS)}")


def _bool(raw: Mapping[str, Any], key: str) -> bool:
    value = raw[key]
    if not isinstance(value, bool):
        raise EscalationConfigError(f"{key} must be true or false, got {value!r}")
    return value


def _int(raw: Mapping[str, Any], key: str, *, minimum: int) -> int:
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise EscalationConfigError(f"{key} must be a whole number >= {minimum}, got {value!r}")
    return value


def _fraction(raw: Mapping[str, Any], key: str) -> float:
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise EscalationConfigError(f"{key} must be a number between 0 and 1, got {value!r}")
    return float(value)


def _name(raw: Mapping[str, Any], key: str) -> str:
    value = raw[key]
    if not isinstance(value, str) or not value.strip():
        raise EscalationConfigError(f"{key} must be a non-empty name, got {value!r}")
    return value


def _names(raw: Mapping[str, Any], key: str) -> frozenset[str]:
    value = raw[key]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise EscalationConfigError(f"{key} must be a list of names, got {value!r}")
    return frozenset(value)


def _patterns(raw: Mapping[str, Any], key: str) -> tuple[re.Pattern[str], ...]:
    value = raw[key]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise EscalationConfigError(f"{key} must be a list of regular expressions, got {value!r}")
    compiled = []
    for pattern in value:
        try:
            compiled.append(re.compile(pattern, re.IGNORECASE))
        except re.error as exc:
            raise EscalationConfigError(f"{key}: invalid regular expression {pattern!r}: {exc}") from exc
    return tuple(compiled)


def _mapping_of_lists(raw: Mapping[str, Any], key: str) -> Mapping[str, list[str]]:
    value = raw[key]
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(i, str) for i in v)
        for k, v in value.items()
    ):
        raise EscalationConfigError(f"{key} must map each topic to a list of intents, got {value!r}")
    return value
