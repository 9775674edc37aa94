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
