"""Engines for the insights database and the sources it reads (SQLAlchemy 1.4 async).

The insights database defaults to ``var/insights.db`` (SQLite); ``TANDEM_INSIGHTS_DB_URL``
points it elsewhere, e.g. ``postgresql+asyncpg://user@host/db``. Engines come from ``bot.db``,
shared with the handoff queue (synchronous URLs get their async drivers there).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import create_tables
from bot.db import make_engine as shared_make_engine
from bot.insights.fold import QUIET_S
from bot.insights.schema import metadata
from bot.settings import ROOT, Settings

def make_engine(url: str, *, schema: str | None = None, readonly: bool = False) -> AsyncEngine:
    """An engine for the insights database or, ``readonly``, one of its sources (``bot.db``).
    Several kept SQLite connections, because a report reads its sections at once and WAL lets
    readers run side by side; ``schema``: the PostgreSQL search path (tests use a fresh one)."""
    return shared_make_engine(url, schema=schema, readonly=readonly, pool_size=6, max_overflow=4)


async def create_schema(engine: AsyncEngine) -> None:
    """Create the reporting tables and indexes that do not exist yet (idempotent)."""
    await create_tables(engine, metadata)


@dataclass(frozen=True)
class InsightsSettings:
    """Where the insights database is and where its sources are."""

    db_url: str
    broker_url: str
    handoff_url: str
    profile_url: str
    reports_dir: Path
    #: a queued customer silent this long (seconds) went quiet; None: never
    quiet_s: float | None = QUIET_S

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
            quiet_s=quiet_from_env(env),
        )


def quiet_from_env(env: Mapping[str, str]) -> float | None:
    """``TANDEM_INSIGHTS_QUIET_S``: seconds of silence after which a queued customer went quiet
    (default 600; 0 turns it off). Anything else is refused with a clear error."""
    raw = (env.get("TANDEM_INSIGHTS_QUIET_S") or "").strip()
    if not raw:
        return QUIET_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"TANDEM_INSIGHTS_QUIET_S must be a number of seconds (0 turns it off), not {raw!r}")
    return value or None
