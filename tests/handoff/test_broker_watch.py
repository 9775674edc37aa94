"""The consumer's cheap idle check on an SQLite broker: read the table only when its files change."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

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
    assert watch is not None and [f.name for f in watch.files] == ["events.db", "events.db-wal"]
