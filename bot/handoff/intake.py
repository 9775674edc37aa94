"""A handoff request's way into the service: one signed call, one answer.

``action_handoff`` (actions/handoff.py) builds the request (who, why, which topic, the channel and
the customer's first words) and POSTs it to the service's ``/api/intake``, signed with the
service secret (HMAC-SHA256 of the body, header ``X-Tandem-Signature``). The service owns the
queue: it reads the customer's profile (segments, flags, name), puts the request in its queue
with its priority and answers with the queue position, the estimated wait and whether we are
open (:class:`IntakeAnswer`), which the action tells the customer.

The action also stores the request in the ``handoff_request`` slot, so Rasa's event broker
brings it to the service durably when the call fails; both paths carry the same ``handoff_id``,
and the queue applies a request once.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Mapping

import aiohttp

from bot.handoff.models import FIRST_WORDS_CHARS, HandoffRequest, Mode
from bot.vocabulary import EXPLICIT_REQUEST_REASON, UNSPECIFIED_REASON, Slot, Topic, topic_for_intents

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Tandem-Signature"
#: how long the action waits for the service's answer (it reads the profile and the queue)
INTAKE_TIMEOUT_S = 3.0


def derive_topic(slot_value: object, intents: Iterable[str | None]) -> Topic:
    """The policy's topic if it set one, else the topic of the most recent business intent."""
    if slot_value:
        return Topic.parse(slot_value)
    return topic_for_intents(intents)


def derive_reason(slot_value: object, last_intent: str | None) -> str:
    """``<code>: <sentence>``, the escalation policy's format; a default when it set none."""
    if isinstance(slot_value, str) and slot_value.strip():
        return slot_value.strip()[:1000]
    if last_intent == "contact_human_agent":
        return EXPLICIT_REQUEST_REASON
    return UNSPECIFIED_REASON


def first_words(texts: Iterable[str | None]) -> str | None:
    """The customer's first typed message (button payloads like ``/greet`` are not words)."""
    for text in texts:
        words = " ".join((text or "").split())
        if words and not words.startswith("/"):
            return words[:FIRST_WORDS_CHARS]
    return None


def build_request(
    *,
    sender_id: str,
    slots: Mapping[str, Any],
    intents: list[str | None],
    requested_at: float,
    channel: str | None = None,
    first_message: str | None = None,
) -> HandoffRequest:
    """The request ``action_handoff`` sends; ``intents`` newest first."""
    return HandoffRequest(
        handoff_id=uuid.uuid4().hex,
        sender_id=sender_id,
        topic=derive_topic(slots.get(Slot.ESCALATION_TOPIC), intents),
        reason=derive_reason(slots.get(Slot.ESCALATION_REASON), intents[0] if intents else None),
        requested_at=requested_at,
        customer_id=slots.get(Slot.CUSTOMER_ID) or None,
        mode=Mode.CHAT,
        channel=channel or None,
        first_message=first_message,
    )


@dataclass(frozen=True)
class IntakeAnswer:
    """What the service tells the action about a request it queued."""

    conversation_id: int
    created: bool
    topic: Topic
    position: int
    #: seconds until an agent picks the customer up; None: nobody can serve now (no agent free,
    #: or outside opening hours)
    wait_s: int | None
    open_now: bool
    next_opening: datetime | None
    #: the opening hours, described for people ("Mon-Fri 08:00-20:00 (UTC)")
    hours: str

    def to_json(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "created": self.created,
            "topic": self.topic.value,
            "position": self.position,
            "wait_s": self.wait_s,
            "open_now": self.open_now,
            "next_opening": self.next_opening.isoformat() if self.next_opening else None,
            "hours": self.hours,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "IntakeAnswer":
        """Raises ``ValueError``/``KeyError``/``TypeError`` on a malformed answer."""
        wait = data.get("wait_s")
        nxt = data.get("next_opening")
        return cls(
            conversation_id=int(data["conversation_id"]),
            created=bool(data["created"]),
            topic=Topic.parse(data["topic"]),
            position=max(1, int(data["position"])),
            wait_s=None if wait is None else max(0, int(wait)),
            open_now=bool(data["open_now"]),
            next_opening=datetime.fromisoformat(nxt) if nxt else None,
            hours=str(data.get("hours") or ""),
        )


def sign(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def signature_ok(secret: bytes, body: bytes, header: str | None) -> bool:
    return bool(header) and hmac.compare_digest(sign(secret, body), header or "")


def intake_body(request: HandoffRequest) -> bytes:
    return json.dumps({"sender_id": request.sender_id, "request": request.to_slot()}).encode()


async def submit(
    session: aiohttp.ClientSession,
    service_url: str,
    secret: bytes,
    request: HandoffRequest,
    *,
    timeout_s: float = INTAKE_TIMEOUT_S,
) -> IntakeAnswer | None:
    """Hand ``request`` to the service and return its answer; None when it is down, slow or
    refuses (logged). Never raises: the broker event still brings the request."""
    body = intake_body(request)
    try:
        async with session.post(
            f"{service_url.rstrip('/')}/api/intake",
            data=body,
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body)},
            timeout=aiohttp.ClientTimeout(total=timeout_s),
        ) as resp:
            if resp.status == 200:
                return IntakeAnswer.from_json(await resp.json())
            logger.warning("handoff service refused the request (%s): %s", resp.status, (await resp.text())[:200])
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        logger.warning("handoff service not reachable (%s); the event broker will bring the request",
                       exc or type(exc).__name__)
    except (ValueError, KeyError, TypeError) as exc:
        logger.error("handoff service answered something unreadable: %s", exc)
    return None


@dataclass(frozen=True)
class IntakeClient:
    """The action server's side of ``/api/intake``: the service's URL and the shared secret."""

    service_url: str
    secret: bytes = field(repr=False)
    timeout_s: float = INTAKE_TIMEOUT_S

    async def submit(self, request: HandoffRequest) -> IntakeAnswer | None:
        # one session per request: a session must not outlive the loop that made it
        async with aiohttp.ClientSession() as http:
            return await submit(http, self.service_url, self.secret, request, timeout_s=self.timeout_s)
