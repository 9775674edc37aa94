"""Handoff to a live agent: ``action_handoff``.

The action tells the customer what happens next (a person from the right team takes over and
sees the conversation), how long (queue position and estimated wait) and what could go wrong
(no agent free, or outside opening hours: then a call back or an e-mail answer is offered),
stores the request in the ``handoff_request`` slot and pauses the bot (``ConversationPaused``).

The request reaches the handoff service durably through Rasa's event broker, so a service
that is down loses nothing; the action also announces it to the service at once (signed, best
effort, half a second at most) so agents see it without waiting for the broker. It reads the
queue database for the estimate, and says so honestly when it cannot.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

import aiohttp
from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.handoff.config import BusinessHours, business_hours_from_env, service_secret
from bot.handoff.intake import announce, plan_handoff
from bot.handoff.store import QueueStore
from bot.settings import Settings, SettingsError

logger = logging.getLogger(__name__)

SLOTS = ("escalation_reason", "escalation_topic", "customer_id", "customer_name", "customer_segments",
         "customer_flags")


class ActionHandoff(Action):
    """Created once by the action server; the queue connection is opened on first use."""

    def __init__(self) -> None:
        self._store: QueueStore | None = None
        self._hours: BusinessHours | None = None
        self._schema_ready = False
        self._settings: Settings | None = None
        self._secret: bytes | None = None

    def name(self) -> Text:
        return "action_handoff"

    async def close(self) -> None:
        """Close the queue connection on the loop that opened it (aiosqlite's worker thread
        reports to that loop; left to the garbage collector it reports to a closed one)."""
        if self._store is not None:
            await self._store.dispose()
            self._store = None
            self._schema_ready = False

    async def _queue(self) -> QueueStore | None:
        if self._store is None:
            try:
                settings = Settings.from_env()
                self._hours = business_hours_from_env()
                self._secret = service_secret(var_dir=settings.var_dir)
                self._settings = settings
            except SettingsError as exc:
                logger.error("handoff settings invalid, estimating without the queue: %s", exc)
                self._hours = BusinessHours.always()
                return None
            self._store = QueueStore.from_url(settings.handoff_db_url)
        if not self._schema_ready:
            try:
                await self._store.create_schema()  # idempotent; the service may not have run yet
                self._schema_ready = True
            except Exception as exc:  # noqa: BLE001 - the estimate degrades, the handoff goes on
                logger.warning("handoff queue database unavailable: %s", exc)
        return self._store

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        store = await self._queue()
        intents = [
            (e.get("parse_data") or {}).get("intent", {}).get("name")
            for e in reversed(tracker.events)
            if e.get("event") == "user"
        ][:8]
        plan = await plan_handoff(
            sender_id=tracker.sender_id,
            slots={name: tracker.get_slot(name) for name in SLOTS},
            intents=intents,
            store=store,
            hours=self._hours or BusinessHours.always(),
        )
        logger.info(
            "handoff %s for %s: topic=%s position=%s eta=%s",
            plan.request.handoff_id, tracker.sender_id, plan.request.topic.value,
            plan.estimate.position, plan.estimate.eta_s,
        )
        if self._settings is not None and self._secret is not None:
            async with aiohttp.ClientSession() as http:  # one per handoff: no session outlives its loop
                await announce(http, self._settings.handoff_url, self._secret, plan.request)
        dispatcher.utter_message(text=plan.message, buttons=plan.buttons or None)
        return [SlotSet("handoff_request", plan.request.to_slot()), ConversationPaused()]
