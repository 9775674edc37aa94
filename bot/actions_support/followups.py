"""Proactive follow-ups: tell the customer when a process changes, check back when it stalls.

Two ways in, both ending in Rasa's external events
(``POST /conversations/{id}/trigger_intent?output_channel=latest``) with an
``EXTERNAL_*`` intent, so the message reaches the customer on the channel
they last used and ``action_followup`` words it from the live profile:

* ``python -m bot processes notify --conversation ID --event refund_paid --order-id N``:
  a source system (or an operator) reports a change of state;
* ``python -m bot processes remind``: goes through the latest conversation of
  every customer the bot identified (recorded in tandem's profile store when
  the customer is identified: :func:`remember_conversation`), finds their
  processes that are past their promise by more than
  ``policies.stalled_after_business_days``, and checks back once per process
  and day (the conversation's tracker says whether it already did).

Rasa is reached through tandem's one client of its HTTP API
(:class:`bot.rasa_api.RasaClient`: token, time limit and retries).
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
from typing import TYPE_CHECKING, Any, Mapping

from bot.processes.catalogue import Catalogue, When, default_catalogue
from bot.processes.statement import Case, assess
from bot.profile.model import CustomerProfile, OrderStatus, RefundState
from bot.rasa_api import RasaAPIError, RasaClient, RasaNotFound

if TYPE_CHECKING:
    from bot.actions_support.conversation import Turn
    from bot.actions_support.gateway import ProfileGateway

logger = logging.getLogger(__name__)

__all__ = [
    "ExternalEvent",
    "Notification",
    "StalledCase",
    "add_commands",
    "notify",
    "reminded_recently",
    "remember_conversation",
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


@dataclass(frozen=True)
class Notification:
    conversation_id: str
    event: ExternalEvent
    entities: Mapping[str, str] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        return {"name": self.event.intent, "entities": dict(self.entities)}


async def notify(client: RasaClient, notification: Notification) -> list[str]:
    """Send the external event; return the bot's messages to the customer (raises RasaAPIError)."""
    return await client.trigger_intent(notification.conversation_id, notification.event.intent, notification.entities)


async def remember_conversation(gateway: ProfileGateway, profile: CustomerProfile | None, turn: Turn) -> None:
    """When this turn identifies the customer, record their conversation and channel in the
    profile store (best effort: a failure is logged by the gateway, the answer goes on)."""
    if profile is None or turn.slot("customer_id") == profile.customer_id:
        return
    await gateway.write("remember the conversation", "record_conversation",
                        profile.customer_id, turn.conversation_id, turn.input_channel)


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


async def reminded_recently(client: RasaClient, conversation_id: str, order_id: str, since: float) -> bool:
    """Was this process already followed up in this conversation after ``since`` (epoch seconds)?
    The conversation's own tracker (Rasa's API) holds the external events it received."""
    try:
        tracker = await client.tracker(conversation_id)
    except RasaNotFound:
        return False
    for event in tracker.get("events") or []:
        if event.get("event") != "user" or float(event.get("timestamp") or 0) < since:
            continue
        parse = event.get("parse_data") or {}
        if (parse.get("intent") or {}).get("name") != ExternalEvent.PROCESS_STALLED.intent:
            continue
        if any(str(e.get("value")) == order_id for e in parse.get("entities") or [] if isinstance(e, dict)):
            return True
    return False


# -- command line ---------------------------------------------------------------


def _client() -> tuple[RasaClient, Any]:
    from bot.settings import Settings

    settings = Settings.from_env()
    return RasaClient(settings.rasa_url, settings.rasa_token, timeout_s=10.0), settings


def _cmd_notify(args: argparse.Namespace) -> int:
    client, _ = _client()
    entities = {"order_id": args.order_id} if args.order_id else {}
    notification = Notification(args.conversation, ExternalEvent(args.event), entities)
    if args.dry_run:
        print(f"POST {client.trigger_url(notification.conversation_id)} {json.dumps(notification.payload())}")
        return 0
    try:
        messages = asyncio.run(notify(client, notification))
    except RasaAPIError as exc:
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
    repo = ProfileRepository.from_url(settings.profile_db_url)
    gateway = ProfileGateway(repo, settings.profile_timeout_s)
    sent = failed = 0
    # "once per process and day", counted back from the earlier of --now and the clock
    aware_now = now if now.tzinfo else now.replace(tzinfo=dt.timezone.utc)
    day_ago = min(aware_now.timestamp(), dt.datetime.now(dt.timezone.utc).timestamp()) - 86400
    try:
        ok, owners = await gateway.write_result("list the customers' conversations", "latest_conversations")
        if not ok:
            print("error: cannot read the customers' conversations from the profile store", file=sys.stderr)
            return 1
        for customer_id, (conversation_id, _channel, _seen) in sorted(owners.items()):
            lookup = await gateway.get(customer_id)
            if not lookup.found or lookup.profile is None:
                continue
            for case in stalled_cases(lookup.profile, now):
                try:
                    if await reminded_recently(client, conversation_id, case.order_id, day_ago):
                        continue
                    if args.dry_run:
                        print(f"would remind {conversation_id}: {case.process} of order {case.order_id}, "
                              f"{case.overdue_business_days} working day(s) late")
                        continue
                    await notify(client, Notification(
                        conversation_id, ExternalEvent.PROCESS_STALLED, {"order_id": case.order_id}
                    ))
                    sent += 1
                except RasaAPIError as exc:
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
