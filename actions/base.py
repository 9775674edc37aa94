"""The shared, abstract base of tandem's business actions.

:class:`ProfileAction` does what every business action needs and nothing
else: build a :class:`~bot.actions_support.conversation.Turn` from the
tracker, identify the customer (:func:`bot.actions_support.identity.identify`:
the ``customer_id`` slot that ``action_session_start`` or an earlier action
set, or new identifying information in this turn), call the area's typed
function in ``bot.actions_support``, and turn its
:class:`~bot.actions_support.conversation.Reply` into domain responses
(``dispatcher.utter_message(response=..., **variables)``) and slot events.
Any failure becomes ``utter_action_failed`` plus ``data_unavailable`` for the
escalation policy; the action server never sees an exception.

rasa-sdk skips abstract classes when it registers the package, so this base
costs nothing.
"""

from __future__ import annotations

import abc
import inspect
import logging
from typing import Any, Awaitable, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions_support.conversation import Context, DataUse, Reply, Turn
from bot.actions_support.followups import remember_conversation
from bot.actions_support.gateway import Lookup, Outcome
from bot.actions_support import changes, verification
from bot.actions_support.identity import Identification, identify, verified_slots
from bot.actions_support.runtime import get_services

logger = logging.getLogger(__name__)

#: how the customer was identified -> the system the identifier came from
#: (the data use is ``identified_<via>``, worded in domain/privacy.yml)
VIA_SYSTEMS = {
    "widget": "website",
    "channel": "messaging",
    "email": "crm",
    "order_id": "commerce",
    "invoice_id": "commerce",
}


#: actions that run around every message and answer nothing
_SILENT_ACTIONS = frozenset({"action_listen", "action_extract_slots", "action_session_start"})


def previous_action(events: List[Dict[Text, Any]]) -> str | None:
    """The last action before the latest user message (the question being answered)."""
    seen_user = False
    for event in reversed(events or []):
        kind = event.get("event")
        if kind == "user":
            seen_user = True
        elif seen_user and kind == "action" and event.get("name") not in _SILENT_ACTIONS:
            return event.get("name")
    return None


def turn_from_tracker(tracker: Tracker) -> Turn:
    latest = tracker.latest_message or {}
    entities: dict[str, Any] = {}
    for entity in latest.get("entities") or []:
        if isinstance(entity, dict) and entity.get("entity"):
            entities.setdefault(entity["entity"], entity.get("value"))
    return Turn(
        conversation_id=tracker.sender_id,
        intent=(latest.get("intent") or {}).get("name"),
        text=latest.get("text") or "",
        slots=dict(tracker.slots),
        metadata=latest.get("metadata") or {},
        input_channel=tracker.get_latest_input_channel(),
        entities=entities,
        previous_action=previous_action(tracker.events),
    )


class ProfileAction(Action, abc.ABC):
    """A business action: identify, call ``bot.actions_support``, reply. See the module docstring."""

    #: False for actions that never need the customer's data (saves a lookup)
    needs_profile: bool = True
    action_name: str = ""

    def name(self) -> Text:
        return self.action_name

    @abc.abstractmethod
    def handle(self, ctx: Context) -> Reply | Awaitable[Reply]:
        """The area's business function for this action."""

    async def build_context(self, turn: Turn) -> tuple[Context, Identification]:
        services = get_services()
        if self.needs_profile:
            ident = await identify(turn, services.gateway, services.identity_secret)
        else:
            ident = Identification(Lookup(Outcome.NOT_FOUND, detail="not needed"))
        lookup, claimed = ident.lookup, False
        if ident.claimed and lookup.outcome is not Outcome.UNAVAILABLE:
            # a typed identifier is a claim, not an identity: nothing of that account until verified
            lookup, claimed = Lookup(Outcome.NOT_FOUND, detail="claimed, not verified"), True
        ctx = Context(turn, services.gateway, services.catalogue, services.now(), lookup, claimed=claimed)
        return ctx, ident

    async def respond(self, ctx: Context) -> Reply:
        result = self.handle(ctx)
        if inspect.isawaitable(result):
            result = await result
        return result

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        try:
            turn = turn_from_tracker(tracker)
            ctx, ident = await self.build_context(turn)
            await remember_conversation(ctx.gateway, ctx.profile, turn)  # where follow-ups reach the customer
            reply = await self.respond(ctx)
            if reply.verify:
                services = get_services()
                reply.extend(await verification.start(turn, ident, services.seal_key, services.code_sender))
            # moving on from a question that waited for a yes drops what waited
            reply.slots.update(changes.stale_slots(ctx, self.name(), reply))
            return emit(dispatcher, turn, ctx, ident, reply)
        except Exception:  # the action server must never crash on one conversation
            logger.exception("action %s failed for conversation %s", self.name(), tracker.sender_id)
            dispatcher.utter_message(response="utter_action_failed")
            return [SlotSet("data_unavailable", True)]


def identification_slots(turn: Turn, ctx: Context, ident: Identification) -> tuple[dict[str, Any], list[DataUse]]:
    """Slots and data-use notes when the customer was newly identified in this turn."""
    profile = ctx.profile
    if profile is None or (turn.slot("customer_id") == profile.customer_id and ident.via == "conversation"):
        return {}, []
    personalise = turn.slot("personalisation_allowed") is not False
    slots = verified_slots(profile, personalise, get_services().seal_key, turn.conversation_id)
    system = VIA_SYSTEMS.get(ident.via or "")
    uses = [DataUse(f"identified_{ident.via}", system)] if system else []
    return slots, uses


def emit(
    dispatcher: CollectingDispatcher, turn: Turn, ctx: Context, ident: Identification, reply: Reply
) -> List[Dict[Text, Any]]:
    """Send the reply's responses; return its slot events (identification and data use included)."""
    slots, uses = identification_slots(turn, ctx, ident)
    slots.update(reply.slots)
    uses += reply.data_used
    if ctx.unavailable or reply.unavailable:
        slots["data_unavailable"] = True
    if uses:
        known = list(turn.slot("data_used") or [])
        for use in uses:
            if use.key() not in known:
                known.append(use.key())
        slots["data_used"] = known
    pending = turn.slot("pending_action")
    if pending and ctx.profile is not None and slots.get("pending_action", pending) == pending:
        # the request that was waiting for identification has now been answered
        if "pending_action" not in reply.slots:
            slots["pending_action"] = None
    messages = list(reply.messages)
    if ctx.unavailable and not reply.unavailable:
        # the action answered without the customer's data: say so, honestly
        dispatcher.utter_message(response="utter_general_information_only")
    for message in messages:
        dispatcher.utter_message(response=message.response, **message.variables)
    events: List[Dict[Text, Any]] = [
        SlotSet(name, value) for name, value in slots.items() if turn.slot(name) != value or name in reply.slots
    ]
    if reply.followup:
        events.append(FollowupAction(reply.followup))
    return events
