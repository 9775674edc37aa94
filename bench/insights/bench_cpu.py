"""The insights consumer's CPU cost in the handoff service, at the handoff benchmark's load.

Runs ``bench/handoff/bench_latency.py``'s load model (the real stack, 100 socket.io customers
asking for a person at 1 per second, 20 agents, 40 s of conversation at 5 customer messages and 5
agent replies per second while 20 more ask; its two stress bursts only with ``--stress``) once with the consumer off (``TANDEM_INSIGHTS_CONSUME=0``) and once on, in
alternation when ``--rounds`` > 1, and reads the handoff service process's CPU time (user +
system, ``/proc/<pid>/stat``) from the start to the end of the load. The consumer's share is
the difference over the service's CPU without it. With the consumer on, the handoffs it stored
(``ins_handoff``) show it kept up with the load.

    .venv/bin/python bench/insights/bench_cpu.py [--rounds 1] [--talk-seconds 40]

Results are printed and written to ``bench/out/insights_cpu.json`` (not committed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "handoff"))

import bench_latency  # noqa: E402

from bot.runner import Stack  # noqa: E402
from bot.training import ensure_model  # noqa: E402
from tests.conftest import isolated_settings  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (fields 14 and 15 of /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def one_run(args: argparse.Namespace, model: Path, consume: bool) -> dict[str, Any]:
    agents = [(f"agent{i:02d}", f"pw-{i:02d}") for i in range(args.agents)]
    with tempfile.TemporaryDirectory(prefix="tandem-bench-cpu-") as tmp:
        settings = isolated_settings(Path(tmp))
        extra = {"TANDEM_VAR_DIR": tmp, "TANDEM_AGENTS": ",".join(f"{n}:{p}" for n, p in agents),
                 "TANDEM_HANDOFF_POSITION_UPDATE_S": "3600", "TANDEM_INSIGHTS_CONSUME": "1" if consume else "0",
                 "TANDEM_INSIGHTS_DEMO": "0"}
        with Stack(settings, model, extra_env=extra) as stack:
            process = stack.services["handoff"].process
            assert process is not None
            time.sleep(6)  # the consumer's first pass (schema, an empty broker) is start-up, not load
            cpu0, wall0 = cpu_s(process.pid), time.monotonic()
            latency = asyncio.run(bench_latency.run(args, settings, agents))
            time.sleep(6)  # one more consumer pass reads the load's last events
            cpu1, wall1 = cpu_s(process.pid), time.monotonic()
            events = _count(Path(tmp) / "events.db", "events")
            handoffs = _count(Path(tmp) / "insights.db", "ins_handoff")
        return {"consumer": consume, "service_cpu_s": round(cpu1 - cpu0, 2), "wall_s": round(wall1 - wall0, 1),
                "broker_events": events, "insights_handoffs": handoffs, "load_avg_1m": round(os.getloadavg()[0], 2),
                "customer_message_to_console": latency.get("conversations", {}).get("customer_message_to_console")}


def _count(path: Path, table: str) -> int | None:
    import sqlite3

    if not path.exists():
        return None
    with sqlite3.connect(path) as db:
        try:
            return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        except sqlite3.OperationalError:
            return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help="pairs of runs (off, on)")
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--arrival-rate", type=float, default=1.0)
    parser.add_argument("--talk-seconds", type=float, default=40.0)
    parser.add_argument("--latecomers", type=int, default=20)
    parser.add_argument("--late-rate", type=float, default=0.5)
    parser.add_argument("--message-interval", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--stress", action="store_true", help="also the two bursts (stress, not the load model)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "insights_cpu.json")
    args = parser.parse_args()
    given = os.environ.get("TANDEM_MODEL")
    model = Path(given) if given else ensure_model()
    runs = []
    for _ in range(args.rounds):
        for consume in (False, True):
            runs.append(one_run(args, model, consume))
            print(json.dumps(runs[-1]), flush=True)
    off = sum(r["service_cpu_s"] for r in runs if not r["consumer"])
    on = sum(r["service_cpu_s"] for r in runs if r["consumer"])
    results = {"runs": runs, "service_cpu_s_without": round(off, 2), "service_cpu_s_with": round(on, 2),
               "consumer_share_percent": round(100 * (on - off) / off, 1) if off else None,
               "machine": {"cpus": os.cpu_count(), "load_avg_1m_after": round(os.getloadavg()[0], 2)}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
