"""Cost of the insights consumer: CPU per broker event and per idle pass.

Writes N generated conversations as Rasa-shaped events into a real SQLite broker table (with
their handoff queue rows), then runs the product's ``InsightsConsumer`` over them: wall time,
process CPU time, events per second, CPU per 1,000 events, and the CPU of a pass that finds
nothing new (what the handoff service pays every pass when idle).

    .venv/bin/python bench/insights/bench_consume.py --conversations 5000
    .venv/bin/python bench/insights/bench_consume.py --steady 20 [--profile]

``--steady N``: N passes as the handoff service runs them (``IN_SERVICE``), each after what one
pass interval of the handoff benchmark's load writes (its load model: about 12 broker events a
second from 5 customer messages and 5 agent replies, 40 queued or served conversations with their
agent messages, one new handoff every 2 s): the CPU of each pass, busy and idle; with
``--profile`` a cProfile of the busy passes by CPU time (``BENCH_SORT=tottime`` to sort by own
time).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.insights.consumer import IN_SERVICE  # noqa: E402
from bot.insights.db import create_schema  # noqa: E402
from tests.insights.helpers import T0, Sources, ts  # noqa: E402


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


class SteadyLoad:
    """What the handoff benchmark's load writes, 5 s at a time: customers in conversation with
    agents (user events, agents' bot events, queue messages), new handoffs arriving."""

    def __init__(self, src: Sources, seed: int) -> None:
        self.src, self.rng = src, random.Random(seed)
        self.now = T0
        self.live: list[tuple[str, str, int]] = []  # (sender, handoff id, queue row id)
        self.n = 0

    def _new_handoff(self) -> None:
        self.n += 1
        sender, key = f"s{self.n}", f"h{self.n}"
        chat = self.src.chat(sender, self.now, "socketio").start(at=self.now)
        chat.says("I want to talk to a person", "contact_human_agent", after=0.1).handoff("explicit_request", "orders", key)
        chat.flush()
        row = self.src.queue_row(key, sender, self.now, assigned_at=self.now + timedelta(seconds=2), status="assigned")
        self.live.append((sender, key, row))
        if len(self.live) > 40:
            sender, key, row = self.live.pop(0)
            self.src.queue_row(key, sender, self.now - timedelta(minutes=5), status="closed",
                               assigned_at=self.now - timedelta(minutes=4), closed_at=self.now, disposition="resolved")
            self.src.write_events([(sender, {"event": "resume", "timestamp": ts(self.now)})])

    def five_seconds(self) -> None:
        from bot.handoff import store as queue_store

        for second in range(5):
            self.now += timedelta(seconds=1)
            if (self.n + second) % 2 == 0:
                self._new_handoff()
            rows = []
            for _ in range(5):
                sender, _key, conv = self.rng.choice(self.live)
                rows.append((sender, {"event": "user", "text": "hello?", "timestamp": ts(self.now),
                                      "input_channel": "socketio",
                                      "parse_data": {"intent": {"name": "greet", "confidence": 0.9}}}))
                sender, _key, conv = self.rng.choice(self.live)
                rows.append((sender, {"event": "bot", "text": "Ann here", "timestamp": ts(self.now),
                                      "metadata": {"agent": "ann"}}))
                with self.src.queue.begin() as conn:
                    conn.execute(queue_store.messages.insert(), [
                        {"conversation_id": conv, "kind": kind, "text": "hi", "author": "ann",
                         "created_at": self.now} for kind in ("customer", "agent")])
            self.src.write_events(rows)
        self.src.now = self.now


async def steady(args: argparse.Namespace) -> dict[str, object]:
    import cProfile
    import io
    import pstats

    with tempfile.TemporaryDirectory() as tmp:
        src = Sources(Path(tmp))
        load = SteadyLoad(src, args.seed)
        for _ in range(12):  # a queue of conversations under way, consumed once
            load.five_seconds()
        clock = [0.0]  # the consumer's seconds: 5 per pass, as in the service
        consumer = src.consumer(roll_up_every_s=IN_SERVICE["roll_up_every_s"],
                                quiet_every_s=IN_SERVICE["quiet_every_s"], ticker=lambda: clock[0])
        await create_schema(consumer.engine)
        await consumer.run_once()
        profile = cProfile.Profile(time.thread_time) if args.profile else None  # CPU, not wall
        busy, idle = [], []
        for _ in range(args.steady):
            for _ in range(round(IN_SERVICE["interval_s"] / 5)):
                load.five_seconds()
            clock[0] += IN_SERVICE["interval_s"]
            c0 = time.process_time()
            if profile:
                profile.enable()
            await consumer.run_once()
            if profile:
                profile.disable()
            busy.append((time.process_time() - c0) * 1000)
            c1 = time.process_time()
            await consumer.run_once()
            idle.append((time.process_time() - c1) * 1000)
        await consumer.dispose()
        report = await src.report()
        src.dispose()
    if profile:
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(45)
        print(out.getvalue())
    return {
        "passes": args.steady, "pace": IN_SERVICE, "busy_pass_cpu_ms_median": round(statistics.median(busy), 2),
        "busy_pass_cpu_ms_mean": round(statistics.mean(busy), 2),
        "idle_pass_cpu_ms_median": round(statistics.median(idle), 2),
        "consumer_cpu_ms_per_s": round(statistics.mean(busy) / IN_SERVICE["interval_s"], 2),
        "report_handoffs": report.handoffs,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--steady", type=int, default=0, help="passes at the handoff benchmark's load")
    parser.add_argument("--profile", action="store_true", help="with --steady: cProfile the busy passes")
    args = parser.parse_args()
    result = asyncio.run(steady(args) if args.steady else run(args))
    print(json.dumps(result, indent=2))
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / ("insights_consume_steady.json" if args.steady else "insights_consume.json")).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
