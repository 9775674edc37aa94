"""Benchmark: profile look-up latency through the async repository.

    nice -n 10 .venv/bin/python bench/profile/bench_lookup.py --db /tmp/profiles_1m.db --lookups 10000

Samples identifiers of every kind from the identifier index (uniformly at
random, seeded), then times ``await repo.find(identifier)`` one after the
other on one event loop (what an action does), end to end: normalisation,
SQL, decoding, survivorship, segments. Ambiguous identifiers (family
e-mails) count too: they are answered with AmbiguousIdentifier. Also times
``repo.get(customer_id)``. Also reports the process CPU time per find (both threads): on a shared,
overloaded machine wall-clock latency is mostly waiting for a core. Writes a
JSON line to bench/out/profile_lookup.jsonl.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.profile import ProfileNotFound, ProfileRepository  # noqa: E402


def _display(kind: str, value: str, rng: random.Random) -> str:
    """Type the identifier the way a customer might."""
    if kind == "phone" and value.startswith("+44") and rng.random() < 0.5:
        n = value[3:]
        return f"0{n[:4]} {n[4:]}"
    if kind == "order_id" and rng.random() < 0.3:
        return "#" + value
    if kind == "email" and rng.random() < 0.3:
        return value.upper()
    return value


def sample(db: str, n: int, seed: int) -> list[tuple[str, str]]:
    conn = sqlite3.connect(db)
    max_rowid = conn.execute("SELECT max(rowid) FROM tp_identifier").fetchone()[0]
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    while len(out) < n:
        rowid = rng.randint(1, max_rowid)
        row = conn.execute("SELECT kind, value FROM tp_identifier WHERE rowid = ?", (rowid,)).fetchone()
        if row:
            out.append((row[0], _display(row[0], row[1], rng)))
    conn.close()
    return out


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


async def run(db: str, idents: list[tuple[str, str]]) -> dict:
    repo = ProfileRepository.from_url(f"sqlite+aiosqlite:///{db}")
    outcomes: Counter[str] = Counter()
    by_kind: dict[str, list[float]] = {}
    lat: list[float] = []
    cids: list[str] = []
    for _, raw in idents[:200]:  # warm-up: pool, statement cache
        try:
            await repo.find(raw)
        except ProfileNotFound:
            pass
    cpu_started, wall_started = time.process_time(), time.perf_counter()
    for kind, raw in idents:
        t = time.perf_counter()
        try:
            profile = await repo.find(raw)
            outcome = "found"
            cids.append(profile.customer_id)
        except ProfileNotFound as exc:
            outcome = type(exc).__name__
        dt = (time.perf_counter() - t) * 1000
        lat.append(dt)
        by_kind.setdefault(kind, []).append(dt)
        outcomes[outcome] += 1
    cpu_per_find = (time.process_time() - cpu_started) / len(idents) * 1000
    wall_per_find = (time.perf_counter() - wall_started) / len(idents) * 1000
    get_lat = []
    for cid in cids[:2000]:
        t = time.perf_counter()
        await repo.get(cid)
        get_lat.append((time.perf_counter() - t) * 1000)
    await repo.close()
    return {
        "lookups": len(lat),
        "outcomes": dict(outcomes),
        "find_ms": {"p50": round(pct(lat, 50), 3), "p90": round(pct(lat, 90), 3), "p99": round(pct(lat, 99), 3), "max": round(max(lat), 3), "mean": round(statistics.mean(lat), 3)},
        "cpu_ms_per_find": round(cpu_per_find, 3),
        "wall_ms_per_find": round(wall_per_find, 3),
        "find_ms_by_kind": {k: {"n": len(v), "p50": round(pct(v, 50), 3), "p99": round(pct(v, 99), 3)} for k, v in sorted(by_kind.items())},
        "get_ms": {"n": len(get_lat), "p50": round(pct(get_lat, 50), 3), "p99": round(pct(get_lat, 99), 3)},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="/tmp/profiles_bench.db")
    parser.add_argument("--lookups", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    idents = sample(args.db, args.lookups, args.seed)
    result = asyncio.run(run(args.db, idents))
    conn = sqlite3.connect(args.db)
    result["profiles_in_store"] = conn.execute("SELECT count(*) FROM tp_person").fetchone()[0]
    conn.close()
    result["db"] = args.db
    result["loadavg_at_end"] = os.getloadavg()
    print(json.dumps(result, indent=2))
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "profile_lookup.jsonl", "a") as fh:
        fh.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
