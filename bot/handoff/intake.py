"""The customer's side of a handoff request: topic, reason, queue estimate and what to say.

Used by ``action_handoff`` (actions/handoff.py); plain async Python so it is tested without Rasa.
The action reads the queue (to tell position and wait). The request itself travels to the
service durably through the ``handoff_request`` slot and Rasa's event broker, so it is not lost
when the handoff service is down; the action also *announces* it to the service directly
(:func:`announce`, signed, best effort, idempotent with the broker event), so that agents see it
without waiting for Rasa to finish the turn and for the next broker poll.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable

import aiohttp

from bot.handoff import routing, texts
from bot.handoff.config import BusinessHours
from bot.handoff.models import HandoffRequest, Mode, QueueEstimate, Topic
from bot.handoff.store import QueueStore, estimate_for

logger = logging.getLogger(__name__)

#: words in the last intent's name → topic, when the escalation policy set none
INTENT_TOPICS = (
    (("complain", "complaint", "legal"), Topic.COMPLAINTS),
    (("refund", "invoice", "payment", "billing", "charge", "bill"), Topic.REFUNDS_BILLING),
    (("order", "deliver", "shipping", "track", "cancel", "return"), Topic.ORDERS),
    (("account", "password", "login", "address", "profile", "privacy", "newsletter"), Topic.ACCOUNT),
)


def derive_topic(slot_value: object, intents: Iterable[str | None]) -> Topic:
    """The policy's topic if valid, else guessed from the most recent meaningful intent."""
    if slot_value:
        return Topic.parse(slot_value)
    for intent in intents:
        name = (intent or "").lower()
        for words, topic in INTENT_TOPICS:
            if any(w in name for w in words):
                return topic
    return Topic.GENERAL


def derive_reason(slot_value: object, last_intent: str | None) -> str:
    """``<code>: <sentence>``, the escalation policy's format; a default when it set none."""
    if isinstance(slot_value, str) and slot_value.strip():
        return slot_value.strip()[:1000]
    if last_intent == "contact_human_agent":
        return "explicit_request: The customer asked to speak to a person."
    return "unspecified: The conversation was handed to an agent without a recorded reason."


@dataclass(frozen=True)
class HandoffPlan:
    request: HandoffRequest
    estimate: QueueEstimate
    message: str
    buttons: list[dict[str, str]]


async def estimate(
    store: QueueStore | None,
    topic: Topic,
    my_key: float,
    hours: BusinessHours,
    now: datetime,
    *,
    presence_ttl_s: float = 60.0,
    default_handle_s: float = 300.0,
    timeout_s: float = 2.0,
) -> QueueEstimate:
    """Position and wait from the queue database; honest fallbacks when it cannot be read."""
    open_now = hours.is_open(now)
    next_open = None if open_now else hours.next_opening(now)
    if store is None:
        return QueueEstimate(1, None, 0, open_now, next_open, {"error": "no queue database"})
    try:
        async with store.begin() as conn:
            position, eta, agents = await asyncio.wait_for(
                estimate_for(store, conn, topic, my_key, presence_ttl_s=presence_ttl_s,
                             default_handle_s=default_handle_s),
                timeout_s,
            )
    except Exception as exc:  # noqa: BLE001 - the handoff goes ahead; only the estimate is missing
        logger.warning("queue estimate unavailable: %s", exc)
        return QueueEstimate(1, None, 0, open_now, next_open, {"error": str(exc)})
    if not open_now:
        eta = None
    return QueueEstimate(position, eta, agents, open_now, next_open)


async def plan_handoff(
    *,
    sender_id: str,
    slots: dict[str, Any],
    intents: list[str | None],
    store: QueueStore | None,
    hours: BusinessHours,
    now: datetime | None = None,
    presence_ttl_s: float = 60.0,
    default_handle_s: float = 300.0,
) -> HandoffPlan:
    now = now or datetime.now(timezone.utc)
    topic = derive_topic(slots.get("escalation_topic"), intents)
    reason = derive_reason(slots.get("escalation_reason"), intents[0] if intents else None)
    segments = tuple(str(s) for s in slots.get("customer_segments") or ())
    flags = tuple(str(s) for s in slots.get("customer_flags") or ())
    requested_at = now.timestamp()
    key = routing.sort_key(requested_at, routing.priority_for(segments, flags, topic))
    est = await estimate(store, topic, key, hours, now, presence_ttl_s=presence_ttl_s,
                         default_handle_s=default_handle_s)
    unknown_estimate = "error" in est.extra and est.open_now
    if est.eta_s is not None or unknown_estimate:
        message = texts.queued(topic, est.position, est.eta_s)
        if unknown_estimate:
            message = (
                f"I'm passing you to a person from our {texts.TOPIC_LABEL[topic]} team. I can't see the queue "
                "right now, so I can't tell you the wait, but your request is saved with this conversation "
                "and they will see everything, so you won't need to repeat anything."
            )
        buttons: list[dict[str, str]] = []
    else:
        message = texts.no_agent(topic, est.open_now, hours.describe(), est.next_opening)
        buttons = [
            {"title": "Call me back", "payload": texts.CALLBACK_PAYLOAD},
            {"title": "Answer by e-mail", "payload": texts.EMAIL_PAYLOAD},
            {"title": "I'll wait here", "payload": texts.KEEP_WAITING_PAYLOAD},
        ]
    request = HandoffRequest(
        handoff_id=uuid.uuid4().hex,
        sender_id=sender_id,
        topic=topic,
        reason=reason,
        requested_at=requested_at,
        customer_id=slots.get("customer_id") or None,
        customer_name=slots.get("customer_name") or None,
        segments=segments,
        flags=flags,
        position_told=est.position,
        eta_told_s=est.eta_s,
        mode=Mode.CHAT,
    )
    return HandoffPlan(request, est, message, buttons)


SIGNATURE_HEADER = "X-Tandem-Signature"


def sign(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def signature_ok(secret: bytes, body: bytes, header: str | None) -> bool:
    return bool(header) and hmac.compare_digest(sign(secret, body), header or "")


def announcement(request: HandoffRequest) -> bytes:
    return json.dumps({"sender_id": request.sender_id, "request": request.to_slot()}).encode()


async def announce(
    session: aiohttp.ClientSession, service_url: str, secret: bytes, request: HandoffRequest, *, timeout_s: float = 0.5
) -> bool:
    """Tell the handoff service about ``request`` now. Never raises: when the service is down or
    slow, the broker event brings the request a little later, so nothing is lost."""
    body = announcement(request)
    try:
        async with session.post(
            f"{service_url.rstrip('/')}/api/intake",
            data=body,
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body)},
            timeout=aiohttp.ClientTimeout(total=timeout_s),
        ) as resp:
            if resp.status == 200:
                return True
            logger.warning("handoff service refused the announcement (%s): %s", resp.status, (await resp.text())[:200])
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        logger.info("handoff service not reachable (%s); the event broker will bring the request", exc or type(exc).__name__)
    return False


def monotonic_ms() -> float:
    return time.monotonic() * 1000
