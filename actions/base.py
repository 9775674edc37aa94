"""The shared, abstract base of tandem's business actions.

:class:`ProfileAction` does what every business action needs and nothing
else: build a :class:`~bot.actions_support.conversation.Turn` from the
tracker, identify the customer without asking twice
(:func:`bot.actions_support.identity.identify`), call the area's typed
function in ``bot.actions_support``, and turn its
:class:`~bot.actions_support.conversation.Reply` into messages and slot
events. Any failure becomes an honest message plus ``data_unavailable`` for
the escalation policy; the action server never sees an exception.

rasa-sdk skips abstract classes when it registers the package, so this base
costs nothing; concrete actions register themselves in :data:`ACTIONS` so
that the identification action can resume the request that made it ask.
"""

from __future__ import annotations

import abc
import inspect
import logging
from typing import Any, Awaitable, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions_support.conversation import Context, DataUse, Reply, Turn
from bot.actions_support.followups import remember_conversation
from bot.actions_support.gateway import Lookup, Outcome
from bot.actions_support.identity import Identification, customer_slots, identify
from bot.actions_support.runtime import get_services

logger = logging.getLogger(__name__)

#: action name -> concrete ProfileAction class (filled by __init_subclass__)
ACTIONS: dict[str, type["ProfileAction"]] = {}

CRASH_MESSAGE = (
    "Sorry, something went wrong on my side and I couldn't finish that. "
    'Nothing you told me is lost: say "agent" and a colleague will take it from here.'
)

GENERAL_ONLY = "I can't reach your account details right now, so this is our general information."

VIA_WORDS = {
    "conversation": None,
    "widget": ("your signed-in account on our website", "to recognise you"),
    "channel": ("the phone number or messaging id you're writing from", "to recognise you"),
    "email": ("the e-mail address you gave me", "to find your account"),
    "order_id": ("the order number you gave me", "to find your account"),
    "invoice_id": ("the invoice number you gave me", "to find your account"),
}


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
    )


class ProfileAction(Action, abc.ABC):
    """A business action: identify, call ``bot.actions_support``, reply. See the module docstring."""

    #: False for actions that never need the customer's data (saves a lookup)
    needs_profile: bool = True
    action_name: str = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not inspect.isabstract(cls) and cls.action_name:
            ACTIONS[cls.action_name] = cls

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
        ctx = Context(turn, services.gateway, services.catalogue, services.now(), ident.lookup)
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
            await remember_conversation(ctx, turn)  # where follow-ups reach the customer
            reply = await self.respond(ctx)
            return emit(dispatcher, turn, ctx, ident, reply)
        except Exception:  # the action server must never crash on one conversation
            logger.exception("action %s failed for conversation %s", self.name(), tracker.sender_id)
            dispatcher.utter_message(text=CRASH_MESSAGE)
            return [SlotSet("data_unavailable", True)]


def identification_slots(turn: Turn, ctx: Context, ident: Identification) -> tuple[dict[str, Any], list[DataUse]]:
    """Slots and data-use notes when the customer was newly identified in this turn."""
    profile = ctx.profile
    if profile is None or turn.slot("customer_id") == profile.customer_id:
        return {}, []
    slots = customer_slots(profile, personalise=turn.slot("personalisation_allowed") is not False)
    uses = []
    words = VIA_WORDS.get(ident.via or "")
    if words:
        system = {"widget": "website", "channel": "messaging", "order_id": "commerce", "invoice_id": "commerce"}.get(
            ident.via or "", "crm"
        )
        uses.append(DataUse(words[0], system, words[1]))
    return slots, uses


def emit(
    dispatcher: CollectingDispatcher, turn: Turn, ctx: Context, ident: Identification, reply: Reply
) -> List[Dict[Text, Any]]:
    """Send the reply's messages; return its slot events (identification and data use included)."""
    slots, uses = identification_slots(turn, ctx, ident)
    slots.update(reply.slots)
    uses += reply.data_used
    if ctx.unavailable or reply.unavailable:
        slots["data_unavailable"] = True
    if uses:
        known = list(turn.slot("data_used") or [])
        for use in uses:
            sentence = use.sentence()
            if sentence not in known:
                known.append(sentence)
        slots["data_used"] = known
    pending = turn.slot("pending_action")
    if pending and ctx.profile is not None and slots.get("pending_action", pending) == pending:
        # the request that was waiting for identification has now been answered
        if "pending_action" not in reply.slots:
            slots["pending_action"] = None
    messages = list(reply.messages)
    if ctx.unavailable and not reply.unavailable:
        # the action answered without the customer's data: say so, honestly
        messages.insert(0, GENERAL_ONLY)
    for message in messages:
        if message.strip():
            dispatcher.utter_message(text=message)
    return [SlotSet(name, value) for name, value in slots.items() if turn.slot(name) != value or name in reply.slots]


def load_all_actions() -> dict[str, type[ProfileAction]]:
    """Import every module of the ``actions`` package (as rasa-sdk does) and return :data:`ACTIONS`."""
    import importlib
    import pkgutil

    import actions

    for module in pkgutil.iter_modules(actions.__path__):
        importlib.import_module(f"actions.{module.name}")
    return ACTIONS
