"""Console live updates across handoff services, through Redis pub/sub.

With several handoff services (the production switch), an agent's console is a WebSocket on one
of them, and an event may be applied by another: the one consuming the broker (a new request, a
customer's message), or the one another agent's browser talks to (taken, transferred, closed).
:class:`RedisConsoleHub` is the :class:`~bot.handoff.service.ConsoleHub` that delivers to its own
consoles at once and publishes the same update on the deployment's ``<prefix>:console`` channel
(:mod:`bot.redis_bus`); every other service delivers it to its consoles with the same rule of who
may see what (:func:`~bot.handoff.service.may_see`). What travels is the payload and the three
fields that rule reads (id, queue, agent), as JSON.

Delivery is at most once: Redis keeps nothing for a service that is away, and a console that
reconnects gets a snapshot (``GET /ws`` sends one first). A Redis outage leaves each service
updating its own consoles, as the embedded set-up does; it is logged, not raised, and once the
service is subscribed again it tells its consoles ``{"type": "resync"}``, on which a console asks
for a fresh snapshot (what was published meanwhile is lost to it otherwise).
Without ``TANDEM_REDIS_URL`` the app uses the in-process :class:`ConsoleHub`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from bot import redis_bus
from bot.handoff.models import Conversation, Topic
from bot.handoff.service import ConsoleHub

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Audience:
    """What :func:`~bot.handoff.service.may_see` reads of a conversation, sent with an update."""

    id: int
    topic: Topic
    agent: str | None


class RedisConsoleHub(ConsoleHub):
    """A :class:`ConsoleHub` whose updates reach the consoles of every handoff service."""

    def __init__(self, url: str, *, retry_s: float = 1.0) -> None:
        super().__init__()
        self.url = url
        self.channel = redis_bus.channel(url, "console")
        self.origin = uuid.uuid4().hex  # this service: it skips its own messages
        self.retry_s = retry_s
        self._redis: Any = None
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def start(self) -> None:
        """Subscribe (returns once subscribed, so no later update is missed) and listen."""
        # named, so an operator (or a test) can tell this service's connections apart
        self._redis = redis_bus.client(self.url, client_name=f"tandem-console-{self.origin[:12]}")
        self._listener = asyncio.create_task(self._listen_forever(), name="handoff-console-bus")
        waiting = asyncio.ensure_future(self._subscribed.wait())
        await asyncio.wait({waiting, self._listener}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        if not self._subscribed.is_set():
            logger.error("console updates: not subscribed to %s yet; retrying in the background", self.channel)

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        if self._redis is not None:
            with contextlib.suppress(Exception):
                await self._redis.close()
            self._redis = None

    async def publish(self, conv: Conversation | Audience, payload: dict[str, Any], *, also: Topic | None = None,
                      withdraw: bool = False) -> None:
        await super().publish(conv, payload, also=also, withdraw=withdraw)
        await self._send({"kind": "publish", "conversation": {"id": conv.id, "topic": conv.topic.value,
                                                              "agent": conv.agent},
                          "payload": payload, "also": also.value if also is not None else None,
                          "withdraw": withdraw})

    async def close_agent(self, name: str) -> None:
        await super().close_agent(name)
        await self._send({"kind": "close_agent", "name": name})

    async def _send(self, message: dict[str, Any]) -> None:
        if self._redis is None:
            return
        try:
            await self._redis.publish(self.channel, json.dumps({**message, "origin": self.origin}))
        except Exception as exc:  # noqa: BLE001 - the local consoles have it; the others miss it
            logger.error("console update not shared with the other handoff services: %s", exc)

    async def _listen_forever(self) -> None:
        interrupted = False
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self._subscribed.set()
                if interrupted:
                    logger.info("console updates from other handoff services resumed; consoles resync")
                    await self._resync_consoles()
                    interrupted = False
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        await self._receive(message.get("data"))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Redis went away: subscribe again
                logger.error("console updates from other handoff services interrupted: %s; retrying", exc)
                interrupted = True
                await asyncio.sleep(self.retry_s)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.close()

    async def _resync_consoles(self) -> None:
        """Every console here asks for a snapshot: updates may have been missed meanwhile."""
        sockets = list(self._sockets)
        results = await asyncio.gather(*(ws.send_json({"type": "resync"}) for ws in sockets), return_exceptions=True)
        for ws, result in zip(sockets, results):
            if isinstance(result, Exception):
                self.remove(ws)

    async def _receive(self, raw: Any) -> None:
        try:
            message = json.loads(raw)
            if not isinstance(message, dict) or message.get("origin") == self.origin:
                return
            if message.get("kind") == "close_agent" and isinstance(message.get("name"), str):
                await ConsoleHub.close_agent(self, message["name"])
            elif message.get("kind") == "publish":
                conv = message["conversation"]
                audience = Audience(int(conv["id"]), Topic(conv["topic"]), conv.get("agent"))
                also = Topic(message["also"]) if message.get("also") else None
                await ConsoleHub.publish(self, audience, message["payload"], also=also,
                                         withdraw=bool(message.get("withdraw")))
        except (ValueError, KeyError, TypeError) as exc:
            logger.warning("a console update on %s was not understood (%s): ignored", self.channel, exc)


def hub_for(redis_url: str | None) -> ConsoleHub:
    """Redis fan-out across services in production, in-process in the embedded set-up."""
    return RedisConsoleHub(redis_url) if redis_url else ConsoleHub()
