"""The insights consumer's CPU cost in the handoff service, at the handoff benchmark's load.

Runs ``bench/handoff/bench_latency.py``'s load model (the real stack, 100 socket.io customers
asking for a person at 1 per second, 20 agents, 40 s of conversation at 5 customer messages and 5
agent replies per second while 20 more ask; its two stress bursts only with ``--stress``) once with the consumer off (``TANDEM_INSIGHTS_CONSUME=0``) and once on, in
alternation when ``--rounds`` > 1, and reads the handoff service process's CPU time (user +
system, ``/proc/<pid>/stat``) from the start to the end of the load. The consumer's share is
the difference over the service's CPU without it. With the consumer on, the handoffs it stored
(``ins_handoff``) show it kept up with the load.

    .venv/bin/python bench/insights/bench_cpu.py [--rounds 1] [--talk-seconds 40]
    .venv/bin/python bench/insights/bench_cpu.py --beside [--rounds 1]

On a machine shared with other work the service's own CPU for the same load varies by more than
the consumer costs (two runs without it differed by 20%). ``--beside`` measures within one run
instead: the consumer off in the service and run, at the service's pace, as a process of its own
(``python -m bot insights consume --follow``), the two processes' CPU times read over the same
load; the same work as in the service, minus nothing but sharing its event loop.

Results are printed and written to ``bench/out/insights_cpu.json`` (not committed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "handoff"))

import bench_latency  # noqa: E402
from load_model import add_load_arguments, agent_accounts, stack_env  # noqa: E402

from bot.insights.consumer import IN_SERVICE  # noqa: E402
from bot.runner import Stack  # noqa: E402
from bot.training import ensure_model  # noqa: E402
from tests.conftest import isolated_settings  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (fields 14 and 15 of /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def one_run(args: argparse.Namespace, model: Path, consume: bool | str) -> dict[str, Any]:
    """``consume``: False (off), True (in the service, as shipped) or ``"beside"``: off in the
    service, and ``python -m bot insights consume --follow`` (the same consumer at the same pace)
    as a process of its own, whose CPU time is the consumer's alone."""
    agents = agent_accounts(args.agents)
    with tempfile.TemporaryDirectory(prefix="tandem-bench-cpu-") as tmp:
        settings = isolated_settings(Path(tmp))
        extra = {**stack_env(tmp, agents), "TANDEM_INSIGHTS_CONSUME": "1" if consume is True else "0",
                 "TANDEM_INSIGHTS_DEMO": "0"}
        with Stack(settings, model, extra_env=extra) as stack:
            process = stack.services["handoff"].process
            assert process is not None
            beside: dict[float, subprocess.Popen[bytes]] = {}
            if consume == "beside":
                for interval in args.intervals:  # each into a database of its own, from the same sources
                    env = {**stack.env, "TANDEM_INSIGHTS_DB_URL": f"sqlite+aiosqlite:///{tmp}/insights-{interval:g}s.db"}
                    beside[interval] = subprocess.Popen(
                        [sys.executable, "-m", "bot", "insights", "consume", "--follow", "--interval", str(interval)],
                        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                time.sleep(20 if beside else 6)  # start-up (imports, schema, a first pass) is not load
                cpu0, wall0 = cpu_s(process.pid), time.monotonic()
                own0 = {i: cpu_s(p.pid) for i, p in beside.items()}
                latency = asyncio.run(bench_latency.run(args, settings, agents))
                # one more pass reads the load's last events; as long with the consumer off, so that
                # both runs count the same idle seconds of the service
                time.sleep(max([IN_SERVICE["interval_s"] + 1, *(i + 1 for i in beside)]))
                cpu1, wall1 = cpu_s(process.pid), time.monotonic()
                own1 = {i: cpu_s(p.pid) for i, p in beside.items()}
            finally:
                for p in beside.values():
                    p.terminate()
                    p.wait(timeout=30)
            events = _count(Path(tmp) / "events.db", "events")
            handoffs = _count(Path(tmp) / "insights.db", "ins_handoff")
            if beside:
                handoffs = {f"{i:g}s": _count(Path(tmp) / f"insights-{i:g}s.db", "ins_handoff") for i in beside}
        run = {"consumer": consume, "service_cpu_s": round(cpu1 - cpu0, 2), "wall_s": round(wall1 - wall0, 1),
               "broker_events": events, "insights_handoffs": handoffs, "load_avg_1m": round(os.getloadavg()[0], 2),
               "customer_message_to_console": latency.get("conversations", {}).get("customer_message_to_console")}
        if beside:
            run["consumer_process_cpu_s"] = {f"{i:g}s": round(own1[i] - own0[i], 2) for i in beside}
            run["consumer_share_percent"] = {f"{i:g}s": round(100 * (own1[i] - own0[i]) / (cpu1 - cpu0), 1)
                                             for i in beside}
        return run


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
    parser.add_argument("--beside", action="store_true",
                        help="instead: runs with the consumer as a process of its own, its CPU beside the service's")
    parser.add_argument("--intervals", type=lambda v: [float(x) for x in v.split(",")],
                        default=[IN_SERVICE["interval_s"]],
                        help="with --beside: one consumer process per pass interval, e.g. 5,15")
    add_load_arguments(parser)
    parser.add_argument("--stress", action="store_true", help="also the two bursts (stress, not the load model)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "insights_cpu.json")
    args = parser.parse_args()
    given = os.environ.get("TANDEM_MODEL")
    model = Path(given) if given else ensure_model()
    runs = []
    if args.beside:
        for _ in range(args.rounds):
            runs.append(one_run(args, model, "beside"))
            print(json.dumps(runs[-1]), flush=True)
        service = sum(r["service_cpu_s"] for r in runs)
        own = {k: sum(r["consumer_process_cpu_s"][k] for r in runs) for k in runs[0]["consumer_process_cpu_s"]}
        results = {"runs": runs, "service_cpu_s": round(service, 2), "consumer_cpu_s": own,
                   "consumer_share_percent": {k: round(100 * v / service, 1) for k, v in own.items()} if service else None,
                   "machine": {"cpus": os.cpu_count(), "load_avg_1m_after": round(os.getloadavg()[0], 2)}}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.with_name("insights_cpu_beside.json").write_text(json.dumps(results, indent=2) + "\n")
        print(json.dumps(results, indent=2))
        return 0
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
