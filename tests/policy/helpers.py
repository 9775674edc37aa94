"""Builders of Rasa trackers for the policy tests.

Trackers are built with ``DialogueStateTracker.from_events`` from a compact
description of turns, the way Rasa records them: ``action_listen``, the
customer's ``UserUttered`` (intent and confidence as NLU reports them), then the
bot's events for that turn.
"""

from __future__ import annotations

import warnings
from typing import Any, Iterable, Sequence

from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker


def user(
    text: str, intent: str | None = None, confidence: float | None = 0.95, **kwargs: Any
) -> list[Event]:
    """The customer's turn: action_listen then the message as NLU parsed it."""
    parsed: dict[str, Any] = {}
    if intent is not None:
        parsed = {"name": intent}
        if confidence is not None:
            parsed["confidence"] = confidence
    return [ActionExecuted(ACTION_LISTEN_NAME), UserUttered(text, intent=parsed or None, **kwargs)]


def bot(*actions: str) -> list[Event]:
    """The bot's reaction: the given actions executed in order."""
    return [ActionExecuted(name) for name in actions]


def tracker_of(domain: Domain, *parts: Iterable[Event], sender_id: str = "customer-1") -> DialogueStateTracker:
    events: list[Event] = [event for part in parts for event in part]
    return DialogueStateTracker.from_events(sender_id, events, slots=domain.slots)


def predicted_action(domain: Domain, probabilities: Sequence[float]) -> str | None:
    """The action with confidence 1.0, or None when the policy abstained (all zeros)."""
    if not any(probabilities):
        return None
    best = max(range(len(probabilities)), key=lambda i: probabilities[i])
    return domain.action_names_or_texts[best]


def domain_from_yaml(text: str) -> Domain:
    """``Domain.from_yaml`` without pykwalify's load_module() deprecation noise."""
    with warnings.catch_warnings():
        # pykwalify (Rasa's YAML schema validator) loads its extensions with the
        # deprecated importlib load_module(); not ours to fix.
        warnings.filterwarnings("ignore", message=r"the load_module\(\) method is deprecated")
        return Domain.from_yaml(text)


def domain_from_path(path: str) -> Domain:
    """``Domain.load`` without pykwalify's load_module() deprecation noise."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"the load_module\(\) method is deprecated")
        return Domain.load(path)
