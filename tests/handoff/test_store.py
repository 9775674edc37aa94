"""The durable queue on real databases: SQLite (embedded default) and PostgreSQL (production).

The PostgreSQL tests run in a schema of their own (random name, dropped afterwards) on the
local server at postgresql+asyncpg://postgres@127.0.0.1:5432/test (override with
TANDEM_TEST_PG_URL).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from pathlib import Path
from typing import AsyncIterator

import pytest
import sqlalchemy as sa

from bot.handoff.errors import Conflict
from bot.handoff.models import HandoffRequest, MessageKind, Status, Topic
from bot.handoff.store import QueueStore, make_engine

PG_URL = os.environ.get("TANDEM_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
ALL = frozenset(Topic)


def req(topic: Topic = Topic.ORDERS, segments: tuple[str, ...] = (), at: float | None = None) -> HandoffRequest:
    hid = uuid.uuid4().hex
    return HandoffRequest(hid, f"s-{hid[:8]}", topic, "test: reason", at or time.time(), segments=segments)


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[QueueStore]:
    store = QueueStore.from_url(f"sqlite+aiosqlite:///{tmp_path / 'q.db'}")
    await store.create_schema()
    yield store
    await store.dispose()


@pytest.fixture
async def pg_schema() -> AsyncIterator[str]:
    schema = f"handoff_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL)
    async with admin.begin() as conn:
        await conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        async with admin.begin() as conn:
            await conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


def pg_store(schema: str) -> QueueStore:
    return QueueStore.from_url(PG_URL, connect_args={"server_settings": {"search_path": schema}})


async def test_enqueue_is_idempotent_and_one_customer_sits_in_one_queue(sqlite_store: QueueStore) -> None:
    r = req()
    async with sqlite_store.begin() as conn:
        conv, created = await sqlite_store.enqueue(conn, r)
        again, created_again = await sqlite_store.enqueue(conn, r)
        other, created_other = await sqlite_store.enqueue(
            conn, HandoffRequest("different", r.sender_id, Topic.ACCOUNT, "again", time.time()))
        timeline = await sqlite_store.messages(conn, conv.id)
    assert created and not created_again and not created_other
    assert again.id == conv.id == other.id
    assert timeline[-1].kind is MessageKind.SYSTEM and "again" in timeline[-1].text


async def test_accept_is_exclusive_and_lifecycle(sqlite_store: QueueStore) -> None:
    async with sqlite_store.begin() as conn:
        conv, _ = await sqlite_store.enqueue(conn, req())
        await sqlite_store.accept(conn, conv.id, "alice", ALL)
        with pytest.raises(Conflict, match="already assigned by alice"):
            await sqlite_store.accept(conn, conv.id, "bob", ALL)
        with pytest.raises(Conflict, match="belongs to alice"):
            await sqlite_store.transfer(conn, conv.id, "bob", Topic.ACCOUNT)
        moved = await sqlite_store.transfer(conn, conv.id, "alice", Topic.ACCOUNT)
        assert moved.status is Status.WAITING and moved.topic is Topic.ACCOUNT and moved.sort_key == conv.sort_key
        with pytest.raises(Conflict, match="not one of yours"):
            await sqlite_store.accept(conn, conv.id, "orders-only", frozenset({Topic.ORDERS}))
        await sqlite_store.accept(conn, conv.id, "bob", ALL)
        done = await sqlite_store.finish(conn, conv.id, "bob", Status.CLOSED, "resolved")
        assert done.status is Status.CLOSED and done.disposition == "resolved"
        assert await sqlite_store.active_for_sender(conn, conv.sender_id) is None
        assert len(await sqlite_store.recent_handle_s(conn, Topic.ACCOUNT)) == 1


async def test_claim_next_takes_the_best_of_the_agents_queues(sqlite_store: QueueStore) -> None:
    now = time.time()
    async with sqlite_store.begin() as conn:
        early, _ = await sqlite_store.enqueue(conn, req(at=now - 60))
        vip, _ = await sqlite_store.enqueue(conn, req(segments=("vip",), at=now))
        account, _ = await sqlite_store.enqueue(conn, req(Topic.ACCOUNT, at=now - 600))
        orders = frozenset({Topic.ORDERS})
        got = [await sqlite_store.claim_next(conn, f"a{i}", orders) for i in range(3)]
    assert [c.id if c else None for c in got] == [vip.id, early.id, None]
    del account


async def test_cursor_round_trip(sqlite_store: QueueStore) -> None:
    async with sqlite_store.begin() as conn:
        assert await sqlite_store.cursor(conn) == 0
        await sqlite_store.set_cursor(conn, 41)
        await sqlite_store.set_cursor(conn, 42)
    async with sqlite_store.begin() as conn:
        assert await sqlite_store.cursor(conn) == 42


async def test_concurrent_accepts_on_sqlite_have_one_winner(sqlite_store: QueueStore) -> None:
    async with sqlite_store.begin() as conn:
        conv, _ = await sqlite_store.enqueue(conn, req())

    async def try_accept(agent: str) -> str:
        try:
            async with sqlite_store.begin() as conn:
                await sqlite_store.accept(conn, conv.id, agent, ALL)
            return agent
        except Conflict:
            return ""

    winners = [w for w in await asyncio.gather(*(try_accept(f"agent{i}") for i in range(8))) if w]
    assert len(winners) == 1


async def test_postgres_claims_are_exclusive_under_concurrency(pg_schema: str) -> None:
    """Eight service instances (own engines) claim from 40 waiting conversations at once."""
    setup = pg_store(pg_schema)
    await setup.create_schema()
    async with setup.begin() as conn:
        ids = {(await setup.enqueue(conn, req(at=time.time() - i)))[0].id for i in range(40)}
    instances = [pg_store(pg_schema) for _ in range(8)]

    async def agent_loop(store: QueueStore, agent: str) -> list[int]:
        taken = []
        while True:
            async with store.begin() as conn:
                conv = await store.claim_next(conn, agent, ALL)
                await asyncio.sleep(0.005)  # hold the row lock a little, as real work would
            if conv is None:
                return taken
            taken.append(conv.id)

    try:
        results = await asyncio.gather(*(agent_loop(s, f"agent{i}") for i, s in enumerate(instances)))
        claimed = [cid for r in results for cid in r]
        assert sorted(claimed) == sorted(ids)  # every conversation claimed exactly once
        assert sum(1 for r in results if r) > 1  # and the work was actually shared
        async with setup.begin() as conn:
            owners = (await conn.execute(sa.text(
                "SELECT count(*) FROM handoff_conversations WHERE status = 'assigned' AND agent IS NOT NULL"
            ))).scalar_one()
        assert owners == 40
    finally:
        for s in instances:
            await s.dispose()
        await setup.dispose()


async def test_postgres_skip_locked_does_not_wait_for_a_held_row(pg_schema: str) -> None:
    a, b = pg_store(pg_schema), pg_store(pg_schema)
    await a.create_schema()
    try:
        async with a.begin() as conn:
            first, _ = await a.enqueue(conn, req(at=time.time() - 10))
            second, _ = await a.enqueue(conn, req())
        async with a.begin() as held:
            got_a = await a.claim_next(held, "alice", ALL)  # row locked until this block ends
            async with b.begin() as conn:
                got_b = await asyncio.wait_for(b.claim_next(conn, "bob", ALL), timeout=2)
        assert got_a is not None and got_b is not None
        assert (got_a.id, got_b.id) == (first.id, second.id)
    finally:
        await a.dispose()
        await b.dispose()
