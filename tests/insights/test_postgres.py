"""The reporting tables and the consumer on the machine's real PostgreSQL (a fresh schema per
test, dropped afterwards): the same traffic gives the same report as on SQLite."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import AsyncIterator

import pytest
import sqlalchemy as sa

from bot.insights import schema
from bot.insights.db import make_engine
from tests.insights.helpers import Sources
from tests.insights.test_metrics import _mixed_traffic, _served

PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


@pytest.fixture
async def pg_schema() -> AsyncIterator[str]:
    name = f"ins_test_{uuid.uuid4().hex[:12]}"
    engine = make_engine(PG_URL)
    async with engine.begin() as conn:
        await conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    try:
        yield name
    finally:
        async with engine.begin() as conn:
            await conn.execute(sa.text(f'DROP SCHEMA "{name}" CASCADE'))
        await engine.dispose()


async def test_same_report_on_postgresql_and_sqlite(tmp_path: Path, pg_schema: str) -> None:
    lite, pg = Sources(tmp_path / "lite"), Sources(tmp_path / "pg", db_url=PG_URL, schema=pg_schema)
    try:
        for src in (lite, pg):
            _mixed_traffic(src)
            _served(src, "j", "h-j", wait=90, reply=20, handle=400, rating=3, comment="ok", channel="socketio")
            await src.consume(batch_size=7)
            assert await src.consume() == {"rasa_events": 0, "handoff_queue": 0, "process_requests": 0}
        expected = (await lite.report()).to_json()
        assert expected["conversations"] == 4 and expected["ratings"]["rated"] == 2
        assert (await pg.report()).to_json() == expected
        assert (await pg.report(channel="socketio")).to_json() == (await lite.report(channel="socketio")).to_json()
        engine = make_engine(PG_URL)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(sa.text(
                    "SELECT count(*) FROM information_schema.tables WHERE table_schema = :s AND table_name LIKE 'ins_%'"),
                    {"s": pg_schema})
                assert rows.scalar_one() == len(schema.metadata.tables)  # everything landed in the test's schema
        finally:
            await engine.dispose()
    finally:
        lite.dispose()
        pg.dispose()


async def test_two_consumers_at_once_on_postgresql(tmp_path: Path, pg_schema: str) -> None:
    import asyncio

    from bot.insights.db import create_schema

    pg = Sources(tmp_path / "pg2", db_url=PG_URL, schema=pg_schema)
    try:
        _mixed_traffic(pg)
        for i in range(8):
            _served(pg, f"par{i}", f"h-par{i}", wait=10 + i, reply=5, handle=60)
        consumers = [pg.consumer(batch_size=5) for _ in range(2)]
        try:
            await create_schema(consumers[0].engine)
            for _ in range(4):
                await asyncio.gather(*(c.run_once() for c in consumers))
        finally:
            for c in consumers:
                await c.dispose()
        rep = await pg.report()
        assert (rep.conversations, rep.handoffs, rep.accepted) == (11, 10, 9)
    finally:
        pg.dispose()


async def test_passes_over_different_sources_do_not_write_at_the_same_time(pg_schema: str) -> None:
    """The broker and the queue passes both create handoff rows under the queue's key: while one
    holds the write lock, the other waits for it (with a lock per source cursor, both found the
    key free and the second insert failed on PostgreSQL's unique constraint)."""
    import asyncio

    from bot.insights.consumer import BROKER, QUEUE, get_cursor
    from bot.insights.db import create_schema

    engine = make_engine(PG_URL, schema=pg_schema)
    try:
        await create_schema(engine)
        async with engine.connect() as queue_pass, engine.connect() as broker_pass:
            async with queue_pass.begin():
                await get_cursor(queue_pass, QUEUE, lock=True)
                async with broker_pass.begin():
                    waiting = asyncio.ensure_future(get_cursor(broker_pass, BROKER, lock=True))
                    done, _pending = await asyncio.wait({waiting}, timeout=1.0)
                    assert not done, "the broker pass took the write lock while the queue pass held it"
                    await queue_pass.commit()
                    assert await asyncio.wait_for(waiting, timeout=10) == 0
    finally:
        await engine.dispose()
