"""Proactive follow-ups: tell the customer when a process changes, check back when it stalls.

Two ways in, both ending in Rasa's external events
(``POST /conversations/{id}/trigger_intent?output_channel=latest``) with an
``EXTERNAL_*`` intent, so the message reaches the customer on the channel
they last used and ``action_followup`` words it from the live profile:

* ``python -m bot processes notify --conversation ID --event refund_paid --order-id N``:
  a source system (or an operator) reports a change of state;
* ``python -m bot processes remind``: scans the conversations of identified
  customers (Rasa's tracker store knows which conversation belongs to which
  ``customer_id``), finds their processes that are past their promise by
  more than ``policies.stalled_after_business_days``, and checks back once
  per process and day.

The Rasa HTTP API is protected by the token from :class:`bot.settings.Settings`;
every call has a timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import enum
import json
import logging
import sys
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import quote

from bot.processes.catalogue import Catalogue, When, default_catalogue
from bot.processes.statement import Case, assess
from bot.profile.model import CustomerProfile, OrderStatus, RefundState

logger = logging.getLogger(__name__)

__all__ = [
    "ExternalEvent",
    "FollowUpError",
    "Notification",
    "RasaClient",
    "StalledCase",
    "add_commands",
    "conversations_by_customer",
    "stalled_cases",
]


class ExternalEvent(str, enum.Enum):
    """Changes of state the bot can tell a customer about unasked."""

    REFUND_PAID = "refund_paid"
    PARCEL_DELAYED = "parcel_delayed"
    PROCESS_STALLED = "process_stalled"

    @property
    def intent(self) -> str:
        return f"EXTERNAL_{self.value}"

    @classmethod
    def from_intent(cls, intent: str | None) -> "ExternalEvent | None":
        if not intent or not intent.startswith("EXTERNAL_"):
            return None
        try:
            return cls(intent[len("EXTERNAL_"):])
        except ValueError:
            return None


class FollowUpError(RuntimeError):
    """Rasa could not be reached or refused the event; the message says which."""


@dataclass(frozen=True)
class Notification:
    conversation_id: str
    event: ExternalEvent
    entities: Mapping[str, str] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        return {"name": self.event.intent, "entities": dict(self.entities)}


class RasaClient:
    """The slice of Rasa's HTTP API the follow-ups use."""

    def __init__(self, base_url: str, token: str, timeout_s: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s

    def trigger_url(self, conversation_id: str) -> str:
        return f"{self.base_url}/conversations/{quote(conversation_id, safe='')}/trigger_intent"

    async def trigger(self, notification: Notification) -> list[str]:
        """Send the external event; return the bot's messages to the customer."""
        import aiohttp

        params = {"output_channel": "latest", "token": self.token}
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.post(
                    self.trigger_url(notification.conversation_id), params=params, json=notification.payload()
                ) as response:
                    body = await response.text()
                    if response.status >= 400:
                        raise FollowUpError(f"Rasa refused {notification.event.intent}: HTTP {response.status} {body[:200]}")
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise FollowUpError(f"Rasa at {self.base_url} is not reachable: {type(exc).__name__}: {exc}") from None
        try:
            data = json.loads(body)
        except ValueError:
            return []
        return [m.get("text", "") for m in data.get("messages", []) if isinstance(m, dict) and m.get("text")]


@dataclass(frozen=True)
class StalledCase:
    """A customer's process past its promise."""

    process: str
    order_id: str
    due: dt.datetime
    overdue_business_days: int


def stalled_cases(profile: CustomerProfile, now: dt.datetime, catalogue: Catalogue | None = None) -> list[StalledCase]:
    """Open refunds and deliveries more than ``stalled_after_business_days`` past their promise."""
    from bot.actions_support.orders import refund_case

    catalogue = catalogue or default_catalogue()
    now = catalogue.calendar.local(now)
    limit = catalogue.policies.stalled_after_business_days
    found: list[StalledCase] = []
    for refund in profile.refunds:
        if refund.state not in (RefundState.REQUESTED, RefundState.APPROVED):
            continue
        case = refund_case(refund)
        if case is None:
            continue
        progress = assess(case, now, catalogue)
        if progress.status is When.OVERDUE and progress.overdue_business_days >= limit and progress.due:
            found.append(StalledCase("refund", refund.order_id, progress.due, progress.overdue_business_days))
    for order in profile.orders:
        if order.status not in (OrderStatus.PLACED, OrderStatus.PROCESSING, OrderStatus.DISPATCHED):
            continue
        zone = catalogue.policies.zone_of(order.destination_country)
        shipment = order.shipment
        stage = "dispatched" if order.status is OrderStatus.DISPATCHED else "placed"
        since = shipment.dispatched_at if stage == "dispatched" and shipment and shipment.dispatched_at else order.placed_at
        case = Case("delivery", f"standard_{zone}", stage, since, promised=shipment.promised_date if shipment else None)
        progress = assess(case, now, catalogue)
        if progress.status is When.OVERDUE and progress.overdue_business_days >= limit and progress.due:
            found.append(StalledCase("delivery", order.order_id, progress.due, progress.overdue_business_days))
    return found


def conversations_by_customer(tracker_db_url: str) -> dict[str, tuple[str, float]]:
    """``customer_id -> (conversation id, last timestamp)`` from Rasa's SQL tracker store.

    The identification action stores ``customer_id`` in a slot, so the
    tracker store's ``events`` table knows which conversation is whose; the
    newest conversation wins.
    """
    from sqlalchemy import create_engine, text

    engine = create_engine(tracker_db_url, future=True)
    found: dict[str, tuple[str, float]] = {}
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT sender_id, timestamp, data FROM events "
                    "WHERE type_name = 'slot' AND data LIKE :pattern ORDER BY timestamp"
                ),
                {"pattern": '%"customer_id"%'},
            )
            for sender_id, timestamp, data in rows:
                try:
                    event = json.loads(data)
                except (TypeError, ValueError):
                    continue
                value = event.get("value")
                if event.get("name") == "customer_id" and isinstance(value, str) and value:
                    found[value] = (sender_id, float(timestamp or 0))
    finally:
        engine.dispose()
    return found


