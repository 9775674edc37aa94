"""Turns a Rasa tracker into the plain :class:`~bot.policy.decision.ConversationView`.

This is the only place that knows how Rasa records a conversation. It reads the
raw ``tracker.events`` of the current session rather than
``tracker.applied_events()``, on purpose: Rasa's applied events drop customer
messages that ``action_default_fallback`` reverted and the intermediate turns of
a form's happy path, and those are exactly the failed turns the policy has to
count.

Window: the customer turns after the last of (session start / restart, the
handoff action, ``ConversationResumed``). A form answer counts as rejected when
the form's execution was rejected (``ActionExecutionRejected``) or when the form
asked for the same slot again (``SlotSet("requested_slot", same)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rasa.shared.core.constants import ACTION_LISTEN_NAME, REQUESTED_SLOT
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    ConversationResumed,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.policy.config import EscalationConfig
from bot.policy.decision import ConversationView, UserTurn


@dataclass
class _TurnBuilder:
    text: str
    intent: str | None
    confidence: float | None
    active_loop: str | None
    requested_slot: str | None
    entities: tuple[tuple[str, str], ...] = ()
    bot_actions: list[str] = field(default_factory=list)
    form_rejected: bool = False

    def build(self) -> UserTurn:
        return UserTurn(
            text=self.text,
            intent=self.intent,
            confidence=self.confidence,
            bot_actions=tuple(self.bot_actions),
            active_loop=self.active_loop,
            requested_slot=self.requested_slot,
            entities=self.entities,
            form_rejected=self.form_rejected,
        )


def _intent_of(event: UserUttered) -> tuple[str | None, float | None]:
    intent = event.intent or {}
    name = intent.get("name") or None
    confidence = intent.get("confidence")
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)):
        confidence = None
    return name, (float(confidence) if confidence is not None else None)


def _entities_of(event: UserUttered) -> tuple[tuple[str, str], ...]:
    pairs = {
        (str(entity.get("entity")), str(entity.get("value")))
        for entity in (event.entities or [])
        if isinstance(entity, dict) and entity.get("entity")
    }
    return tuple(sorted(pairs))


def _session_events(tracker: DialogueStateTracker) -> list[Any]:
    events = list(tracker.events)
    for index in range(len(events) - 1, -1, -1):
        if isinstance(events[index], (Restarted, SessionStarted)):
            return events[index + 1:]
    return events


def view_from_tracker(tracker: DialogueStateTracker, config: EscalationConfig) -> ConversationView:
    """Builds the decision view of ``tracker`` for the policy configured by ``config``."""
    turns: list[_TurnBuilder] = []
    window_start = 0
    slots_set_in_window: set[str] = set()
    active_loop: str | None = None
    requested_slot: str | None = None
    last_user_index = -1
    last_action_index = -1

    for index, event in enumerate(_session_events(tracker)):
        current = turns[-1] if turns else None
        if isinstance(event, UserUttered):
            name, confidence = _intent_of(event)
            turns.append(
                _TurnBuilder(
                    text=event.text or "",
                    intent=name,
                    confidence=confidence,
                    active_loop=active_loop,
                    requested_slot=requested_slot if active_loop else None,
                    entities=_entities_of(event),
                )
            )
            last_user_index = index
        elif isinstance(event, ActionExecuted):
            last_action_index = index
            name = event.action_name or event.action_text
            if name == config.handoff_action:
                if current is not None:
                    current.bot_actions.append(name)
                window_start = len(turns)
                slots_set_in_window.clear()
            elif current is not None and name and name != ACTION_LISTEN_NAME:
                current.bot_actions.append(name)
        elif isinstance(event, ConversationResumed):
            window_start = len(turns)
            slots_set_in_window.clear()
        elif isinstance(event, ActionExecutionRejected):
            if current is not None and current.active_loop and event.action_name == current.active_loop:
                current.form_rejected = True
        elif isinstance(event, ActiveLoop):
            active_loop = event.name or None
            if active_loop is None:
                requested_slot = None
        elif isinstance(event, SlotSet):
            if event.key == REQUESTED_SLOT:
                if (
                    current is not None
                    and current.active_loop
                    and current.active_loop == active_loop
                    and event.value is not None
                    and event.value == current.requested_slot
                ):
                    current.form_rejected = True
                requested_slot = event.value
            elif event.value is not None:
                slots_set_in_window.add(event.key)

    window = tuple(t.build() for t in turns[window_start:])
    awaiting = (
        tracker.latest_action_name == ACTION_LISTEN_NAME
        and last_user_index > last_action_index
        and len(window) > 0
    )
    return ConversationView(
        turns=window,
        session_turns=tuple(t.build() for t in turns),
        slots={name: slot.value for name, slot in tracker.slots.items()},
        slots_set_in_window=frozenset(slots_set_in_window),
        active_loop=tracker.active_loop_name,
        paused=tracker.is_paused(),
        awaiting_reply=awaiting,
    )
