"""What the consumer does between events: a pass after which nothing was committed reads no
source, roll-ups wait for their interval without a report ever showing less, and a source file
replaced by another is read anew (the consumer keeps its connections)."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from bot.insights import schema as t
from bot.insights.consumer import REQUESTS, InsightsConsumer
from bot.insights.db import create_schema
from bot.profile import schema as profile_schema
from tests.insights.helpers import T0, Sources


def _count_statements(consumer: InsightsConsumer) -> dict[str, list[str]]:
    seen: dict[str, list[str]] = {"broker": [], "queue": [], "profiles": [], "insights": []}
    engines = {"broker": consumer.broker, "queue": consumer.queue, "profiles": consumer.profiles,
               "insights": consumer.engine}
    for name, engine in engines.items():
        assert engine is not None

        def record(_conn: Any, _cursor: Any, statement: str, *_args: Any, name: str = name) -> None:
            seen[name].append(statement)

        event.listen(engine.sync_engine, "before_cursor_execute", record)
    return seen


async def test_a_pass_after_nothing_was_committed_reads_nothing(sources: Sources) -> None:
    sources.chat("quiet").start().says("hi", "greet").bot("hello").flush()
    sources.request("R-1", "refund", "quiet", T0)
    sources.queue_row("h-0", "other", T0, status="waiting")
    consumer = sources.consumer()
    try:
        await create_schema(consumer.engine)
        first = await consumer.run_once()
        assert first["rasa_events"] > 0 and first["handoff_queue"] == 1 and first["process_requests"] == 1
        seen = _count_statements(consumer)
        assert await consumer.run_once() == {"rasa_events": 0, "handoff_queue": 0, "process_requests": 0}
        assert seen["broker"] == seen["queue"] == seen["profiles"] == []
        assert all("ins_handoff" in s for s in seen["insights"])  # only the went-quiet sweep
        sources.chat("later", T0 + timedelta(minutes=5)).start().says("where is my order", "track_order").flush()
        second = await consumer.run_once()
        assert second["rasa_events"] > 0 and seen["broker"] and seen["profiles"] == []
    finally:
        await consumer.dispose()
    rep = await sources.report()
    assert (rep.conversations, rep.user_turns) == (2, 2)


async def test_roll_ups_wait_for_their_interval_and_a_report_still_counts_everything(sources: Sources) -> None:
    clock = [0.0]
    consumer = sources.consumer(roll_up_every_s=60.0, ticker=lambda: clock[0])
    try:
        await create_schema(consumer.engine)
        sources.chat("a").start().says("hi", "greet").flush()
        await consumer.run_once()  # rolls up (the first pass after a start always does)
        clock[0] += 5
        sources.chat("b", T0 + timedelta(days=1)).start().says("hi", "greet").flush()
        await consumer.run_once()
        async with consumer.engine.connect() as conn:
            dirty = (await conn.execute(sa.select(t.dirty_day.c.day))).scalars().all()
        assert [str(d) for d in dirty] == [str((T0 + timedelta(days=1)).date())]  # waits for the minute
        rep = await sources.report()  # a report rolls up what is left first
        assert rep.conversations == 2
        clock[0] += 60
        sources.chat("c", T0 + timedelta(days=2)).start().says("hi", "greet").flush()
        await consumer.run_once()
        async with consumer.engine.connect() as conn:
            assert (await conn.execute(sa.select(t.dirty_day.c.day))).first() is None
    finally:
        await consumer.dispose()


async def test_a_replaced_source_file_is_read_anew(sources: Sources) -> None:
    sources.request("R-old", "refund", "x", T0)
    consumer = sources.consumer()
    try:
        await create_schema(consumer.engine)
        assert (await consumer.run_once())[REQUESTS] == 1
        # the profile store is rebuilt in a new file at the same path (a restore, a fresh demo store)
        path = sources.tmp / "profiles.db"
        fresh = sources.tmp / "profiles.new.db"
        engine = sa.create_engine(f"sqlite:///{fresh}", future=True)
        profile_schema.tp_request.create(engine)
        with engine.begin() as conn:
            conn.execute(profile_schema.tp_request.insert().values(
                request_id="R-new", customer_id="C1", kind="cancellation", conversation_id="x", state="requested",
                open_key="R-new", created_at=T0 + timedelta(minutes=1), updated_at=T0 + timedelta(minutes=1)))
        engine.dispose()
        os.replace(fresh, path)
        assert (await consumer.run_once())[REQUESTS] == 1
    finally:
        await consumer.dispose()
    rep = await sources.report()
    assert rep.requests_by_type == {"cancellation": 1, "refund": 1}
