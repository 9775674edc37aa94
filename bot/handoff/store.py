"""The durable queue: SQL tables and every query on them (SQLAlchemy 1.4 Core, 2.0 style).

All methods take an open :class:`AsyncConnection` so callers decide the transaction; the event
consumer applies an event and moves its cursor in one transaction (see ``broker.py``).

Claiming is safe with several service instances: :meth:`QueueStore.accept` is a conditional
``UPDATE ... WHERE status = 'waiting'`` (one winner whatever the database), and
:meth:`QueueStore.claim_next` picks with ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL so
concurrent agents take different conversations without waiting on each other. SQLite has one
writer at a time, so a plain transaction with the same conditional update is enough there.
"""

from __future__ import annotations

import json
import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, AsyncIterator, Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.db import create_tables, cursor_table, is_postgres
from bot.db import make_engine as shared_make_engine

from bot.handoff import routing
from bot.handoff.errors import Conflict, NotFound
from bot.handoff.models import (
    ACTIVE_STATUSES,
    Conversation,
    HandoffRequest,
    Message,
    MessageKind,
    Mode,
    Status,
    Topic,
)

logger = logging.getLogger(__name__)

metadata = sa.MetaData()

conversations = sa.Table(
    "handoff_conversations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("handoff_id", sa.String(64), nullable=False, unique=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("topic", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text, nullable=False, default=""),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("mode", sa.String(16), nullable=False, default=Mode.CHAT.value),
    sa.Column("priority", sa.Integer, nullable=False, default=0),
    sa.Column("sort_key", sa.Float, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("customer_id", sa.String(255)),
    sa.Column("customer_name", sa.String(255)),
    sa.Column("segments", sa.Text, nullable=False, default="[]"),
    sa.Column("agent", sa.String(64)),
    sa.Column("assigned_at", sa.DateTime),
    sa.Column("closed_at", sa.DateTime),
    sa.Column("disposition", sa.String(32)),
    sa.Column("last_customer_message_at", sa.DateTime),
    sa.Column("unread", sa.Integer, nullable=False, default=0),
    sa.Column("position_told", sa.Integer),
    sa.Column("position_told_at", sa.DateTime),
    #: the customer was offered a callback / e-mail ticket (no agent free or outside hours)
    sa.Column("alternatives_offered", sa.Boolean, nullable=False, default=False),
    #: the broker event that carried the request (None: brought by the action's intake call, the
    #: broker has not delivered it yet; see Conversation.request_event_id)
    sa.Column("request_event_id", sa.BigInteger),
    #: where the customer writes from and their first words, to tell waiting customers apart
    sa.Column("channel", sa.String(32)),
    sa.Column("first_message", sa.String(255)),
    sa.Index("ix_handoff_conversations_queue", "status", "topic", "sort_key"),
)

messages = sa.Table(
    "handoff_messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "conversation_id",
        sa.Integer,
        sa.ForeignKey("handoff_conversations.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("author", sa.String(64)),
    sa.Column("created_at", sa.DateTime, nullable=False),
    #: id of the broker event this message came from (None for notes and system lines)
    sa.Column("event_id", sa.BigInteger),
)

cursors = cursor_table("handoff_cursor", metadata, position="last_event_id")

presence = sa.Table(
    "handoff_agents",
    metadata,
    sa.Column("agent", sa.String(64), primary_key=True),
    sa.Column("skills", sa.Text, nullable=False),
    sa.Column("last_seen", sa.DateTime, nullable=False),
    sa.Column("online", sa.Boolean, nullable=False),
)


#: agents' console sessions (bot/handoff/auth.py): a hash of the session id, never the token
sessions = sa.Table(
    "handoff_sessions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("agent", sa.String(64), nullable=False, index=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("last_seen", sa.DateTime, nullable=False),
    sa.Column("revoked_at", sa.DateTime),
)


#: failed console logins (bot/handoff/auth.py), shared by every instance of the service: a hash
#: of what failed (the agent name or the client address, never in clear) and when
login_failures = sa.Table(
    "handoff_login_failures",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(64), nullable=False, index=True),
    sa.Column("at", sa.DateTime, nullable=False, index=True),
)


def utcnow() -> datetime:
    """Naive UTC: portable across SQLite and PostgreSQL ``timestamp`` columns."""
    return datetime.utcnow()


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for the queue (``bot.db.make_engine``): SQLite files get WAL, a busy
    timeout, foreign keys and one pooled connection.

    One connection per process: SQLite has a single writer anyway, so concurrent writers would
    only meet in its busy handler, which sleeps in steps of up to 100 ms; queued on the pool
    instead, the next transaction starts at once. WAL lets readers run beside the writer.
    """
    return shared_make_engine(url, pool_size=1, max_overflow=0, foreign_keys=True, **kwargs)


async def _add_missing_columns(conn: AsyncConnection) -> None:
    """Columns a queue database made by an earlier version lacks."""
    columns = await conn.run_sync(
        lambda sync: {c["name"] for c in sa.inspect(sync).get_columns(conversations.name)}
    )
    if "request_event_id" not in columns:
        await conn.execute(sa.text(f"ALTER TABLE {conversations.name} ADD COLUMN request_event_id BIGINT"))
        await conn.execute(conversations.update().values(request_event_id=0))
    for name, sql_type in (("channel", "VARCHAR(32)"), ("first_message", "VARCHAR(255)")):
        if name not in columns:
            await conn.execute(sa.text(f"ALTER TABLE {conversations.name} ADD COLUMN {name} {sql_type}"))


def _row_to_conversation(row: Any) -> Conversation:
    return Conversation(
        id=row.id,
        handoff_id=row.handoff_id,
        sender_id=row.sender_id,
        topic=Topic.parse(row.topic),
        reason=row.reason,
        status=Status(row.status),
        mode=Mode(row.mode),
        priority=row.priority,
        sort_key=row.sort_key,
        created_at=row.created_at,
        customer_id=row.customer_id,
        customer_name=row.customer_name,
        segments=tuple(json.loads(row.segments or "[]")),
        agent=row.agent,
        assigned_at=row.assigned_at,
        closed_at=row.closed_at,
        disposition=row.disposition,
        last_customer_message_at=row.last_customer_message_at,
        unread=row.unread,
        alternatives_offered=bool(row.alternatives_offered),
        request_event_id=row.request_event_id,
        channel=row.channel,
        first_message=row.first_message,
    )


def _row_to_message(row: Any) -> Message:
    return Message(
        id=row.id,
        conversation_id=row.conversation_id,
        kind=MessageKind(row.kind),
        text=row.text,
        author=row.author,
        created_at=row.created_at,
        event_id=row.event_id,
    )


@dataclass
class BatchView:
    """What one consumer batch knows about its senders' conversations, kept current as the
    batch's events change them (so a batch costs one read, not one per event)."""

    active: dict[str, Conversation | None] = field(default_factory=dict)
    by_handoff_id: dict[str, Conversation] = field(default_factory=dict)

    def remember(self, conv: Conversation) -> None:
        self.by_handoff_id[conv.handoff_id] = conv
        self.active[conv.sender_id] = conv if conv.status.value in ACTIVE_STATUSES else None


class QueueStore:
    """Repository over the handoff tables. Construct with an engine (passed in, never global)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.is_postgres = is_postgres(engine)

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> "QueueStore":
        return cls(make_engine(url, **kwargs))

    async def create_schema(self) -> None:
        # replicas starting together: one creates, the others wait on the advisory lock
        await create_tables(self.engine, metadata, lock_key=7420730142, upgrade=_add_missing_columns)

    async def dispose(self) -> None:
        await self.engine.dispose()

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.begin() as conn:
            yield conn

    # -- queue ----------------------------------------------------------------------------------

    async def enqueue(
        self,
        conn: AsyncConnection,
        req: HandoffRequest,
        *,
        now: datetime | None = None,
        known: "BatchView | None" = None,
        event_id: int | None = None,
        only_new: bool = False,
    ) -> tuple[Conversation, bool]:
        """Put a request in its queue. Returns (conversation, created).

        Idempotent: the same ``handoff_id`` twice returns the existing row. A sender who already
        has an active handoff keeps it (the new reason is added to its timeline), so one customer
        never sits in two queues. ``known`` is what the event consumer read for its whole batch
        (see ``batch_view``); it saves the two look-ups per request. ``event_id`` is the broker
        event carrying the request (None for the action's intake call, which uses
        ``only_new``: an existing conversation is left to the broker event to update).
        """
        if known is None:
            known = await self.batch_view(conn, {req.sender_id}, {req.handoff_id})
        existing = known.by_handoff_id.get(req.handoff_id)
        if existing is not None:
            if event_id is not None and existing.request_event_id is None:
                await conn.execute(
                    conversations.update().where(conversations.c.id == existing.id).values(request_event_id=event_id)
                )
                existing = replace(existing, request_event_id=event_id)
                known.remember(existing)
            return existing, False
        active = known.active.get(req.sender_id)
        if active is not None and only_new:
            return active, False
        if active is not None:
            if active.mode is not Mode.CHAT and req.mode is Mode.CHAT:
                await self.set_mode(conn, active.id, Mode.CHAT)  # back in the chat: serve it there
                active = replace(active, mode=Mode.CHAT)
                known.remember(active)
            await self.add_message(
                conn, active.id, MessageKind.SYSTEM, f"Customer asked for an agent again: {req.reason}"
            )
            return active, False
        now = now or utcnow()
        priority = routing.priority_for(req.segments, req.flags, req.topic)
        requested = req.requested_at or now.timestamp()
        values = dict(
            handoff_id=req.handoff_id,
            sender_id=req.sender_id,
            topic=req.topic.value,
            reason=req.reason,
            status=Status.WAITING.value,
            mode=req.mode.value,
            priority=priority,
            sort_key=routing.sort_key(requested, priority),
            created_at=now,
            customer_id=req.customer_id,
            customer_name=req.customer_name,
            segments=json.dumps(list(req.segments)),
            position_told=req.position_told,
            position_told_at=now if req.position_told is not None else None,
            # told a position but no wait: no agent or closed, so a call back or e-mail was offered
            alternatives_offered=req.position_told is not None and req.eta_told_s is None,
            request_event_id=event_id,
            channel=req.channel,
            first_message=req.first_message,
        )
        result = await conn.execute(conversations.insert().values(**values))
        row = {c.name: None for c in conversations.columns} | values
        row.update(id=result.inserted_primary_key[0], unread=0)
        conv = _row_to_conversation(SimpleNamespace(**row))
        known.remember(conv)
        return conv, True

    async def batch_view(
        self, conn: AsyncConnection, sender_ids: Iterable[str], handoff_ids: Iterable[str] = ()
    ) -> "BatchView":
        """In one query: the active conversation of each sender, and the conversations of these
        handoff ids (to keep ``enqueue`` idempotent)."""
        senders, hids = sorted(set(sender_ids)), sorted(set(handoff_ids))
        view = BatchView()
        if not senders and not hids:
            return view
        where = []
        if senders:
            where.append(sa.and_(conversations.c.sender_id.in_(senders), conversations.c.status.in_(ACTIVE_STATUSES)))
        if hids:
            where.append(conversations.c.handoff_id.in_(hids))
        rows = await conn.execute(sa.select(conversations).where(sa.or_(*where)).order_by(conversations.c.id))
        for row in rows:
            conv = _row_to_conversation(row)
            view.by_handoff_id[conv.handoff_id] = conv
            if conv.status.value in ACTIVE_STATUSES:
                view.active[conv.sender_id] = conv  # the newest wins (ordered by id)
        for sender in senders:
            view.active.setdefault(sender, None)
        return view

    async def get(self, conn: AsyncConnection, conv_id: int) -> Conversation:
        conv = await self._one(conn, conversations.c.id == conv_id)
        if conv is None:
            raise NotFound(f"no handoff conversation {conv_id}")
        return conv

    async def active_for_sender(self, conn: AsyncConnection, sender_id: str) -> Conversation | None:
        return await self._one(
            conn,
            sa.and_(conversations.c.sender_id == sender_id, conversations.c.status.in_(ACTIVE_STATUSES)),
        )

    async def _one(self, conn: AsyncConnection, where: Any) -> Conversation | None:
        row = (
            await conn.execute(sa.select(conversations).where(where).order_by(conversations.c.id.desc()).limit(1))
        ).first()
        return _row_to_conversation(row) if row else None

    async def list_active(self, conn: AsyncConnection) -> list[Conversation]:
        rows = await conn.execute(
            sa.select(conversations)
            .where(conversations.c.status.in_(ACTIVE_STATUSES))
            .order_by(conversations.c.sort_key, conversations.c.id)
        )
        return [_row_to_conversation(r) for r in rows]

    async def waiting_keys(self, conn: AsyncConnection, topic: Topic) -> list[tuple[int, float]]:
        rows = await conn.execute(
            sa.select(conversations.c.id, conversations.c.sort_key)
            .where(conversations.c.status == Status.WAITING.value, conversations.c.topic == topic.value)
            .order_by(conversations.c.sort_key, conversations.c.id)
        )
        return [(r.id, r.sort_key) for r in rows]

    async def accept(self, conn: AsyncConnection, conv_id: int, agent: str, skills: Iterable[Topic]) -> Conversation:
        """Give a waiting conversation to ``agent``; :class:`Conflict` if someone else was faster."""
        now = utcnow()
        result = await conn.execute(
            conversations.update()
            .where(
                conversations.c.id == conv_id,
                conversations.c.status == Status.WAITING.value,
                conversations.c.topic.in_([t.value for t in skills]),
            )
            .values(status=Status.ASSIGNED.value, agent=agent, assigned_at=now, unread=0)
        )
        if result.rowcount != 1:
            conv = await self.get(conn, conv_id)  # NotFound if it does not exist
            if conv.status is Status.WAITING:
                raise Conflict(f"conversation {conv_id} is in the {conv.topic.value} queue, not one of yours")
            raise Conflict(f"conversation {conv_id} is already {conv.status.value}" + (
                f" by {conv.agent}" if conv.agent else ""))
        await self.add_message(conn, conv_id, MessageKind.SYSTEM, f"{agent} accepted the conversation", now=now)
        return await self.get(conn, conv_id)

    async def claim_next(self, conn: AsyncConnection, agent: str, skills: Iterable[Topic]) -> Conversation | None:
        """Take the best waiting conversation in the agent's queues, or None if they are empty.

        PostgreSQL: ``FOR UPDATE SKIP LOCKED`` makes concurrent claimers skip rows another
        transaction is taking. SQLite: writers are serialised; the conditional update in
        :meth:`accept` still guarantees one owner.
        """
        topics = [t.value for t in skills]
        for _attempt in range(5):
            query = (
                sa.select(conversations.c.id)
                .where(conversations.c.status == Status.WAITING.value, conversations.c.topic.in_(topics))
                .order_by(conversations.c.sort_key, conversations.c.id)
                .limit(1)
            )
            if self.is_postgres:
                query = query.with_for_update(skip_locked=True)
            row = (await conn.execute(query)).first()
            if row is None:
                return None
            try:
                return await self.accept(conn, row.id, agent, skills)
            except Conflict:
                continue  # lost a race (SQLite without row locks): try the next one
        return None

    async def transfer(self, conn: AsyncConnection, conv_id: int, agent: str, topic: Topic) -> Conversation:
        """Back to waiting, in ``topic``'s queue, keeping its original place in time."""
        conv = await self._owned(conn, conv_id, agent)
        await conn.execute(
            conversations.update()
            .where(conversations.c.id == conv.id)
            .values(status=Status.WAITING.value, topic=topic.value, agent=None, assigned_at=None)
        )
        await self.add_message(
            conn, conv.id, MessageKind.SYSTEM, f"{agent} transferred the conversation to {topic.value}"
        )
        return await self.get(conn, conv_id)

    async def senders_of_customer(self, conn: AsyncConnection, customer_id: str) -> set[str]:
        rows = await conn.execute(sa.select(conversations.c.sender_id).where(conversations.c.customer_id == customer_id))
        return {r.sender_id for r in rows}

    async def erase(self, conn: AsyncConnection, senders: Iterable[str], customer_id: str | None = None) -> dict[str, int]:
        """Delete the handoffs of ``senders`` (and of ``customer_id``): queue rows, their
        messages and agents' notes (a right-to-erasure request, ``bot/profile/erasure.py``)."""
        where = conversations.c.sender_id.in_(sorted(set(senders)))
        if customer_id:
            where = sa.or_(where, conversations.c.customer_id == customer_id)
        ids = [r.id for r in await conn.execute(sa.select(conversations.c.id).where(where))]
        if not ids:
            return {}
        gone_messages = (await conn.execute(messages.delete().where(messages.c.conversation_id.in_(ids)))).rowcount
        gone = (await conn.execute(conversations.delete().where(conversations.c.id.in_(ids)))).rowcount
        return {messages.name: gone_messages or 0, conversations.name: gone or 0}

    async def requeue_agent(
        self, conn: AsyncConnection, agent: str, why: str = "console disconnected"
    ) -> list[Conversation]:
        """Every conversation assigned to ``agent`` back to waiting, at the front of its queue
        (before everyone waiting there, in the order the agent had them); ``why`` goes in the
        system note the next agent reads."""
        rows = (await conn.execute(
            sa.select(conversations.c.id, conversations.c.topic)
            .where(conversations.c.status == Status.ASSIGNED.value, conversations.c.agent == agent)
            .order_by(conversations.c.sort_key.desc(), conversations.c.id.desc())
        )).all()
        moved = []
        for row in rows:
            front = (await conn.execute(
                sa.select(sa.func.min(conversations.c.sort_key))
                .where(conversations.c.status == Status.WAITING.value, conversations.c.topic == row.topic)
            )).scalar()
            values: dict[str, Any] = {"status": Status.WAITING.value, "agent": None, "assigned_at": None}
            if front is not None:
                values["sort_key"] = front - 1.0
            result = await conn.execute(
                conversations.update()
                .where(conversations.c.id == row.id, conversations.c.status == Status.ASSIGNED.value,
                       conversations.c.agent == agent)
                .values(**values)
            )
            if result.rowcount == 1:
                await self.add_message(conn, row.id, MessageKind.SYSTEM,
                                       f"{agent}: {why}, back at the front of the queue")
                moved.append(await self.get(conn, row.id))
        return moved

    async def finish(
        self, conn: AsyncConnection, conv_id: int, agent: str, status: Status, disposition: str | None
    ) -> Conversation:
        conv = await self._owned(conn, conv_id, agent)
        now = utcnow()
        await conn.execute(
            conversations.update()
            .where(conversations.c.id == conv.id, conversations.c.status == Status.ASSIGNED.value)
            .values(status=status.value, closed_at=now, disposition=disposition)
        )
        label = "handed the conversation back to the bot" if status is Status.HANDED_BACK else (
            f"closed the conversation ({disposition})")
        await self.add_message(conn, conv.id, MessageKind.SYSTEM, f"{agent} {label}", now=now)
        return await self.get(conn, conv_id)

    async def close_unassigned(self, conn: AsyncConnection, conv_id: int, disposition: str) -> None:
        """Close a waiting conversation without an agent (the bot was resumed by someone else)."""
        await conn.execute(
            conversations.update()
            .where(conversations.c.id == conv_id, conversations.c.status.in_(ACTIVE_STATUSES))
            .values(status=Status.CLOSED.value, closed_at=utcnow(), disposition=disposition)
        )

    async def set_mode(self, conn: AsyncConnection, conv_id: int, mode: Mode) -> None:
        await conn.execute(conversations.update().where(conversations.c.id == conv_id).values(mode=mode.value))

    async def record_told(self, conn: AsyncConnection, conv_id: int, position: int, eta_s: int | None) -> None:
        """What the intake answer told the customer: the position (for later updates) and whether
        a call back or e-mail was offered (no wait to give)."""
        await conn.execute(
            conversations.update()
            .where(conversations.c.id == conv_id)
            .values(position_told=position, position_told_at=utcnow(), alternatives_offered=eta_s is None)
        )

    async def mark_position_told(self, conn: AsyncConnection, conv_id: int, position: int) -> None:
        await conn.execute(
            conversations.update()
            .where(conversations.c.id == conv_id)
            .values(position_told=position, position_told_at=utcnow())
        )

    async def positions_told(
        self, conn: AsyncConnection, conv_ids: Sequence[int]
    ) -> dict[int, tuple[int | None, datetime | None, str, str]]:
        """conv id → (position told, when, sender id, mode) for a batch of conversations."""
        rows = await conn.execute(
            sa.select(
                conversations.c.id, conversations.c.position_told, conversations.c.position_told_at,
                conversations.c.sender_id, conversations.c.mode,
            ).where(conversations.c.id.in_(list(conv_ids)))
        )
        return {r.id: (r.position_told, r.position_told_at, r.sender_id, r.mode) for r in rows}

    async def _owned(self, conn: AsyncConnection, conv_id: int, agent: str) -> Conversation:
        conv = await self.get(conn, conv_id)
        if conv.status is not Status.ASSIGNED:
            raise Conflict(f"conversation {conv_id} is {conv.status.value}, not in progress")
        if conv.agent != agent:
            raise Conflict(f"conversation {conv_id} belongs to {conv.agent}")
        return conv

    # -- messages -------------------------------------------------------------------------------

    async def add_message(
        self,
        conn: AsyncConnection,
        conv_id: int,
        kind: MessageKind,
        text: str,
        author: str | None = None,
        *,
        event_id: int | None = None,
        now: datetime | None = None,
    ) -> Message:
        now = now or utcnow()
        result = await conn.execute(
            messages.insert().values(
                conversation_id=conv_id, kind=kind.value, text=text, author=author, created_at=now, event_id=event_id
            )
        )
        if kind is MessageKind.CUSTOMER:
            await conn.execute(
                conversations.update()
                .where(conversations.c.id == conv_id)
                .values(last_customer_message_at=now, unread=conversations.c.unread + 1)
            )
        return Message(result.inserted_primary_key[0], conv_id, kind, text, author, now, event_id)

    async def messages(self, conn: AsyncConnection, conv_id: int) -> list[Message]:
        rows = await conn.execute(
            sa.select(messages).where(messages.c.conversation_id == conv_id).order_by(messages.c.id)
        )
        return [_row_to_message(r) for r in rows]

    async def mark_read(self, conn: AsyncConnection, conv_id: int) -> None:
        await conn.execute(conversations.update().where(conversations.c.id == conv_id).values(unread=0))

    # -- broker cursor --------------------------------------------------------------------------

    async def cursor(self, conn: AsyncConnection, name: str = "rasa_events", *, lock: bool = False) -> int:
        """The last applied broker event id; ``lock`` holds the row (PostgreSQL) until commit so
        two service instances never apply the same batch."""
        query = sa.select(cursors.c.last_event_id).where(cursors.c.name == name)
        if lock and self.is_postgres:
            query = query.with_for_update()
        row = (await conn.execute(query)).first()
        return int(row.last_event_id) if row else 0

    async def set_cursor(self, conn: AsyncConnection, event_id: int, name: str = "rasa_events") -> None:
        now = utcnow()
        result = await conn.execute(
            cursors.update().where(cursors.c.name == name).values(last_event_id=event_id, updated_at=now)
        )
        if result.rowcount == 0:
            await conn.execute(cursors.insert().values(name=name, last_event_id=event_id, updated_at=now))

    # -- agents ---------------------------------------------------------------------------------

    async def agent_seen(self, conn: AsyncConnection, agent: str, skills: Iterable[Topic], online: bool = True) -> None:
        now = utcnow()
        skills_csv = ",".join(sorted(t.value for t in skills))
        result = await conn.execute(
            presence.update().where(presence.c.agent == agent).values(skills=skills_csv, last_seen=now, online=online)
        )
        if result.rowcount == 0:
            await conn.execute(presence.insert().values(agent=agent, skills=skills_csv, last_seen=now, online=online))

    async def agent_online(self, conn: AsyncConnection, agent: str, ttl_s: float) -> bool:
        """Whether ``agent`` has a console on some handoff service: marked online and seen within
        ``ttl_s`` (every service refreshes its consoles' agents each heartbeat)."""
        since = utcnow() - timedelta(seconds=ttl_s)
        row = (await conn.execute(
            sa.select(presence.c.online).where(presence.c.agent == agent, presence.c.last_seen >= since)
        )).first()
        return bool(row is not None and row.online)

    async def agents_for(self, conn: AsyncConnection, topic: Topic, ttl_s: float) -> tuple[int, int]:
        """(agents online who serve ``topic``, how many of them are in a conversation now)."""
        since = utcnow() - timedelta(seconds=ttl_s)
        rows = (
            await conn.execute(
                sa.select(presence.c.agent, presence.c.skills).where(
                    presence.c.online.is_(True), presence.c.last_seen >= since
                )
            )
        ).all()
        serving = [r.agent for r in rows if topic.value in r.skills.split(",")]
        if not serving:
            return 0, 0
        busy = (
            await conn.execute(
                sa.select(sa.func.count(sa.distinct(conversations.c.agent))).where(
                    conversations.c.status == Status.ASSIGNED.value, conversations.c.agent.in_(serving)
                )
            )
        ).scalar_one()
        return len(serving), int(busy)

    async def recent_handle_s(self, conn: AsyncConnection, topic: Topic, limit: int = 20) -> list[float]:
        rows = await conn.execute(
            sa.select(conversations.c.assigned_at, conversations.c.closed_at)
            .where(
                conversations.c.topic == topic.value,
                conversations.c.assigned_at.is_not(None),
                conversations.c.closed_at.is_not(None),
            )
            .order_by(conversations.c.closed_at.desc())
            .limit(limit)
        )
        return [(r.closed_at - r.assigned_at).total_seconds() for r in rows]


async def estimate_for(
    store: QueueStore,
    conn: AsyncConnection,
    topic: Topic,
    my_key: float,
    *,
    exclude_id: int | None = None,
    presence_ttl_s: float,
    default_handle_s: float,
) -> tuple[int, int | None, int]:
    """(position, eta seconds or None when no agent serves the topic, agents available)."""
    keys: Sequence[tuple[int, float]] = await store.waiting_keys(conn, topic)
    position = routing.queue_position(my_key, [k for i, k in keys if i != exclude_id])
    agents, busy = await store.agents_for(conn, topic, presence_ttl_s)
    handle = routing.typical_handle_s(await store.recent_handle_s(conn, topic), default_handle_s)
    return position, routing.estimate_wait_s(position, agents, handle, busy), agents
