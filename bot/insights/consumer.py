"""The incremental consumer that fills the reporting tables.

Three sources, each with its own cursor in ``ins_cursor`` that moves in the same transaction as
the facts it produced, so a crash or a second run never counts anything twice or skips anything:

* Rasa's SQL event broker table (``events``: id, sender_id, data): cursor = last event id;
* the handoff queue (``handoff_conversations``): cursor = last queue row id, plus a re-read of
  the rows whose handoff is still open here (they change state: accepted, closed...);
* the profile store's process requests (``tp_request``): cursor = newest ``created_at`` seen,
  re-read with an overlap (rows are keyed, so a re-read inserts nothing).

Source tables are declared here with only the columns read, so the handoff service's internals
can change without touching this module as long as those columns stay.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.insights import schema as t
from bot.insights.db import InsightsSettings, create_schema, make_engine
from bot.insights.fold import (
    ABANDONED,
    ACCEPTED,
    CLOSED,
    HANDED_BACK,
    OPEN_OUTCOMES,
    QUIET_S,
    WAITING,
    WENT_QUIET,
    ConversationFact,
    Fold,
    HandoffFact,
    quiet_since,
    reason_code,
    wait_bucket,
)
from bot.insights.rollup import refresh

logger = logging.getLogger(__name__)

_src = sa.MetaData()
broker_events = sa.Table(
    "events", _src,
    sa.Column("id", sa.Integer, primary_key=True), sa.Column("sender_id", sa.String(255)), sa.Column("data", sa.Text),
)
queue_rows = sa.Table(
    "handoff_conversations", _src,
    sa.Column("id", sa.Integer, primary_key=True), sa.Column("handoff_id", sa.String(64)),
    sa.Column("sender_id", sa.String(255)), sa.Column("topic", sa.String(32)), sa.Column("reason", sa.Text),
    sa.Column("status", sa.String(16)), sa.Column("mode", sa.String(16)), sa.Column("created_at", sa.DateTime),
    sa.Column("assigned_at", sa.DateTime), sa.Column("closed_at", sa.DateTime), sa.Column("disposition", sa.String(32)),
)
queue_messages = sa.Table(
    "handoff_messages", _src,
    sa.Column("id", sa.Integer, primary_key=True), sa.Column("conversation_id", sa.Integer),
    sa.Column("kind", sa.String(16)), sa.Column("created_at", sa.DateTime),
)
profile_requests = sa.Table(
    "tp_request", _src,
    sa.Column("request_id", sa.String(40), primary_key=True), sa.Column("kind", sa.String(40)),
    sa.Column("conversation_id", sa.String(120)), sa.Column("created_at", sa.DateTime),
)

BROKER, QUEUE, REQUESTS = "rasa_events", "handoff_queue", "process_requests"
#: the went-quiet sweep's lock row in ``ins_cursor`` (its position is unused)
QUIET = "quiet_sweep"
#: events that can change a report; the rest only move the cursor (cheap substring test first)
INTERESTING = ('"event": "user"', '"event": "slot"', '"event": "action"', '"event": "bot"', '"event": "resume"',
               '"event": "pause"', '"event": "restart"', '"event": "session_started"')
#: process requests are re-read this far behind the newest one seen (clock skew between writers)
REQUEST_OVERLAP = timedelta(minutes=10)



def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _insert_ignore(conn: AsyncConnection, table: sa.Table) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` in the connection's dialect."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


#: the row every writing pass locks first (see ``get_cursor``)
WRITER = "_writer"


async def get_cursor(conn: AsyncConnection, name: str, *, lock: bool = False) -> int:
    """The source's position. ``lock``: first take the consumer's one write lock, so the check
    that nobody moved the cursor and everything the transaction then reads and writes happen
    under it. One lock for every source, not one per cursor: the broker and the queue passes both
    create handoff rows under the same key, and on PostgreSQL two passes holding different
    cursor rows would each find the key free and both insert it. A no-op ``UPDATE`` of the
    ``WRITER`` row takes the lock on both databases: it locks the row on PostgreSQL (whose next
    statements then see what the previous holder committed), and on SQLite it starts the write
    transaction (Python's sqlite3 module begins one only at the first write, so reads before it
    would see a snapshot another consumer may already have changed)."""
    if lock:
        touched = await conn.execute(
            t.cursor.update().where(t.cursor.c.name == WRITER).values(position=t.cursor.c.position))
        if touched.rowcount == 0:
            await conn.execute(_insert_ignore(conn, t.cursor).values(name=WRITER, position=0, updated_at=utcnow()))
            await conn.execute(
                t.cursor.update().where(t.cursor.c.name == WRITER).values(position=t.cursor.c.position))
    row = (await conn.execute(sa.select(t.cursor.c.position).where(t.cursor.c.name == name))).first()
    return int(row.position) if row else 0


async def set_cursor(conn: AsyncConnection, name: str, position: int) -> None:
    result = await conn.execute(
        t.cursor.update().where(t.cursor.c.name == name).values(position=position, updated_at=utcnow()))
    if result.rowcount == 0:
        await conn.execute(_insert_ignore(conn, t.cursor).values(name=name, position=position, updated_at=utcnow()))


async def mark_days(conn: AsyncConnection, days: Iterable[date]) -> None:
    rows = [{"day": d} for d in sorted(set(days))]
    if rows:
        await conn.execute(_insert_ignore(conn, t.dirty_day), rows)


# -- loading and storing facts ------------------------------------------------------------------


def _conv_from_row(row: Any) -> ConversationFact:
    return ConversationFact(
        id=row.id, sender_id=row.sender_id, started_at=row.started_at, last_event_at=row.last_event_at,
        channel=row.channel, user_turns=row.user_turns, fallback_turns=row.fallback_turns, oos_turns=row.oos_turns,
        handoffs=row.handoffs, reason=row.reason, topic=row.topic, rating=row.rating,
        rating_comment=bool(row.rating_comment), state=json.loads(row.state or "{}"),
    )


def _handoff_from_row(row: Any) -> HandoffFact:
    return HandoffFact(
        id=row.id, key=row.handoff_key, sender_id=row.sender_id, requested_at=row.requested_at, topic=row.topic,
        reason=row.reason, channel=row.channel, intent_before=row.intent_before, conversation_id=row.conversation_id,
        accepted_at=row.accepted_at, first_reply_at=row.first_reply_at, ended_at=row.ended_at, outcome=row.outcome,
        disposition=row.disposition,
    )


def _conv_values(c: ConversationFact) -> dict[str, Any]:
    return {
        "sender_id": c.sender_id, "started_at": c.started_at, "day": c.day, "last_event_at": c.last_event_at,
        "channel": c.channel, "user_turns": c.user_turns, "fallback_turns": c.fallback_turns,
        "oos_turns": c.oos_turns, "handoffs": c.handoffs, "reason": c.reason, "topic": c.topic, "rating": c.rating,
        "rating_comment": c.rating_comment, "state": json.dumps(c.state, sort_keys=True),
    }


def _handoff_values(h: HandoffFact) -> dict[str, Any]:
    wait = h.wait_s
    return {
        "handoff_key": h.key, "conversation_id": h.conversation_id, "sender_id": h.sender_id,
        "requested_at": h.requested_at, "day": h.day, "channel": h.channel, "topic": h.topic, "reason": h.reason,
        "explicit": h.explicit, "intent_before": h.intent_before, "accepted_at": h.accepted_at,
        "first_reply_at": h.first_reply_at, "ended_at": h.ended_at, "outcome": h.outcome,
        "disposition": h.disposition, "wait_s": wait, "reply_s": h.reply_s, "handle_s": h.handle_s,
        "wait_bucket": wait_bucket(wait) if wait is not None else None,
    }


def _merge(h: HandoffFact, other: HandoffFact) -> None:
    """Combine what the broker knows (``h``) with what the queue consumer stored (``other``)."""
    for name in ("accepted_at", "first_reply_at"):
        mine, theirs = getattr(h, name), getattr(other, name)
        setattr(h, name, min(x for x in (mine, theirs) if x) if (mine or theirs) else None)
    h.ended_at = other.ended_at or h.ended_at
    if other.outcome not in OPEN_OUTCOMES:
        h.outcome = other.outcome
    elif h.outcome == "waiting" and other.outcome == ACCEPTED:
        h.outcome = ACCEPTED
    h.disposition = other.disposition or h.disposition
    h.changed = True


async def load_current(conn: AsyncConnection, senders: Sequence[str]) -> list[ConversationFact]:
    """The latest conversation of each sender, with its handoffs."""
    if not senders:
        return []
    latest = (
        sa.select(sa.func.max(t.conversation.c.id))
        .where(t.conversation.c.sender_id.in_(list(senders)))
        .group_by(t.conversation.c.sender_id)
    )
    convs = [_conv_from_row(r) for r in await conn.execute(sa.select(t.conversation).where(t.conversation.c.id.in_(latest)))]
    by_id = {c.id: c for c in convs}
    if by_id:
        rows = await conn.execute(
            sa.select(t.handoff).where(t.handoff.c.conversation_id.in_(list(by_id))).order_by(t.handoff.c.id))
        for row in rows:
            by_id[row.conversation_id].handoff_list.append(_handoff_from_row(row))
    return convs


async def save_fold(conn: AsyncConnection, fold: Fold) -> None:
    """Write what the fold changed: conversations, handoffs (merged with rows the queue consumer
    created under the same key), inbox entries, follow-ups, and the days to roll up again."""
    days = set(fold.days)
    for chunk in _chunks(fold.dropped, 500):
        await conn.execute(t.handoff.delete().where(t.handoff.c.id.in_(chunk)))
    for conv in fold.touched:
        if conv.id is None:
            conv.id = (await conn.execute(t.conversation.insert().values(**_conv_values(conv)))).inserted_primary_key[0]
        elif conv.changed:
            await conn.execute(t.conversation.update().where(t.conversation.c.id == conv.id).values(**_conv_values(conv)))
    changed = [h for conv in fold.touched for h in conv.handoff_list if h.changed]
    keys = [h.key for h in changed]
    existing: dict[str, HandoffFact] = {}
    for chunk in _chunks(keys, 500):
        for row in await conn.execute(sa.select(t.handoff).where(t.handoff.c.handoff_key.in_(chunk))):
            existing[row.handoff_key] = _handoff_from_row(row)
    for h in changed:
        conv = h.conversation
        h.conversation_id = conv.id if conv is not None else h.conversation_id
        if conv is not None and not h.channel:
            h.channel = conv.channel
        stored = existing.get(h.key)
        if stored is not None and stored.id != h.id:
            _merge(h, stored)  # the queue saw it first; the broker's row (if any) is folded into it
            if h.id is not None:
                await conn.execute(t.handoff.delete().where(t.handoff.c.id == h.id))
            h.id = stored.id
            days.add(stored.day)
        if h.id is None:
            h.id = (await conn.execute(t.handoff.insert().values(**_handoff_values(h)))).inserted_primary_key[0]
        else:
            await conn.execute(t.handoff.update().where(t.handoff.c.id == h.id).values(**_handoff_values(h)))
        days.add(h.day)
    if fold.inbox:
        await conn.execute(_insert_ignore(conn, t.inbox), [
            {"event_id": i.event_id, "sender_id": i.sender_id, "received_at": i.received_at, "channel": i.channel,
             "kind": i.kind, "text": i.text, "intent": i.intent, "confidence": i.confidence}
            for i in fold.inbox
        ])
    if fold.followups:
        await conn.execute(_insert_ignore(conn, t.followup), [
            {"event_id": f.event_id, "sender_id": f.sender_id, "kind": f.kind, "channel": f.channel,
             "sent_at": f.sent_at, "day": f.sent_at.date()}
            for f in fold.followups
        ])
    await mark_days(conn, days)


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


# -- the consumer ---------------------------------------------------------------------------------


@dataclass
class InsightsConsumer:
    """Consumes the three sources into the insights database. ``run_once`` drains what is there;
    ``run_forever`` polls. One consumer per process; several processes are safe on PostgreSQL
    (cursor rows are locked) and on SQLite (one writer at a time)."""

    engine: AsyncEngine
    broker: AsyncEngine | None = None
    queue: AsyncEngine | None = None
    profiles: AsyncEngine | None = None
    batch_size: int = 500
    #: a queued customer silent this long (seconds) went quiet: abandoned (None: never)
    quiet_s: float | None = QUIET_S
    #: the present, naive UTC (tests replaying a past day pass their own)
    clock: Callable[[], datetime] = utcnow
    last_error: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: InsightsSettings, **kwargs: Any) -> "InsightsConsumer":
        # a RabbitMQ broker (production path) is not read here yet: only SQL broker tables are
        amqp = settings.broker_url.split(":", 1)[0] in ("amqp", "amqps")
        return cls(
            make_engine(settings.db_url), broker=None if amqp else make_engine(settings.broker_url, readonly=True),
            queue=make_engine(settings.handoff_url, readonly=True),
            profiles=make_engine(settings.profile_url, readonly=True), **{"quiet_s": settings.quiet_s, **kwargs},
        )

    async def setup(self) -> None:
        await create_schema(self.engine)

    async def run_once(self) -> dict[str, int]:
        """Drain every source, then roll up the days that changed. Returns counts per source."""
        done = {BROKER: 0, QUEUE: 0, REQUESTS: 0}
        if self.broker is not None:
            while n := await self._guarded(BROKER, self.broker_batch, self.broker):
                done[BROKER] += n
                if n < self.batch_size:
                    break
        if self.queue is not None:
            while n := await self._guarded(QUEUE, self.queue_pass, self.queue):
                done[QUEUE] += n
                if n < self.batch_size:
                    break
        if self.profiles is not None:
            done[REQUESTS] = await self._guarded(REQUESTS, self.requests_pass, self.profiles)
        await self.quiet_pass()
        await refresh(self.engine)
        return done

    async def run_forever(self, stop: asyncio.Event, interval_s: float = 2.0) -> None:
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:  # noqa: BLE001 - log and keep consuming; the cursor makes it safe
                logger.exception("insights consumer pass failed; retrying")
            try:
                await asyncio.wait_for(stop.wait(), interval_s)
            except asyncio.TimeoutError:
                pass

    async def _guarded(self, name: str, step: Any, source: AsyncEngine) -> int:
        """A source that does not exist yet (Rasa or the handoff service never started) is not an
        error of the report: note it and go on with the others. A missing SQLite file is not
        opened (that would create an empty one in its owner's place)."""
        database = source.url.database
        if source.dialect.name == "sqlite" and database and database != ":memory:" and not Path(database).exists():
            self.last_error[name] = f"{name} not readable: {database} does not exist yet"
            return 0
        try:
            n = int(await step())
        except (OperationalError, ProgrammingError) as exc:
            self.last_error[name] = f"{name} not readable: {getattr(exc, 'orig', exc)}"
            logger.debug(self.last_error[name])
            return 0
        self.last_error.pop(name, None)
        return n

    async def broker_batch(self) -> int:
        """Apply the next batch of broker events; returns how many were read."""
        assert self.broker is not None
        async with self.engine.connect() as conn:
            start = await get_cursor(conn, BROKER)
        async with self.broker.connect() as bconn:
            rows = (await bconn.execute(
                sa.select(broker_events.c.id, broker_events.c.sender_id, broker_events.c.data)
                .where(broker_events.c.id > start).order_by(broker_events.c.id).limit(self.batch_size)
            )).all()
        if not rows:
            return 0
        events: list[tuple[int, str, dict[str, Any]]] = []
        for row in rows:
            if not row.data or not any(marker in row.data for marker in INTERESTING):
                continue
            try:
                event = json.loads(row.data)
            except ValueError:
                logger.error("broker event %s is not JSON; skipped", row.id)
                continue
            if not isinstance(event, dict):
                continue
            sender = row.sender_id or str(event.get("sender_id") or "")
            if sender:
                events.append((int(row.id), sender[:255], event))
        async with self.engine.begin() as conn:
            if await get_cursor(conn, BROKER, lock=True) != start:
                return 0  # another consumer applied this batch meanwhile
            fold = Fold(quiet_s=self.quiet_s)
            for conv in await load_current(conn, sorted({s for _i, s, _e in events})):
                fold.load(conv)
            for event_id, sender, event in events:
                fold.apply(event_id, sender, event)
            await save_fold(conn, fold)
            await set_cursor(conn, BROKER, int(rows[-1].id))
        return len(rows)

    async def queue_pass(self) -> int:
        """New queue rows, and fresh states of the handoffs still open here; returns how many new
        rows were read."""
        assert self.queue is not None
        async with self.engine.connect() as conn:
            start = await get_cursor(conn, QUEUE)
            open_keys = list((await conn.execute(
                sa.select(t.handoff.c.handoff_key).where(t.handoff.c.outcome.in_(OPEN_OUTCOMES))
            )).scalars())
        open_keys = [k for k in open_keys if "#" not in k]  # broker-only handoffs have no queue row
        async with self.queue.connect() as qconn:
            rows = list((await qconn.execute(
                sa.select(queue_rows).where(queue_rows.c.id > start).order_by(queue_rows.c.id).limit(self.batch_size)
            )).all())
            # the cursor covers the new rows only: an open row re-read below may lie beyond this batch
            new_cursor = rows[-1].id if rows else start
            for chunk in _chunks(open_keys, 500):
                rows += (await qconn.execute(sa.select(queue_rows).where(queue_rows.c.handoff_id.in_(chunk)))).all()
            rows = list({r.id: r for r in rows}.values())  # a new row may also be an open one
            ids = sorted({r.id for r in rows})
            replies: dict[int, datetime] = {}
            for chunk in _chunks(ids, 500):
                for m in await qconn.execute(
                    sa.select(queue_messages.c.conversation_id, sa.func.min(queue_messages.c.created_at))
                    .where(queue_messages.c.conversation_id.in_(chunk), queue_messages.c.kind == "agent")
                    .group_by(queue_messages.c.conversation_id)
                ):
                    replies[m[0]] = m[1]
        if not rows:
            return 0
        async with self.engine.begin() as conn:
            if await get_cursor(conn, QUEUE, lock=True) != start:
                return 0
            await self._apply_queue_rows(conn, rows, replies)
            await set_cursor(conn, QUEUE, new_cursor)
        return sum(1 for r in rows if r.id > start and r.id <= new_cursor)

    async def _apply_queue_rows(self, conn: AsyncConnection, rows: Sequence[Any], replies: dict[int, datetime]) -> None:
        by_key = {r.handoff_id: r for r in rows if r.handoff_id}
        stored: dict[str, HandoffFact] = {}
        for chunk in _chunks(list(by_key), 500):
            for row in await conn.execute(sa.select(t.handoff).where(t.handoff.c.handoff_key.in_(chunk))):
                stored[row.handoff_key] = _handoff_from_row(row)
        missing = sorted({r.sender_id for k, r in by_key.items() if k not in stored})
        latest = {c.sender_id: c for c in await load_current(conn, missing)} if missing else {}
        days: set[date] = set()
        for key, row in by_key.items():
            h = stored.get(key)
            if h is None:
                conv = latest.get(row.sender_id)
                h = HandoffFact(key=key, sender_id=row.sender_id, requested_at=row.created_at,
                                topic=str(row.topic or "general"), reason=reason_code(row.reason) or "unspecified",
                                channel=conv.channel if conv else "", conversation_id=conv.id if conv else None)
            before = _handoff_values(h)
            _apply_queue_state(h, row, replies.get(row.id))
            if h.id is None:
                h.id = (await conn.execute(t.handoff.insert().values(**_handoff_values(h)))).inserted_primary_key[0]
            elif _handoff_values(h) != before:
                await conn.execute(t.handoff.update().where(t.handoff.c.id == h.id).values(**_handoff_values(h)))
            else:
                continue
            days.add(h.day)
        await mark_days(conn, days)

    async def quiet_pass(self) -> int:
        """Handoffs whose customer went quiet while queued (no message, no agent for ``quiet_s``)
        and about which no later event told the fold: abandoned when the time ran out. Runs after
        the queue pass, so an acceptance the queue knows of is already here. Returns how many."""
        if self.quiet_s is None:
            return 0
        now = self.clock()
        h = t.handoff
        async with self.engine.begin() as conn:
            candidates = (await conn.execute(
                sa.select(h.c.id).where(h.c.outcome == WAITING, h.c.accepted_at.is_(None),
                                        h.c.requested_at < now - timedelta(seconds=self.quiet_s))
            )).scalars().all()
            if not candidates:
                return 0
            await get_cursor(conn, QUIET, lock=True)  # the write lock, then read again under it
            rows = (await conn.execute(
                sa.select(h).where(h.c.id.in_(candidates), h.c.outcome == WAITING, h.c.accepted_at.is_(None))
            )).all()
            conv_ids = sorted({r.conversation_id for r in rows if r.conversation_id is not None})
            convs = {r.id: _conv_from_row(r) for r in await conn.execute(
                sa.select(t.conversation).where(t.conversation.c.id.in_(conv_ids)))} if conv_ids else {}
            days: set[date] = set()
            gone_quiet = 0
            for row in rows:
                fact = _handoff_from_row(row)
                gone = quiet_since(fact, convs.get(row.conversation_id), now, self.quiet_s)
                if gone is None:
                    continue
                fact.end(gone, ABANDONED, WENT_QUIET)
                await conn.execute(h.update().where(h.c.id == fact.id).values(**_handoff_values(fact)))
                days.add(fact.day)
                gone_quiet += 1
            await mark_days(conn, days)
        return gone_quiet

    async def requests_pass(self) -> int:
        """Process requests the bot started (refund, cancellation, address change...)."""
        assert self.profiles is not None
        async with self.engine.connect() as conn:
            start = await get_cursor(conn, REQUESTS)
        since = datetime(1970, 1, 1) + timedelta(microseconds=start) - REQUEST_OVERLAP
        async with self.profiles.connect() as pconn:
            rows = (await pconn.execute(
                sa.select(profile_requests).where(profile_requests.c.created_at >= since)
                .order_by(profile_requests.c.created_at).limit(50_000)
            )).all()
        if not rows:
            return 0
        newest = max(r.created_at for r in rows)
        position = max(start, int((newest - datetime(1970, 1, 1)) / timedelta(microseconds=1)))
        async with self.engine.begin() as conn:
            if await get_cursor(conn, REQUESTS, lock=True) != start:
                return 0
            known = set()
            for chunk in _chunks([r.request_id for r in rows], 500):
                known |= set((await conn.execute(
                    sa.select(t.request.c.request_id).where(t.request.c.request_id.in_(chunk)))).scalars())
            fresh = [r for r in rows if r.request_id not in known]
            senders = sorted({r.conversation_id for r in fresh if r.conversation_id})
            channels = {c.sender_id: c.channel for c in await load_current(conn, senders)}
            if fresh:
                await conn.execute(_insert_ignore(conn, t.request), [
                    {"request_id": r.request_id, "kind": r.kind, "sender_id": r.conversation_id,
                     "channel": channels.get(r.conversation_id or "", ""), "created_at": r.created_at,
                     "day": r.created_at.date()}
                    for r in fresh
                ])
                await mark_days(conn, {r.created_at.date() for r in fresh})
            await set_cursor(conn, REQUESTS, position)
        return len(fresh)

    async def dispose(self) -> None:
        for engine in (self.engine, self.broker, self.queue, self.profiles):
            if engine is not None:
                await engine.dispose()


def _apply_queue_state(h: HandoffFact, row: Any, first_reply: datetime | None) -> None:
    """The queue's view of a handoff: when an agent accepted it, when and how it ended. A customer
    who went quiet before an agent came stays abandoned whatever the queue does next."""
    if row.assigned_at is not None:
        h.accept(row.assigned_at)
    if first_reply is not None and (h.first_reply_at is None or first_reply < h.first_reply_at):
        if h.accepted_at is None:
            h.accept(first_reply)
        if h.went_quiet:
            return
        h.first_reply_at = first_reply
    if h.went_quiet:
        return
    status = row.status
    if status == "assigned" and h.outcome == "waiting":
        h.outcome = ACCEPTED
    elif status == "handed_back":
        h.ended_at = row.closed_at or h.ended_at
        h.outcome, h.disposition = HANDED_BACK, row.disposition
    elif status == "closed":
        h.ended_at = row.closed_at or h.ended_at
        h.disposition = row.disposition
        if h.accepted_at is None:
            # never reached an agent: the customer left or the bot took over; a callback or e-mail
            # ticket was the customer's choice and is served later, not abandoned
            h.outcome = ABANDONED if (row.mode or "chat") == "chat" else CLOSED
        else:
            h.outcome = ABANDONED if row.disposition == "no_response" else CLOSED
