"""Hand-built Rasa event streams and real source databases for the insights tests.

``Sources`` holds a real SQLite broker table (the shape Rasa's SQL broker writes), the real
handoff queue tables (``bot.handoff.store``'s metadata) and the profile store's ``tp_request``;
``Chat`` writes one sender's events the way Rasa 3.6 serialises them.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bot.handoff import store as queue_store
from bot.profile import schema as profile_schema
from bot.insights.consumer import InsightsConsumer
from bot.insights.db import create_schema, make_engine
from bot.insights.report import Filters, Report, build_report

T0 = datetime(2026, 3, 2, 9, 0, 0)  # a Monday, naive UTC

broker_meta = sa.MetaData()
broker_table = sa.Table(
    "events", broker_meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender_id", sa.String(255)), sa.Column("data", sa.Text),
)


def ts(at: datetime) -> float:
    return at.replace(tzinfo=timezone.utc).timestamp()


@dataclass
class Sources:
    tmp: Path
    db_url: str | None = None  # the insights database (default: SQLite in tmp)
    schema: str | None = None

    def __post_init__(self) -> None:
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.broker_url = f"sqlite:///{self.tmp / 'events.db'}"
        self.queue_url = f"sqlite:///{self.tmp / 'handoff.db'}"
        self.profile_url = f"sqlite:///{self.tmp / 'profiles.db'}"
        self.broker = sa.create_engine(self.broker_url, future=True)
        broker_meta.create_all(self.broker)
        self.queue = sa.create_engine(self.queue_url, future=True)
        queue_store.metadata.create_all(self.queue)
        self.profiles = sa.create_engine(self.profile_url, future=True)
        profile_schema.tp_request.create(self.profiles, checkfirst=True)
        self._ids = itertools.count(1)
        #: the consumer's present: the latest time written so far, unless a test sets it
        self.now = T0

    def consumer(self, **kwargs: Any) -> InsightsConsumer:
        engine = make_engine(self.db_url or f"sqlite:///{self.tmp / 'insights.db'}", schema=self.schema)
        return InsightsConsumer(
            engine, broker=make_engine(self.broker_url, readonly=True), queue=make_engine(self.queue_url, readonly=True),
            profiles=make_engine(self.profile_url, readonly=True), **{"clock": lambda: self.now, **kwargs})

    async def consume(self, **kwargs: Any) -> dict[str, int]:
        consumer = self.consumer(**kwargs)
        try:
            await create_schema(consumer.engine)
            return await consumer.run_once()
        finally:
            await consumer.dispose()

    async def report(self, **filters: Any) -> Report:
        engine = make_engine(self.db_url or f"sqlite:///{self.tmp / 'insights.db'}", schema=self.schema)
        try:
            return await build_report(engine, Filters(**filters))
        finally:
            await engine.dispose()

    def chat(self, sender: str, start: datetime = T0, channel: str = "rest") -> "Chat":
        return Chat(self, sender, start, channel)

    def write_events(self, rows: list[tuple[str, dict[str, Any]]]) -> None:
        with self.broker.begin() as conn:
            conn.execute(broker_table.insert(), [{"sender_id": s, "data": json.dumps(e)} for s, e in rows])
        for _s, e in rows:
            if isinstance(e.get("timestamp"), (int, float)):
                self.now = max(self.now, datetime.fromtimestamp(e["timestamp"], timezone.utc).replace(tzinfo=None))

    # -- the handoff queue ----------------------------------------------------------------------

    def queue_row(self, handoff_id: str, sender: str, created_at: datetime, *, topic: str = "orders",
                  reason: str = "explicit_request: asked", status: str = "waiting", mode: str = "chat",
                  assigned_at: datetime | None = None, closed_at: datetime | None = None,
                  disposition: str | None = None, agent_reply_at: datetime | None = None) -> int:
        c = queue_store.conversations
        self.now = max([self.now, created_at, *(x for x in (assigned_at, closed_at, agent_reply_at) if x)])
        values = dict(handoff_id=handoff_id, sender_id=sender, topic=topic, reason=reason, status=status, mode=mode,
                      priority=0, sort_key=0.0, created_at=created_at, segments="[]", assigned_at=assigned_at,
                      closed_at=closed_at, disposition=disposition, unread=0, alternatives_offered=False,
                      agent="ann" if assigned_at else None)
        with self.queue.begin() as conn:
            existing = conn.execute(sa.select(c.c.id).where(c.c.handoff_id == handoff_id)).scalar()
            if existing is None:
                conv_id = conn.execute(c.insert().values(**values)).inserted_primary_key[0]
            else:
                conv_id = existing
                conn.execute(c.update().where(c.c.id == existing).values(**values))
            if agent_reply_at is not None:
                conn.execute(queue_store.messages.insert().values(
                    conversation_id=conv_id, kind="agent", text="Hello, Ann here", author="ann",
                    created_at=agent_reply_at))
        return conv_id

    def request(self, request_id: str, kind: str, sender: str, created_at: datetime) -> None:
        with self.profiles.begin() as conn:
            conn.execute(profile_schema.tp_request.insert().values(
                request_id=request_id, customer_id="C1", kind=kind, conversation_id=sender, state="requested",
                open_key=request_id, created_at=created_at, updated_at=created_at))

    def dispose(self) -> None:
        for engine in (self.broker, self.queue, self.profiles):
            engine.dispose()


@dataclass
class Chat:
    """One sender's events, each ``step`` seconds after the previous unless ``at`` is given."""

    sources: Sources
    sender: str
    now: datetime
    channel: str = "rest"
    events: list[dict[str, Any]] = field(default_factory=list)

    def _add(self, event: dict[str, Any], after: float = 5.0, at: datetime | None = None) -> "Chat":
        self.now = at or self.now + timedelta(seconds=after)
        self.events.append({"sender_id": self.sender, "timestamp": ts(self.now), **event})
        return self

    def start(self, **kw: Any) -> "Chat":
        self._add({"event": "action", "name": "action_session_start"}, **kw)
        self._add({"event": "session_started"}, after=0)
        return self._add({"event": "action", "name": "action_listen"}, after=0)

    def says(self, text: str, intent: str, confidence: float = 0.9, ranking: list[tuple[str, float]] | None = None,
             **kw: Any) -> "Chat":
        parse = {"text": text, "intent": {"name": intent, "confidence": confidence},
                 "intent_ranking": [{"name": n, "confidence": c} for n, c in (ranking or [(intent, confidence)])]}
        return self._add({"event": "user", "text": text, "parse_data": parse, "input_channel": self.channel}, **kw)

    def bot(self, text: str = "ok", agent: str | None = None, **kw: Any) -> "Chat":
        return self._add({"event": "bot", "text": text, "metadata": {"agent": agent} if agent else {}}, **kw)

    def action(self, name: str, **kw: Any) -> "Chat":
        return self._add({"event": "action", "name": name}, **kw)

    def slot(self, name: str, value: Any, **kw: Any) -> "Chat":
        return self._add({"event": "slot", "name": name, "value": value}, after=kw.pop("after", 0), **kw)

    def handoff(self, reason: str, topic: str, handoff_id: str | None = None, **kw: Any) -> "Chat":
        """What the policy and ``action_handoff`` write: reason and topic slots, the action, the
        request slot, the pause."""
        self.slot("escalation_reason", f"{reason}: because", after=kw.pop("after", 1.0), **kw)
        self.slot("escalation_topic", topic)
        self._add({"event": "action", "name": "action_handoff"}, after=0)
        if handoff_id:
            self.slot("handoff_request", {"handoff_id": handoff_id, "topic": topic, "reason": f"{reason}: because",
                                          "requested_at": ts(self.now)})
        return self._add({"event": "pause"}, after=0)

    def resume(self, **kw: Any) -> "Chat":
        self._add({"event": "resume"}, **kw)
        self.slot("handoff_request", None)
        self.slot("escalation_reason", None)
        return self.slot("escalation_topic", None)

    def restart(self, **kw: Any) -> "Chat":
        return self._add({"event": "restart"}, **kw)

    def external(self, kind: str, **kw: Any) -> "Chat":
        return self._add({"event": "user", "text": f"EXTERNAL: EXTERNAL_{kind}", "input_channel": self.channel,
                          "parse_data": {"intent": {"name": f"EXTERNAL_{kind}", "confidence": 1.0}}}, **kw)

    def flush(self) -> "Chat":
        self.sources.write_events([(self.sender, e) for e in self.events])
        self.events = []
        return self
