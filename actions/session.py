"""``action_session_start``: who the conversation is with, once per session.

Rasa runs it when a session starts, with the metadata the channel sent
(``session_started_metadata``: the website widget's signed ``identity_token``;
a messaging channel's sender id identifies through the channel itself). It
keeps Rasa's own behaviour (``SessionStarted``, the carried-over slots, then
``action_listen``) and adds the customer slots from
:func:`bot.actions_support.identity.identify`, the one place that decides
who a conversation is with. Later actions use the ``customer_id`` slot and
re-identify only when new identifying information arrives.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import VIA_SYSTEMS
from bot.actions_support.conversation import DataUse, Turn
from bot.actions_support.followups import remember_conversation
from bot.actions_support.identity import identify, verified_slots
from bot.actions_support.runtime import get_services
from bot.vocabulary import MESSAGING_CHANNEL_METADATA_KEY

logger = logging.getLogger(__name__)


class ActionSessionStart(Action):
    def name(self) -> Text:
        return "action_session_start"

    @staticmethod
    def carried_over(tracker: Tracker) -> List[EventType]:
        """The slots Rasa carries into the new session (``carry_over_slots_to_new_session``)."""
        return [
            SlotSet(key, value)
            for key, value in tracker.slots.items()
            if key != "session_started_metadata" and value is not None
        ]

    async def identified(self, tracker: Tracker) -> List[EventType]:
        metadata = tracker.get_slot("session_started_metadata") or {}
        metadata = metadata if isinstance(metadata, dict) else {}
        # only what identifies by itself: the metadata and the channel (no slot, no earlier entity).
        # A first message is not in the tracker yet: its messaging connector names itself in the
        # metadata (bot/channels/messaging.py)
        channel = tracker.get_latest_input_channel() or metadata.get(MESSAGING_CHANNEL_METADATA_KEY)
        turn = Turn(
            conversation_id=tracker.sender_id,
            metadata=metadata,
            input_channel=channel if isinstance(channel, str) else None,
        )
        if not (turn.metadata or turn.input_channel):
            return []  # nothing new to identify with: later actions use the carried-over slots
        services = get_services()
        ident = await identify(turn, services.gateway, services.identity_secret)
        profile = ident.lookup.profile if ident.verified else None
        if profile is None:
            return []
        await remember_conversation(services.gateway, profile, turn)  # where follow-ups reach them
        personalise = tracker.get_slot("personalisation_allowed") is not False
        slots = verified_slots(profile, personalise, services.seal_key, tracker.sender_id)
        system = VIA_SYSTEMS.get(ident.via or "")
        if system:
            known = list(tracker.get_slot("data_used") or [])
            key = DataUse(f"identified_{ident.via}", system).key()
            slots["data_used"] = known + [key] if key not in known else known
        return [SlotSet(name, value) for name, value in slots.items()]

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        events: List[EventType] = [SessionStarted()]
        if (domain.get("session_config") or {}).get("carry_over_slots_to_new_session", True):
            events += self.carried_over(tracker)
        try:
            events += await self.identified(tracker)
        except Exception:  # a session must start even when the profile store is out
            logger.exception("identification at session start failed for %s", tracker.sender_id)
        events.append(ActionExecuted("action_listen"))
        return events
