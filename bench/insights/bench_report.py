"""Scale bench of the insights report: N generated conversations (default 1,000,000) in the
reporting tables, then the report's latency for the filters a supervisor uses.

Method (see REPORT.md): facts are generated (seeded) straight into ``ins_conversation``,
``ins_handoff``, ``ins_request`` and ``ins_followup`` over 365 days (bulk insert: the consumer's
own speed is measured separately by ``bench_consume.py``), every day is marked dirty and rolled
up by the product's ``refresh``; then each report is built ``--repeat`` times on a fresh engine
and the first (cold) and median (warm) times are printed. SQLite file and/or PostgreSQL schema.

    .venv/bin/python bench/insights/bench_report.py --backend sqlite --conversations 1000000
    .venv/bin/python bench/insights/bench_report.py --backend postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Iterator

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.insights import schema as t  # noqa: E402
from bot.insights.db import create_schema, make_engine  # noqa: E402
from bot.insights.fold import wait_bucket  # noqa: E402
from bot.insights.report import Filters, build_report  # noqa: E402
from bot.insights.rollup import refresh  # noqa: E402

PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
START = datetime(2025, 3, 1)
DAYS = 365
CHANNELS = (("socketio", 0.7), ("rest", 0.2), ("whatsapp", 0.1))
TOPICS = (("orders", 0.4), ("refunds_billing", 0.25), ("account", 0.15), ("complaints", 0.1), ("general", 0.1))
REASONS = (("explicit_request", 0.45), ("repeated_fallback", 0.15), ("frustration", 0.1), ("data_unavailable", 0.1),
           ("failed_turns", 0.08), ("priority_complaint", 0.05), ("legal_threat", 0.02), ("sensitive_circumstance", 0.05))
INTENTS = ("contact_human_agent", "track_order", "request_refund", "nlu_fallback", "deny", "cancel_order")
REQUESTS = ("order_cancellation", "refund", "address_change", "data_export", "invoice_copy")


def pick(rng: random.Random, table: tuple[tuple[str, float], ...]) -> str:
    x, acc = rng.random(), 0.0
    for value, p in table:
        acc += p
        if x < acc:
            return value
    return table[-1][0]


def generate(n: int, seed: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """("conversation"|"handoff"|"request"|"followup", row) with ids assigned in order."""
    rng = random.Random(seed)
    hid = 0
    for cid in range(1, n + 1):
        started = START + timedelta(seconds=rng.uniform(0, DAYS * 86400))
        channel = pick(rng, CHANNELS)
        turns = rng.randint(1, 12)
        fallback = sum(rng.random() < 0.08 for _ in range(turns))
        oos = sum(rng.random() < 0.03 for _ in range(turns))
        handed = rng.random() < 0.28
        handoffs = (2 if rng.random() < 0.05 else 1) if handed else 0
        reason = pick(rng, REASONS) if handed else ""
        topic = pick(rng, TOPICS) if handed else ""
        rating = float(rng.choices((1, 2, 3, 4, 5), (5, 5, 15, 35, 40))[0]) if handed and rng.random() < 0.4 else None
        yield "conversation", {
            "id": cid, "sender_id": f"s{cid}", "started_at": started, "day": started.date(),
            "last_event_at": started + timedelta(minutes=5), "channel": channel, "user_turns": turns,
            "fallback_turns": fallback, "oos_turns": oos, "handoffs": handoffs, "reason": reason, "topic": topic,
            "rating": rating, "rating_comment": rating is not None and rng.random() < 0.3, "state": "{}",
        }
        at = started + timedelta(seconds=rng.uniform(20, 300))
        for k in range(handoffs):
            hid += 1
            wait = rng.lognormvariate(4.0, 1.0)
            abandoned = rng.random() < 0.07
            accepted = None if abandoned else at + timedelta(seconds=wait)
            reply = rng.uniform(5, 60) if accepted else None
            handle = rng.uniform(60, 1200) if accepted else None
            outcome = "abandoned" if abandoned else ("handed_back" if k == 0 and handoffs == 2 else "closed")
            yield "handoff", {
                "id": hid, "handoff_key": f"h{hid}", "conversation_id": cid, "sender_id": f"s{cid}",
                "requested_at": at, "day": at.date(), "channel": channel, "topic": topic,
                "reason": reason if k == 0 else pick(rng, REASONS), "explicit": reason == "explicit_request",
                "intent_before": rng.choice(INTENTS), "accepted_at": accepted,
                "first_reply_at": accepted + timedelta(seconds=reply) if accepted and reply else None,
                "ended_at": accepted + timedelta(seconds=handle) if accepted and handle else at + timedelta(seconds=wait),
                "outcome": outcome, "disposition": None if abandoned else "resolved",
                "wait_s": wait if accepted else None, "reply_s": reply, "handle_s": handle,
                "wait_bucket": wait_bucket(wait) if accepted else None,
            }
            at += timedelta(seconds=(handle or 0) + 120)
        if rng.random() < 0.06:
            yield "request", {"request_id": f"r{cid}", "kind": rng.choice(REQUESTS), "sender_id": f"s{cid}",
                              "channel": channel, "created_at": started, "day": started.date()}
        if rng.random() < 0.03:
            yield "followup", {"event_id": cid, "sender_id": f"s{cid}", "kind": "refund_paid", "channel": channel,
                               "sent_at": started + timedelta(days=2), "day": (started + timedelta(days=2)).date()}


TABLES = {"conversation": t.conversation, "handoff": t.handoff, "request": t.request, "followup": t.followup}


async def load(engine: Any, n: int, seed: int, chunk: int = 20_000) -> dict[str, int]:
    counts = {k: 0 for k in TABLES}
    buffers: dict[str, list[dict[str, Any]]] = {k: [] for k in TABLES}

    async def flush(kind: str) -> None:
        rows = buffers[kind]
        if not rows:
            return
        async with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                raw = await conn.get_raw_connection()
                table = TABLES[kind]
                cols = [c.name for c in table.c]
                await raw.driver_connection.copy_records_to_table(
                    table.name, records=[tuple(r[c] for c in cols) for r in rows], columns=cols)
            else:
                await conn.execute(TABLES[kind].insert(), rows)
        counts[kind] += len(rows)
        buffers[kind] = []

    for kind, row in generate(n, seed):
        buffers[kind].append(row)
        if len(buffers[kind]) >= chunk:
            await flush(kind)
    for kind in TABLES:
        await flush(kind)
    return counts


async def run(args: argparse.Namespace) -> dict[str, Any]:
    schema_name = None
    reuse = False
    if args.backend == "sqlite":
        path = Path(args.sqlite_path)
        reuse = args.reuse and path.exists()
        if not reuse:
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        url = f"sqlite+aiosqlite:///{path}"
    else:
        schema_name = args.pg_schema or f"ins_bench_{uuid.uuid4().hex[:8]}"
        admin = make_engine(PG_URL)
        async with admin.begin() as conn:
            reuse = args.reuse and bool((await conn.execute(sa.text(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = :s AND table_name = 'ins_conversation'"),
                {"s": schema_name})).first())
            await conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema_name}"'))
        await admin.dispose()
        url = PG_URL
    result: dict[str, Any] = {"backend": args.backend, "conversations": args.conversations,
                              "load_average_at_start": os.getloadavg()[0]}
    engine = make_engine(url, schema=schema_name)
    try:
        await create_schema(engine)
        t0 = time.perf_counter()
        if reuse:  # the facts of an earlier run with the same arguments
            async with engine.connect() as conn:
                result["rows"] = {k: (await conn.execute(sa.select(sa.func.count()).select_from(tb))).scalar_one()
                                  for k, tb in TABLES.items()}
        else:
            result["rows"] = await load(engine, args.conversations, args.seed)
            result["load_s"] = round(time.perf_counter() - t0, 1)
        if engine.dialect.name == "postgresql":
            async with engine.begin() as conn:
                await conn.execute(sa.text("ANALYZE"))
        if not (reuse and args.skip_rollup):
            days = [START.date() + timedelta(days=i) for i in range(DAYS + 3)]
            async with engine.begin() as conn:
                await conn.execute(t.dirty_day.insert(), [{"day": d} for d in days])
            t0 = time.perf_counter()
            await refresh(engine)
            result["rollup_all_days_s"] = round(time.perf_counter() - t0, 1)
        one_day = START.date() + timedelta(days=200)
        async with engine.begin() as conn:
            await conn.execute(t.dirty_day.insert(), [{"day": one_day}])
        t0 = time.perf_counter()
        await refresh(engine)
        result["rollup_one_day_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        async with engine.connect() as conn:
            result["rollup_rows"] = {tb.name: (await conn.execute(sa.select(sa.func.count()).select_from(tb))).scalar_one()
                                     for tb in t.ROLLUPS}
    finally:
        await engine.dispose()

    cases = {
        "whole year": Filters(),
        "one month": Filters(since=date(2025, 9, 1), until=date(2025, 9, 30)),
        "year, channel socketio": Filters(channel="socketio"),
        "year, topic orders": Filters(topic="orders"),
        "quarter, whatsapp, complaints": Filters(since=date(2025, 6, 1), until=date(2025, 8, 31), channel="whatsapp",
                                                 topic="complaints"),
    }
    result["report_ms"] = {}
    for name, filters in cases.items():
        times, cpu = [], []
        engine = make_engine(url, schema=schema_name)  # fresh connections: the first run is cold
        try:
            for _ in range(args.repeat):
                t0, c0 = time.perf_counter(), time.process_time()
                rep = await build_report(engine, filters)
                times.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
        finally:
            await engine.dispose()
        result["report_ms"][name] = {"first": round(times[0], 1), "median": round(statistics.median(times), 1),
                                     "max": round(max(times), 1), "cpu_median": round(statistics.median(cpu), 1),
                                     "conversations": rep.conversations}
        print(f"{args.backend:10} {name:32} first {times[0]:7.1f} ms  median {statistics.median(times):7.1f} ms  "
              f"max {max(times):7.1f} ms  cpu {statistics.median(cpu):6.1f} ms  ({rep.conversations} conversations)",
              flush=True)
    if schema_name and not args.pg_schema:
        admin = make_engine(PG_URL)
        async with admin.begin() as conn:
            await conn.execute(sa.text(f'DROP SCHEMA "{schema_name}" CASCADE'))
        await admin.dispose()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--reuse", action="store_true", help="keep the facts of an earlier run (SQLite file or --pg-schema)")
    parser.add_argument("--skip-rollup", action="store_true", help="with --reuse: keep its roll-ups too")
    parser.add_argument("--pg-schema", help="PostgreSQL: this schema, kept afterwards (default: a fresh one, dropped)")
    parser.add_argument("--sqlite-path", default=str(ROOT / "bench" / "out" / "insights_bench.db"))
    args = parser.parse_args()
    Path(args.sqlite_path).parent.mkdir(parents=True, exist_ok=True)
    result = asyncio.run(run(args))
    print(json.dumps(result, indent=2, default=str))
    out = ROOT / "bench" / "out" / f"insights_report_{args.backend}.json"
    out.write_text(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
