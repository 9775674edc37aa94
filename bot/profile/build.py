"""Building the demo store: schema, generated silo data, resolution.

A batch job for the CLI and benchmarks. It uses a *synchronous* engine
(``sqlite+aiosqlite`` -> ``sqlite``, ``postgresql+asyncpg`` ->
``postgresql+psycopg2``), which is fine outside the bot's event loop.
Rebuilding replaces the silo, resolution and ground-truth tables; tandem's
own ``tp_event`` and ``tp_request`` tables (what customers told or asked the bot) are kept.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.schema import CreateTable

from bot.profile import schema
from bot.profile.generator import DemoGenerator
from bot.profile.resolve import ResolutionStats, Resolver, insert_rows

logger = logging.getLogger(__name__)


def sync_url(url: str) -> str:
    """The synchronous driver URL for an async one (other URLs unchanged)."""
    parsed = make_url(url)
    driver = parsed.drivername
    mapping = {"sqlite+aiosqlite": "sqlite+pysqlite", "postgresql+asyncpg": "postgresql+psycopg2"}
    return str(parsed.set(drivername=mapping.get(driver, driver))) if driver in mapping else url


def _sqlite_bulk_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=OFF")
    cur.execute("PRAGMA cache_size=-262144")  # 256 MB
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def sync_engine(url: str, schema_name: str | None = None) -> Engine:
    """A sync engine for batch work; ``schema_name`` sets the PostgreSQL search_path."""
    target = sync_url(url)
    kwargs: dict[str, Any] = {"future": True}
    if schema_name and target.startswith("postgresql"):
        kwargs["connect_args"] = {"options": f"-csearch_path={schema_name}"}
    engine = create_engine(target, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_bulk_pragmas)
    return engine


def reset_schema(conn: Connection, with_indexes: bool = False) -> None:
    """Drop and re-create the rebuilt tables (indexes optional: bulk loads add them later)."""
    for table in reversed(schema.REBUILT_TABLES):
        table.drop(conn, checkfirst=True)
    for table in schema.REBUILT_TABLES:
        conn.execute(CreateTable(table))
        if with_indexes:
            for index in table.indexes:
                index.create(conn)
    for table in schema.CUSTOMER_TABLES:
        table.create(conn, checkfirst=True)


def create_indexes(conn: Connection, tables: Iterable[Any] = schema.REBUILT_TABLES) -> None:
    for table in tables:
        for index in table.indexes:
            index.create(conn, checkfirst=True)


@dataclass(frozen=True)
class BuildStats:
    customers: int
    seed: int
    now: datetime
    rows: dict[str, int]
    resolution: ResolutionStats
    seconds: dict[str, float]

    @property
    def silo_rows(self) -> int:
        return sum(v for k, v in self.rows.items() if k != "gt_record")


def _no_progress(it: Iterable[Any], **_: Any) -> Iterable[Any]:
    return it


def build_demo(
    engine: Engine,
    customers: int = 2000,
    seed: int = 7,
    now: datetime | None = None,
    progress: Callable[..., Iterable[Any]] | None = None,
) -> BuildStats:
    """Generate, load and resolve ``customers`` demo people into ``engine``'s database."""
    progress = progress or _no_progress
    gen = DemoGenerator(customers, seed, now)
    rows: dict[str, int] = {}
    seconds: dict[str, float] = {}
    t0, c0 = time.perf_counter(), time.process_time()
    with engine.begin() as conn:
        reset_schema(conn)
    tables = {t.name: t for t in schema.REBUILT_TABLES}
    with engine.begin() as conn:
        bar = progress(total=customers, desc="generate+load", unit="customer") if progress is not _no_progress else None
        done_people = 0
        for chunk in gen.chunks():
            for batch in chunk:
                insert_rows(conn, tables[batch.table], batch.rows)
                rows[batch.table] = rows.get(batch.table, 0) + len(batch.rows)
                if batch.table == "gt_record" and bar is not None:
                    people = len({r[2] for r in batch.rows})
                    done_people += people
                    bar.update(people)
        if bar is not None:
            bar.close()
    seconds["generate_load"] = time.perf_counter() - t0
    seconds["generate_load_cpu"] = time.process_time() - c0
    t1 = time.perf_counter()
    with engine.begin() as conn:
        create_indexes(conn, [t for t in schema.REBUILT_TABLES if t not in schema.RESOLUTION_TABLES])
    seconds["index"] = time.perf_counter() - t1
    t2, c2 = time.perf_counter(), time.process_time()
    with engine.begin() as conn:
        stats = Resolver(conn, progress).run(gen.now)
        meta = {"customers": customers, "seed": seed, "now": gen.now.isoformat(), "built_at": datetime.utcnow().replace(microsecond=0).isoformat()}
        insert_rows(conn, schema.tp_meta, [(k, json.dumps(v)) for k, v in meta.items()])
    seconds["resolve"] = time.perf_counter() - t2
    seconds["resolve_cpu"] = time.process_time() - c2
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
    seconds["total"] = time.perf_counter() - t0
    seconds["total_cpu"] = time.process_time() - c0
    return BuildStats(customers, seed, gen.now, rows, stats, seconds)


def resolve_only(engine: Engine, now: datetime | None = None, progress: Callable[..., Iterable[Any]] | None = None) -> ResolutionStats:
    """Re-run resolution over silo data already in the store (e.g. loaded from real exports)."""
    with engine.begin() as conn:
        for table in (schema.tp_person, schema.tp_link, schema.tp_identifier, *schema.CUSTOMER_TABLES):
            table.create(conn, checkfirst=True)
        return Resolver(conn, progress).run(now or datetime.utcnow().replace(microsecond=0))
