"""Cost of the insights consumer: CPU per broker event and per idle pass.

Writes N generated conversations as Rasa-shaped events into a real SQLite broker table (with
their handoff queue rows), then runs the product's ``InsightsConsumer`` over them: wall time,
process CPU time, events per second, CPU per 1,000 events, and the CPU of a pass that finds
nothing new (what the handoff service pays every 5 s when idle).

    .venv/bin/python bench/insights/bench_consume.py --conversations 5000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.insights.db import create_schema  # noqa: E402
from tests.insights.helpers import T0, Sources  # noqa: E402


def generate(src: Sources, n: int, seed: int) -> int:
    rng = random.Random(seed)
    events = 0
    for i in range(n):
        start = T0 + timedelta(seconds=i * 20)
        chat = src.chat(f"c{i}", start, rng.choice(("socketio", "rest"))).start()
        for _ in range(rng.randint(1, 6)):
            if rng.random() < 0.08:
                chat.says("hmm no idea what 4000000101 is", "nlu_fallback", 0.2, [("nlu_fallback", 0.2), ("track_order", 0.1)])
            else:
                chat.says("where is my order", "track_order")
            chat.action("action_track_order").bot("It is on its way").action("action_listen")
        if rng.random() < 0.28:
            chat.says("a person please", "contact_human_agent").handoff("explicit_request", "orders", f"h{i}")
            asked = chat.now
            chat.says("hello?", "greet", after=30)
            for _ in range(3):
                chat.bot("Ann here", agent="ann", after=20).says("thanks", "thank", after=15)
            chat.resume(after=30).slot("csat_rating", rng.randint(1, 5), after=5)
            src.queue_row(f"h{i}", f"c{i}", asked, status="closed", assigned_at=asked + timedelta(seconds=25),
                          closed_at=chat.now, disposition="resolved", agent_reply_at=asked + timedelta(seconds=45))
        events += len(chat.events)
        chat.flush()
    return events


async def run(args: argparse.Namespace) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        src = Sources(Path(tmp))
        t0 = time.perf_counter()
        events = generate(src, args.conversations, args.seed)
        gen_s = time.perf_counter() - t0
        consumer = src.consumer()
        await create_schema(consumer.engine)
        w0, c0 = time.perf_counter(), time.process_time()
        done = await consumer.run_once()
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        idle = []
        for _ in range(20):
            c1 = time.process_time()
            await consumer.run_once()
            idle.append((time.process_time() - c1) * 1000)
        await consumer.dispose()
        report = await src.report()
        src.dispose()
    return {
        "conversations": args.conversations, "events": events, "generate_s": round(gen_s, 1), "consumed": done,
        "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "events_per_s": round(events / wall),
        "cpu_ms_per_1000_events": round(cpu / events * 1e6, 1), "idle_pass_cpu_ms_median": round(statistics.median(idle), 2),
        "report_conversations": report.conversations, "report_handoffs": report.handoffs,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=14)
    result = asyncio.run(run(parser.parse_args()))
    print(json.dumps(result, indent=2))
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "insights_consume.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
