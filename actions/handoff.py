"""Handoff to a live agent: ``action_handoff``.

One signed call hands the request (conversation, customer id, reason, topic, channel, first
words) to the handoff service, which owns the queue: it reads the customer's profile for the
priority and answers with the queue position, the estimated wait and whether we are open. The
action tells the customer what happens next with a response of ``domain/handoff.yml`` chosen
for that answer (a person from the right team takes over and sees the conversation; how long;
or, with no agent free or outside opening hours, a call back or an e-mail answer), stores the
request in the ``handoff_request`` slot and pauses the bot (``ConversationPaused``).

When the service cannot be reached the customer is told so honestly, and the request still
reaches the service through Rasa's event broker (the slot event), so nothing is lost; the two
paths carry one ``handoff_id`` and the queue applies it once.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions_support.assurance import VERIFIED, trusted_customer
from bot.actions_support.runtime import get_services
from bot.handoff.intake import build_request, first_words
from bot.handoff.texts import intake_response
from bot.vocabulary import Slot

logger = logging.getLogger(__name__)

#: how many recent customer turns decide the topic when the policy set none
INTENT_LOOKBACK = 8


class ActionHandoff(Action):
    def name(self) -> Text:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        user_events = [e for e in tracker.events if e.get("event") == "user"]
        intents = [(e.get("parse_data") or {}).get("intent", {}).get("name") for e in reversed(user_events)]
        services = get_services()
        slots = {name: tracker.get_slot(name) for name in (Slot.ESCALATION_TOPIC, Slot.ESCALATION_REASON)}
        # only a customer the action server verified and sealed itself goes to the agent's queue
        customer_id, level = trusted_customer(tracker.slots, tracker.sender_id, services.seal_key)
        slots[Slot.CUSTOMER_ID] = customer_id if level == VERIFIED else None
        request = build_request(
            sender_id=tracker.sender_id,
            slots=slots,
            intents=intents[:INTENT_LOOKBACK],
            requested_at=time.time(),
            channel=tracker.get_latest_input_channel(),
            first_message=first_words(e.get("text") for e in user_events),
        )
        client = services.handoff
        answer = await client.submit(request) if client is not None else None
        logger.info(
            "handoff %s for %s: topic=%s position=%s wait=%s",
            request.handoff_id, tracker.sender_id, request.topic.value,
            answer.position if answer else None, answer.wait_s if answer else None,
        )
        told = dataclasses.replace(
            request,
            position_told=answer.position if answer else None,
            eta_told_s=answer.wait_s if answer else None,
        )
        response, variables = intake_response(request.topic, answer)
        dispatcher.utter_message(response=response, **variables)
        return [SlotSet(Slot.HANDOFF_REQUEST, told.to_slot()), ConversationPaused()]
