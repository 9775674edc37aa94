"""Database engines and schema set-up shared by tandem's own stores (SQLAlchemy 1.4 async).

The handoff queue (``bot.handoff.store``) and the insights tables (``bot.insights.db``) both
keep their data in SQLite by default and PostgreSQL in production, and both need the same
things from an engine: an async driver for a synchronous URL (as Rasa's endpoints write them),
an SQLite file with its directory, WAL, a busy timeout and kept connections, a PostgreSQL
``search_path`` for a schema of its own, and idempotent table creation that replicas starting
together do not race on. This module is that one place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, NullPool

_ASYNC_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}


def async_url(url: str) -> str:
    """``sqlite:///f.db`` → ``sqlite+aiosqlite:///f.db``, ``postgresql://`` → ``postgresql+asyncpg://``."""
    parsed = make_url(url)
    driver = _ASYNC_DRIVERS.get(parsed.get_backend_name())
    if driver and parsed.get_driver_name() != driver:
        parsed = parsed.set(drivername=f"{parsed.get_backend_name()}+{driver}")
    return parsed.render_as_string(hide_password=False)


def make_engine(
    url: str,
    *,
    schema: str | None = None,
    readonly: bool = False,
    pool_size: int = 1,
    max_overflow: int = 0,
    foreign_keys: bool = False,
    **kwargs: Any,
) -> AsyncEngine:
    """An async engine for ``url`` (a synchronous URL gets its async driver).

    SQLite file: its directory is created; WAL (readers never block the writer), synchronous
    NORMAL (a commit survives a crash of any process), a 15 s busy timeout, ``foreign_keys``
    when asked, and ``pool_size`` kept connections (SQLAlchemy 1.4's aiosqlite default opens a
    connection and a thread per use). ``readonly``: a file another program owns (Rasa's broker)
    is opened as its owner left it, no pragma, a fresh connection per use (so a file created
    later is seen). PostgreSQL: ``schema`` sets the search path. ``kwargs`` go to
    ``create_async_engine`` and win over these defaults.
    """
    parsed = make_url(async_url(url))
    sqlite = parsed.get_backend_name() == "sqlite"
    options: dict[str, Any] = {"future": True}
    if sqlite:
        options["connect_args"] = {"timeout": 15}
        if readonly:
            options["poolclass"] = NullPool
        elif parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            options.update(poolclass=AsyncAdaptedQueuePool, pool_size=pool_size, max_overflow=max_overflow,
                           pool_timeout=30)
    elif schema:
        options["connect_args"] = {"server_settings": {"search_path": schema}}
    options.update(kwargs)
    engine = create_async_engine(parsed, **options)
    if sqlite and not readonly:

        @sa_event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a commit survives a crash of any process; only a power cut can
            # lose the last commits (then a cursor moved with them rolls back too: re-applied).
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=15000")
            if foreign_keys:
                cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

    return engine


def cursor_table(name: str, metadata: sa.MetaData, position: str = "position") -> sa.Table:
    """A consumer's cursors: one row per source (``name``), how far it was read (``position``),
    and when; a consumer moves its row in the same transaction as the effects of what it read."""
    return sa.Table(
        name,
        metadata,
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column(position, sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def is_postgres(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "postgresql"


async def create_tables(engine: AsyncEngine, metadata: sa.MetaData, *, lock_key: int | None = None,
                        upgrade: Any = None) -> None:
    """Create the tables and indexes of ``metadata`` that do not exist yet (idempotent).

    ``lock_key``: on PostgreSQL, replicas starting together take this advisory lock, so one
    creates and the others wait. ``upgrade(conn)``, when given, runs in the same transaction
    afterwards (columns an older database lacks).
    """
    async with engine.begin() as conn:
        if lock_key is not None and is_postgres(engine):
            await conn.execute(sa.text(f"SELECT pg_advisory_xact_lock({int(lock_key)})"))
        await conn.run_sync(metadata.create_all)
        await conn.run_sync(_create_indexes, metadata)
        if upgrade is not None:
            await upgrade(conn)


def _create_indexes(conn: Any, metadata: sa.MetaData) -> None:
    """Indexes added after a table was created (``create_all`` only creates missing tables)."""
    for table in metadata.sorted_tables:
        for index in table.indexes:
            index.create(conn, checkfirst=True)
