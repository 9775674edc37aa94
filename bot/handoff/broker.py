"""Consumer of Rasa's SQL event broker (table ``events``: id, sender_id, data JSON).

Durability: the consumer's cursor (the last broker event id applied) lives in the handoff
database and moves in the same transaction as the effects of the events it covers, so after a
crash or a stop the service resumes exactly where it was: every event is applied once, none is
skipped. Events written while the service was down simply wait in the table.

Ids come from the broker table's integer primary key, which SQLite assigns in commit order with a
single Rasa writer. (With several Rasa instances on PostgreSQL, a sequence can commit out of
order; that set-up should use the RabbitMQ broker instead, see the issue's production path.)
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import make_engine
from bot.handoff.service import HandoffService, Notify

logger = logging.getLogger(__name__)

broker_events = sa.Table(
    "events",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255)),
    sa.Column("data", sa.Text),
)

#: events the service cares about; everything else only moves the cursor
INTERESTING = ('"event": "slot"', '"event": "user"', '"event": "bot"', '"event": "resume"',
               '"event": "restart"', '"event": "session_started"')


def broker_engine(url: str) -> AsyncEngine:
    """Read access to Rasa's broker database. An SQLite file is Rasa's: it is opened as Rasa left
    it (no journal-mode change, which, made beside Rasa's own connection, was seen to leave a
    reader with "database disk image is malformed"), and with a fresh connection per read (a
    connection kept from before Rasa created the file keeps an empty view of it). The file watch
    keeps those reads rare."""
    return make_engine(url, readonly=True)


class FileWatch:
    """Tells, by reading a few bytes, whether an SQLite broker database may hold new events, so
    the consumer can look every few milliseconds at almost no cost and read the table only when
    something was committed.

    Every commit changes one of two counters SQLite keeps in its files: in WAL mode the wal-index
    header at the start of ``<db>-shm`` (its change counter and last frame, shared memory every
    connection updates), in rollback-journal mode the file change counter at byte 24 of the
    database header. (File times alone are not enough: they tick only as often as the kernel's
    clock and the WAL is rewritten in place after a checkpoint.) The table is also read at least
    every ``recheck_s``, whatever the files say.
    """

    def __init__(self, path: Path, recheck_s: float = 1.0) -> None:
        self.files = (path, path.with_name(path.name + "-shm"))
        self.recheck_s = recheck_s
        self._seen: tuple[bytes | None, bytes | None] | None = None
        self._read_at = 0.0

    @classmethod
    def for_url(cls, url: str) -> "FileWatch | None":
        parsed = make_url(url)
        if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
            return None
        return cls(Path(parsed.database))

    @staticmethod
    def _read(path: Path, offset: int, size: int) -> bytes | None:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return None
        try:
            return os.pread(fd, size, offset)
        finally:
            os.close(fd)

    def _state(self) -> tuple[bytes | None, bytes | None]:
        db, shm = self.files
        return self._read(db, 24, 4), self._read(shm, 0, 48)

    def unchanged(self) -> bool:
        """True when the table need not be read now. Otherwise records the files' state first,
        so a commit that lands during the coming read is seen on the next call."""
        state, now = self._state(), time.monotonic()
        if state == self._seen and now - self._read_at < self.recheck_s:
            return True
        self._seen, self._read_at = state, now
        return False


class EventBrokerConsumer:
    def __init__(
        self, service: HandoffService, broker_engine: AsyncEngine, *, poll_interval_s: float = 0.02,
        batch_size: int = 50,
    ) -> None:
        self.service = service
        self.engine = broker_engine
        self.poll_interval_s = poll_interval_s
        self.batch_size = batch_size
        self.last_error: str | None = None
        self.lag_events = 0
        self._cursor: int | None = None
        self._watch = FileWatch.for_url(str(broker_engine.url))

    @classmethod
    def from_url(cls, service: HandoffService, url: str, **kwargs: Any) -> "EventBrokerConsumer":
        return cls(service, broker_engine(url), **kwargs)

    async def run_forever(self, stop: asyncio.Event | None = None) -> None:
        """Poll until ``stop`` is set. Stopping between batches (rather than cancelling a query)
        leaves no database connection half-used."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            if self._watch is not None and self._watch.unchanged():
                await self._pause(stop)
                continue
            try:
                n = await self.process_batch()
                self.last_error = None
            except (OperationalError, ProgrammingError) as exc:
                # broker table not created yet (Rasa not started) or database briefly locked
                self.last_error = f"event broker not readable: {exc.orig}"
                logger.debug(self.last_error)
                n = 0
            except Exception as exc:  # noqa: BLE001 - log, back off, retry; never die silently
                self.last_error = f"{type(exc).__name__}: {exc}"
                logger.exception("event consumer failed; retrying")
                await asyncio.sleep(1.0)
                n = 0
            if n < self.batch_size:
                await self._pause(stop)

    async def _pause(self, stop: asyncio.Event) -> None:
        if not stop.is_set():
            await asyncio.sleep(self.poll_interval_s)  # cheaper than waiting on ``stop`` itself

    async def process_batch(self) -> int:
        """Apply the next batch of broker events; returns how many were read.

        An idle poll is one indexed read of the broker table: the cursor is cached in memory and
        checked against the database (under a row lock on PostgreSQL) only when there is work.
        """
        store = self.service.store
        if self._cursor is None:
            async with store.begin() as conn:
                cursor = await store.cursor(conn)
                await store.set_cursor(conn, cursor)  # the row exists from now on
            self._cursor = cursor
        cursor = self._cursor
        if self._watch is not None and not self._watch.files[0].exists():
            self.last_error = "event broker database not created yet (is Rasa running?)"
            return 0  # connecting would create an empty file in Rasa's place
        async with self.engine.connect() as bconn:
            rows = (
                await bconn.execute(
                    sa.select(broker_events.c.id, broker_events.c.sender_id, broker_events.c.data)
                    .where(broker_events.c.id > cursor)
                    .order_by(broker_events.c.id)
                    .limit(self.batch_size)
                )
            ).all()
        if not rows:
            self.lag_events = 0
            return 0
        after: list[Notify] = []
        async with store.begin() as conn:
            current = await store.cursor(conn, lock=True)
            if current != cursor:
                self._cursor = current  # another instance applied them meanwhile
                return 0
            batch = []
            for row in rows:
                if not row.data or not any(marker in row.data for marker in INTERESTING):
                    continue
                try:
                    event = json.loads(row.data)
                except ValueError:
                    logger.error("broker event %s is not JSON; skipped", row.id)
                    continue
                sender = row.sender_id or (event.get("sender_id") if isinstance(event, dict) else None) or ""
                if sender and isinstance(event, dict):
                    batch.append((row.id, sender, event))
            if batch:
                after = await self.service.apply_events(conn, batch)
            await store.set_cursor(conn, rows[-1].id)
        self._cursor = rows[-1].id
        for notify in after:
            try:
                await notify()
            except Exception:  # noqa: BLE001 - a console update failing must not stop the consumer
                logger.exception("notification after event failed")
        self.lag_events = len(rows)
        return len(rows)

    async def dispose(self) -> None:
        await self.engine.dispose()


def consumer_for(service: HandoffService, settings: Any, **kwargs: Any) -> Any:
    """The consumer of the configured broker: RabbitMQ (``amqp://``, production, see
    ``broker_pika.py``) or this module's reader of Rasa's SQL broker table (the embedded default)."""
    url = settings.event_broker_db_url
    if url.split(":", 1)[0] in ("amqp", "amqps"):
        from bot.handoff.broker_pika import PikaBrokerConsumer

        return PikaBrokerConsumer(service, url, queue=settings.event_queue, exchange=settings.event_exchange)
    return EventBrokerConsumer.from_url(service, url, **kwargs)
