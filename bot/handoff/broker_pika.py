"""Consumer of Rasa's RabbitMQ event broker (``PikaEventBroker``), beside the SQL one in
``broker.py``: the production path.

Delivery is at least once and the effects exactly once:

- a batch of messages (whatever RabbitMQ has delivered, up to ``prefetch``) is applied in one
  transaction of the handoff database, which also records each applied event's key in
  ``handoff_applied_events``; events whose key is already there are skipped;
- the messages are acknowledged only after that commit. A crash before the commit loses
  nothing (RabbitMQ redelivers, nothing was written); a crash between the commit and the ack
  duplicates nothing (RabbitMQ redelivers, the keys are found, the batch is only acknowledged).

The key is the event's row id in the tracker store (``tandem_event_id``, added by
``bot.stores.tracker.AppendOnlySQLTrackerStore``), or, for a body without one, a hash of the
body. Only events the service acts on are recorded; the others change nothing and are only
acknowledged.

Order: several handoff services consume the queue with an **exclusive** consumer, so one of them
receives at a time, in the order Rasa published, and the others wait to take over (they retry
every ``standby_retry_s``); when the active one dies, RabbitMQ gives its unacknowledged messages
and the queue to the next.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from typing import Any, Callable

import aio_pika
import sqlalchemy as sa
from aio_pika.abc import AbstractIncomingMessage
from aiormq.exceptions import AMQPError, ChannelAccessRefused
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.handoff.broker import INTERESTING
from bot.handoff.service import HandoffService, Notify

logger = logging.getLogger(__name__)

applied_metadata = sa.MetaData()
applied_events = sa.Table(
    "handoff_applied_events",
    applied_metadata,
    sa.Column("event_key", sa.String(64), primary_key=True),
    sa.Column("applied_at", sa.Float, nullable=False),
)

EVENT_ID_KEY = "tandem_event_id"
_MAX_ID = 2**63 - 1


def event_key(body: bytes, event: dict[str, Any]) -> tuple[str, int]:
    """(idempotency key, integer id for the service's records) of one broker message."""
    given = event.get(EVENT_ID_KEY)
    if isinstance(given, int) and not isinstance(given, bool) and given > 0:
        return f"id:{given}", given
    digest = hashlib.sha256(body).hexdigest()
    return f"sha:{digest[:58]}", int(digest[:15], 16) or 1


class PikaBrokerConsumer:
    """Applies Rasa's events from a RabbitMQ queue to the handoff service (see the module)."""

    def __init__(
        self, service: HandoffService, url: str, *, queue: str, exchange: str, prefetch: int = 50,
        standby_retry_s: float = 1.0,
    ) -> None:
        self.service = service
        self.url = url
        self.queue_name = queue
        self.exchange_name = exchange
        self.prefetch = prefetch
        self.standby_retry_s = standby_retry_s
        self.last_error: str | None = None
        self.lag_events = 0
        self.active = False
        #: called after a batch's commit and before its ack (tests put a crash here)
        self.after_commit: Callable[[list[AbstractIncomingMessage]], Any] | None = None
        self._inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        self._connection: aio_pika.abc.AbstractConnection | None = None

    async def create_schema(self) -> None:
        async with self.service.store.begin() as conn:
            if conn.dialect.name == "postgresql":  # replicas starting together: one creates it
                await conn.execute(sa.text("SELECT pg_advisory_xact_lock(7420730143)"))
            await conn.run_sync(applied_metadata.create_all)

    async def _subscribe(self) -> None:
        """Connect and become the queue's exclusive consumer (raises while another one is)."""
        self._connection = await aio_pika.connect(self.url)
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=self.prefetch)
        # declared as Rasa's PikaEventBroker declares them, so whichever starts first is right
        exchange = await channel.declare_exchange(self.exchange_name, type=aio_pika.ExchangeType.FANOUT)
        queue = await channel.declare_queue(self.queue_name, durable=True)
        await queue.bind(exchange, "")
        await queue.consume(self._inbox.put, exclusive=True)

    async def _close(self) -> None:
        connection, self._connection = self._connection, None
        self.active = False
        self._inbox = asyncio.Queue()  # unacked deliveries die with the connection
        if connection is not None and not connection.is_closed:
            try:
                await connection.close()
            except (AMQPError, ConnectionError, OSError, asyncio.CancelledError):
                pass

    async def run_forever(self, stop: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        await self.create_schema()
        while not stop.is_set():
            try:
                if self._connection is None or self._connection.is_closed:
                    await self._subscribe()
                    self.active = True
                    self.last_error = None
                    logger.info("consuming RabbitMQ queue %s", self.queue_name)
                await self._next_batch(stop)
            except ChannelAccessRefused:
                self.last_error = f"standby: another service consumes {self.queue_name}"
                await self._close()
                await _sleep(stop, self.standby_retry_s)
            except (AMQPError, ConnectionError, OSError) as exc:
                self.last_error = f"RabbitMQ: {type(exc).__name__}: {exc}"
                logger.warning("event consumer: %s; reconnecting", self.last_error)
                await self._close()
                await _sleep(stop, self.standby_retry_s)
            except Exception as exc:  # noqa: BLE001 - log, drop the deliveries (redelivered), retry
                self.last_error = f"{type(exc).__name__}: {exc}"
                logger.exception("event consumer failed; its unacknowledged events will be redelivered")
                await self._close()
                await _sleep(stop, self.standby_retry_s)
        await self._close()

    async def _next_batch(self, stop: asyncio.Event) -> None:
        try:
            first = await asyncio.wait_for(self._inbox.get(), timeout=0.5)
        except asyncio.TimeoutError:
            if self._connection is not None and self._connection.is_closed:
                raise ConnectionError("connection closed") from None
            return
        batch = [first]
        while len(batch) < self.prefetch and not self._inbox.empty():
            batch.append(self._inbox.get_nowait())
        await self.apply(batch)

    async def apply(self, batch: list[AbstractIncomingMessage]) -> None:
        """Apply a batch in one transaction, then acknowledge it (see the module)."""
        parsed: list[tuple[str, int, str, dict[str, Any]]] = []
        for message in batch:
            body = message.body
            if not any(marker.encode() in body for marker in INTERESTING):
                continue
            try:
                event = json.loads(body)
            except ValueError:
                logger.error("broker message is not JSON; acknowledged and skipped")
                continue
            if not isinstance(event, dict) or not event.get("sender_id"):
                continue
            key, event_id = event_key(body, event)
            parsed.append((key, event_id, str(event["sender_id"]), event))
        after: list[Notify] = []
        if parsed:
            async with self.service.store.begin() as conn:
                fresh = await self._claim(conn, parsed)
                if fresh:
                    after = await self.service.apply_events(conn, [(i, s, e) for _k, i, s, e in fresh])
        if self.after_commit is not None:
            await self.after_commit(batch)
        await batch[-1].ack(multiple=True)
        self.lag_events = self._inbox.qsize()
        for notify in after:
            try:
                await notify()
            except Exception:  # noqa: BLE001 - a console update failing must not stop the consumer
                logger.exception("notification after event failed")

    async def _claim(
        self, conn: AsyncConnection, parsed: list[tuple[str, int, str, dict[str, Any]]]
    ) -> list[tuple[str, int, str, dict[str, Any]]]:
        """The events not applied before, recorded as applied in this transaction."""
        keys = [key for key, *_rest in parsed]
        seen = set((await conn.execute(
            sa.select(applied_events.c.event_key).where(applied_events.c.event_key.in_(keys))
        )).scalars())
        fresh, claimed = [], set()
        for item in parsed:
            if item[0] in seen or item[0] in claimed:
                continue
            claimed.add(item[0])
            fresh.append(item)
        if fresh:
            now = time.time()
            await conn.execute(applied_events.insert(), [{"event_key": k, "applied_at": now} for k, *_r in fresh])
        return fresh

    async def dispose(self) -> None:
        await self._close()


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except asyncio.TimeoutError:
        pass
