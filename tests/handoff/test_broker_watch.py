"""The broker consumer on SQLite: a cheap idle check (read the table only when a commit changed its
files), and a start before Rasa has created the database."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

from bot.handoff.broker import FileWatch


def test_a_commit_is_noticed_and_an_idle_database_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, data TEXT)")
    watch = FileWatch(path, recheck_s=60)
    assert watch.unchanged() is False  # first look: read
    assert watch.unchanged() is True  # nothing written since
    db.execute("INSERT INTO events (data) VALUES ('x')")
    assert watch.unchanged() is False
    assert watch.unchanged() is True
    db.close()


def test_commits_in_quick_succession_are_each_noticed(tmp_path: Path) -> None:
    """Faster than the file system's clock: the counters, not the file times, tell."""
    for mode in ("WAL", "DELETE"):
        path = tmp_path / f"{mode}.db"
        writer = sqlite3.connect(path, isolation_level=None)
        writer.execute(f"PRAGMA journal_mode={mode}")
        writer.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, data TEXT)")
        watch = FileWatch(path, recheck_s=60)
        watch.unchanged()
        for i in range(200):
            writer.execute("INSERT INTO events (data) VALUES (?)", (str(i),))
            assert watch.unchanged() is False, (mode, i)
        assert watch.unchanged() is True
        writer.close()


def test_the_table_is_read_at_least_every_recheck_interval(tmp_path: Path) -> None:
    watch = FileWatch(tmp_path / "missing.db", recheck_s=0.05)  # not created yet: Rasa not started
    assert watch.unchanged() is False
    assert watch.unchanged() is True
    time.sleep(0.06)
    assert watch.unchanged() is False


def test_only_sqlite_files_are_watched() -> None:
    assert FileWatch.for_url("postgresql+asyncpg://u@h/db") is None
    assert FileWatch.for_url("sqlite+aiosqlite:///:memory:") is None
    watch = FileWatch.for_url("sqlite+aiosqlite:////tmp/x/events.db")
    assert watch is not None and [f.name for f in watch.files] == ["events.db", "events.db-shm"]


async def test_a_service_started_before_rasa_consumes_once_the_broker_exists(aiohttp_client: Any, tmp_path: Path) -> None:
    """make run starts the service while Rasa is still loading its model: the broker database
    does not exist yet, and the consumer must neither create it nor keep a stale view of it."""
    from rasa.core.brokers.sql import SQLEventBroker

    from bot.handoff.app import STORE, create_app
    from tests.handoff.conftest import handoff_request, make_config, make_settings

    url = f"sqlite:///{tmp_path / 'events.db'}?timeout=30"
    app = create_app(make_settings(tmp_path, "http://127.0.0.1:9", url), make_config(poll_interval_s=0.01))
    await aiohttp_client(app)
    await asyncio.sleep(0.3)  # the consumer looks a few times: nothing there
    assert not (tmp_path / "events.db").exists()
    broker = SQLEventBroker(host=url)  # Rasa starts
    try:
        broker.publish({"sender_id": "late", "event": "slot", "name": "handoff_request",
                        "value": handoff_request("h-late", "late")})
        store = app[STORE]
        for _ in range(300):
            async with store.begin() as conn:
                if (await store.batch_view(conn, {"late"})).active.get("late") is not None:
                    break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the request never reached the queue")
    finally:
        broker.engine.dispose()
