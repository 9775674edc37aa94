"""Benchmark: build (generate + load + index + resolve) and resolution quality.

    nice -n 10 .venv/bin/python bench/profile/bench_build.py --customers 1000000 --db /tmp/profiles_1m.db

Prints and writes a JSON line to bench/out/profile_build.jsonl: per-phase wall
time, peak RSS of the process (ru_maxrss), silo row counts, pairwise
precision/recall against the generator's ground truth. Not part of the test
suite; numbers go into bench/profile/REPORT.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.profile.build import build_demo, sync_engine  # noqa: E402
from bot.profile.quality import measure  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", default="/tmp/profiles_bench.db", help="SQLite file (replaced) or a SQLAlchemy URL")
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args()
    url = args.db if "://" in args.db else f"sqlite+aiosqlite:///{args.db}"
    if "://" not in args.db:
        for suffix in ("", "-wal", "-shm"):
            try:
                os.remove(args.db + suffix)
            except FileNotFoundError:
                pass
    progress = None
    if args.progress:
        from tqdm import tqdm

        progress = lambda it=None, **kw: tqdm(it, mininterval=5.0, **kw)  # noqa: E731
    engine = sync_engine(url)
    started = time.perf_counter()
    stats = build_demo(engine, args.customers, args.seed, progress=progress)
    build_s = time.perf_counter() - started
    t = time.perf_counter()
    with engine.connect() as conn:
        quality = measure(conn)
    quality_s = time.perf_counter() - t
    engine.dispose()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_mb = usage.ru_maxrss / 1024
    size_mb = os.path.getsize(args.db) / 2**20 if "://" not in args.db else None
    result = {
        "customers": args.customers,
        "seed": args.seed,
        "silo_rows": stats.silo_rows,
        "rows": stats.rows,
        "root_records": stats.resolution.records,
        "profiles": stats.resolution.people,
        "merged_by": stats.resolution.merged_by,
        "ambiguous_keys": stats.resolution.ambiguous_keys,
        "seconds": {k: round(v, 1) for k, v in stats.seconds.items()},
        "build_seconds": round(build_s, 1),
        "quality_seconds": round(quality_s, 1),
        "peak_rss_mb": round(peak_mb),
        "process_cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "db_mb": round(size_mb) if size_mb else None,
        "precision": round(quality.precision, 5),
        "recall": round(quality.recall, 5),
        "f1": round(quality.f1, 5),
        "true_pairs": quality.true_pairs,
        "predicted_pairs": quality.predicted_pairs,
        "correct_pairs": quality.correct_pairs,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "loadavg_at_end": os.getloadavg(),
    }
    print(json.dumps(result, indent=2))
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "profile_build.jsonl", "a") as fh:
        fh.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