def reminded_recently(tracker_db_url: str, conversation_id: str, order_id: str, since: float) -> bool:
    """Was this process already followed up in this conversation after ``since`` (epoch seconds)?"""
    from sqlalchemy import create_engine, text

    engine = create_engine(tracker_db_url, future=True)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT data FROM events WHERE sender_id = :sid AND type_name = 'user' "
                    "AND intent_name = :intent AND timestamp >= :since"
                ),
                {"sid": conversation_id, "intent": ExternalEvent.PROCESS_STALLED.intent, "since": since},
            )
            for (data,) in rows:
                if order_id in (data or ""):
                    return True
    finally:
        engine.dispose()
    return False


# -- command line ---------------------------------------------------------------


def _client() -> tuple[RasaClient, Any]:
    from bot.settings import Settings

    settings = Settings.from_env()
    return RasaClient(settings.rasa_url, settings.rasa_token), settings


def _cmd_notify(args: argparse.Namespace) -> int:
    client, _ = _client()
    entities = {"order_id": args.order_id} if args.order_id else {}
    notification = Notification(args.conversation, ExternalEvent(args.event), entities)
    if args.dry_run:
        print(f"POST {client.trigger_url(notification.conversation_id)} {json.dumps(notification.payload())}")
        return 0
    try:
        messages = asyncio.run(client.trigger(notification))
    except FollowUpError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for message in messages:
        print(message)
    return 0


async def _remind(args: argparse.Namespace) -> int:
    from bot.actions_support.gateway import ProfileGateway
    from bot.profile import ProfileRepository

    client, settings = _client()
    now = dt.datetime.fromisoformat(args.now) if args.now else dt.datetime.now(dt.timezone.utc)
    try:
        owners = conversations_by_customer(settings.tracker_db_url)
    except Exception as exc:  # noqa: BLE001 - an unreachable tracker store is reported, not raised
        print(f"error: cannot read the tracker store: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    repo = ProfileRepository.from_url(settings.profile_db_url)
    gateway = ProfileGateway(repo, settings.profile_timeout_s)
    sent = failed = 0
    # "once per process and day", counted back from the earlier of --now and the clock
    aware_now = now if now.tzinfo else now.replace(tzinfo=dt.timezone.utc)
    day_ago = min(aware_now.timestamp(), dt.datetime.now(dt.timezone.utc).timestamp()) - 86400
    try:
        for customer_id, (conversation_id, _) in sorted(owners.items()):
            lookup = await gateway.get(customer_id)
            if not lookup.found or lookup.profile is None:
                continue
            for case in stalled_cases(lookup.profile, now):
                if reminded_recently(settings.tracker_db_url, conversation_id, case.order_id, day_ago):
                    continue
                notification = Notification(
                    conversation_id, ExternalEvent.PROCESS_STALLED, {"order_id": case.order_id}
                )
                if args.dry_run:
                    print(f"would remind {conversation_id}: {case.process} of order {case.order_id}, "
                          f"{case.overdue_business_days} working day(s) late")
                    continue
                try:
                    await client.trigger(notification)
                    sent += 1
                except FollowUpError as exc:
                    failed += 1
                    logger.warning("reminder for %s failed: %s", conversation_id, exc)
    finally:
        await repo.close()
    print(f"reminders sent: {sent}, failed: {failed}")
    return 1 if failed else 0


def _cmd_remind(args: argparse.Namespace) -> int:
    return asyncio.run(_remind(args))


def add_commands(commands: Any) -> None:
    """Adds ``notify`` and ``remind`` to ``python -m bot processes``."""
    notify = commands.add_parser("notify", help="tell a customer about a change of state (Rasa external event)")
    notify.add_argument("--conversation", required=True, help="Rasa conversation (sender) id")
    notify.add_argument("--event", required=True, choices=[e.value for e in ExternalEvent])
    notify.add_argument("--order-id", help="the order the event is about")
    notify.add_argument("--dry-run", action="store_true", help="print the request instead of sending it")
    notify.set_defaults(func=_cmd_notify)

    remind = commands.add_parser("remind", help="check back with customers whose processes are stalled")
    remind.add_argument("--now", help="ISO date/time to assess from (default: now)")
    remind.add_argument("--dry-run", action="store_true", help="list the reminders instead of sending them")
    remind.set_defaults(func=_cmd_remind)
