"""Fixtures for the profile tests: a fixed clock, a small demo store, PostgreSQL schemas."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import AsyncIterator, Iterator

import pytest
from sqlalchemy import text

from bot.profile import ProfileRepository
from bot.profile.build import build_demo, sync_engine

NOW = datetime(2025, 6, 2, 12, 0, 0)
DEMO_CUSTOMERS = 400
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """URL of a SQLite store with 400 generated customers (incl. the demo ones), built once."""
    path = Path(tmp_path_factory.mktemp("profile")) / "demo.db"
    url = f"sqlite+aiosqlite:///{path}"
    engine = sync_engine(url)
    try:
        build_demo(engine, DEMO_CUSTOMERS, seed=7, now=NOW)
    finally:
        engine.dispose()
    return url


@pytest.fixture
async def repo(demo_db: str) -> AsyncIterator[ProfileRepository]:
    repository = ProfileRepository.from_url(demo_db, clock=lambda: NOW)
    yield repository
    await repository.close()


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema for this test run, dropped afterwards (parallel runs do not collide)."""
    name = f"tp_test_{uuid.uuid4().hex[:12]}"
    engine = sync_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    try:
        yield name
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        engine.dispose()
