"""Engines for the insights database and the sources it reads (SQLAlchemy 1.4 async).

The insights database defaults to ``var/insights.db`` (SQLite); ``TANDEM_INSIGHTS_DB_URL``
points it elsewhere, e.g. ``postgresql+asyncpg://user@host/db``. Synchronous URLs
(``sqlite:///``, ``postgresql://``, as Rasa's endpoints use) are turned into their async drivers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from sqlalchemy import event as sa_event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, NullPool

from bot.insights.schema import metadata
from bot.settings import ROOT, Settings

_ASYNC = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}


def async_url(url: str) -> str:
    parsed = make_url(url)
    driver = _ASYNC.get(parsed.get_backend_name())
    if driver and parsed.get_driver_name() != driver:
        parsed = parsed.set(drivername=f"{parsed.get_backend_name()}+{driver}")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, *, schema: str | None = None, readonly: bool = False) -> AsyncEngine:
    """An async engine. SQLite: WAL (readers never block the consumer), a busy timeout, and the
    file's directory created. PostgreSQL: ``schema`` sets the search path (tests use a fresh
    schema each). ``readonly`` sources (Rasa's broker file) are opened as their owner left them,
    with a fresh connection per read so a file created later is seen."""
    parsed = make_url(async_url(url))
    kwargs: dict[str, Any] = {"future": True}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": 15}
        if readonly:
            kwargs["poolclass"] = NullPool
        elif parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            # kept connections (SQLAlchemy 1.4 opens one per use on SQLite); several, because a
            # report reads its sections at once and WAL lets readers run side by side
            kwargs.update(poolclass=AsyncAdaptedQueuePool, pool_size=6, max_overflow=4, pool_timeout=30)
    elif schema:
        kwargs["connect_args"] = {"server_settings": {"search_path": schema}}
    engine = create_async_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite" and not readonly:

        @sa_event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=15000")
            cur.close()

    return engine


def is_postgres(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "postgresql"


async def create_schema(engine: AsyncEngine) -> None:
    """Create the reporting tables that do not exist yet (idempotent)."""
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.run_sync(_create_indexes)


def _create_indexes(conn: Any) -> None:
    """Indexes added after a table was created (``create_all`` only creates missing tables)."""
    for table in metadata.sorted_tables:
        for index in table.indexes:
            index.create(conn, checkfirst=True)


@dataclass(frozen=True)
class InsightsSettings:
    """Where the insights database is and where its sources are."""

    db_url: str
    broker_url: str
    handoff_url: str
    profile_url: str
    reports_dir: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "InsightsSettings":
        env = os.environ if env is None else env
        return cls.from_settings(Settings.from_env(env), env)

    @classmethod
    def from_settings(cls, base: Settings, env: Mapping[str, str] | None = None) -> "InsightsSettings":
        """The sources of ``base`` (the product's settings); the insights database beside them."""
        env = os.environ if env is None else env
        return cls(
            db_url=env.get("TANDEM_INSIGHTS_DB_URL") or f"sqlite+aiosqlite:///{base.var_dir / 'insights.db'}",
            broker_url=base.event_broker_db_url,
            handoff_url=base.handoff_db_url,
            profile_url=base.profile_db_url,
            reports_dir=Path(env.get("TANDEM_REPORTS_DIR") or ROOT / "reports"),
        )
