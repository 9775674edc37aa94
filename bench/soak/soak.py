"""Soak: many concurrent conversations for minutes, with handoffs and bad input mixed in.

Starts the whole stack as ``make run`` does (``bot.runner.Stack``, supervised, the embedded
SQLite set-up, its own var dir and ports), then runs ``--conversations`` customers at once over
the guarded REST channel for ``--minutes``. Each customer has one conversation after another
(a new sender id each time): a few questions with human think time (exponential, mean
``--think-s``), a share of bad input (empty, null, numeric, a 50,000-character message), and a
share of conversations that end by asking for a person, followed by one more message while the
bot is paused (answered by nobody until an agent comes: ``[]`` is expected there).

Measured and written to ``bench/out/soak.json`` (and printed):

- errors: a request that failed, a non-200, or no answer where one is due;
- lost messages: every message Rasa accepted (200, not refused by the guard) must be in the
  tracker store afterwards, in order, for its sender (must be 0);
- latency per minute (p50, p95, p99, max) and the number of turns;
- memory (RSS) of each process every 10 s: growth from the first to the last sample.

Bounded and self-stopping: a deadline, a 60 s timeout per request, in-flight turns given at
most 60 s after the deadline, then the stack is stopped.

Usage: .venv/bin/python bench/soak/soak.py [--conversations 200] [--minutes 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.runner import Stack, _prepare_demo_data  # noqa: E402
from bot.training import ensure_model  # noqa: E402
from tests.conftest import isolated_settings  # noqa: E402

QUESTIONS = [
    "hello", "where is my order", "what payment options can i use", "how long does delivery take",
    "how do I get a refund", "I need an invoice", "can I change my delivery address",
    "what is your returns policy", "thanks", "are you a bot",
]
BAD: list[Any] = ["", "   ", None, 12345, {"text": "hi"}, "a" * 50_000]
HANDOFF = "I want to talk to a human"


@dataclass
class Turn:
    t: float
    kind: str  # question | bad | handoff | paused
    sender: str
    text: Any
    status: int = 0
    replies: int = 0
    latency_ms: float = float("nan")
    error: str | None = None


@dataclass
class Results:
    turns: list[Turn] = field(default_factory=list)
    memory: list[dict[str, Any]] = field(default_factory=list)


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))]


async def send(http: aiohttp.ClientSession, url: str, turn: Turn, start: float) -> None:
    began = time.monotonic()
    try:
        async with http.post(url, json={"sender": turn.sender, "message": turn.text}) as response:
            turn.status = response.status
            body = await response.json()
            turn.replies = len(body) if isinstance(body, list) else 0
    except Exception as exc:  # noqa: BLE001 - every failure is a counted error
        turn.error = f"{type(exc).__name__}: {exc}"[:200]
    turn.latency_ms = (time.monotonic() - began) * 1000
    turn.t = began - start


async def customer(http: aiohttp.ClientSession, url: str, args: argparse.Namespace, deadline: float,
                   start: float, results: Results, rng: random.Random) -> None:
    await asyncio.sleep(rng.uniform(0, args.think_s))  # arrivals spread over the first think time
    while time.monotonic() < deadline:
        sender = f"soak-{uuid.uuid4().hex[:12]}"
        plan: list[tuple[str, Any]] = []
        for _ in range(rng.randint(2, 5)):
            plan.append(("bad", rng.choice(BAD)) if rng.random() < args.bad_share else ("question", rng.choice(QUESTIONS)))
        if rng.random() < args.handoff_share:
            plan += [("handoff", HANDOFF), ("paused", "are you still there?")]
        for kind, text in plan:
            if time.monotonic() >= deadline:
                return
            turn = Turn(0.0, kind, sender, text)
            results.turns.append(turn)
            await send(http, url, turn, start)
            await asyncio.sleep(min(rng.expovariate(1 / args.think_s), 4 * args.think_s))
            if turn.kind in ("question", "handoff") and turn.status == 200 and not turn.replies \
                    and await paused(http, args, sender):
                # the assistant had handed over on its own (an earlier turn): a person answers next
                turn.kind = "paused"
                break


async def paused(http: aiohttp.ClientSession, args: argparse.Namespace, sender: str) -> bool:
    """Is the conversation waiting for a person (so no answer from the bot is due)?"""
    try:
        async with http.get(f"{args.rasa_url}/conversations/{sender}/tracker",
                            params={"token": args.rasa_token, "include_events": "NONE"}) as response:
            return bool((await response.json()).get("paused"))
    except Exception:  # noqa: BLE001 - unknown: counted as an unanswered turn
        return False


def rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except FileNotFoundError:
        return None
    return None


def sample_memory(stack: Stack, results: Results, start: float, stop: threading.Event) -> None:
    while not stop.is_set():
        row: dict[str, Any] = {"t": round(time.monotonic() - start, 1)}
        for name, service in stack.services.items():
            row[name] = rss_kb(service.process.pid) if service.process else None
        results.memory.append(row)
        stop.wait(10)


def is_error(turn: Turn) -> bool:
    if turn.error or turn.status != 200:
        return True
    return turn.kind != "paused" and turn.replies == 0  # every turn but a paused one is answered


def lost_messages(var_dir: Path, turns: list[Turn]) -> int:
    """Messages Rasa accepted that are not in the tracker store, per sender, in order."""
    sent: dict[str, list[str]] = defaultdict(list)
    for turn in turns:
        if turn.kind != "bad" and turn.status == 200 and not turn.error:
            sent[turn.sender].append(turn.text)
    lost = 0
    with sqlite3.connect(var_dir / "tracker.db") as db:
        for sender, texts in sent.items():
            stored = [json.loads(row[0]).get("text") for row in db.execute(
                "select data from events where sender_id = ? and type_name = 'user' order by id", (sender,))]
            it = iter(stored)
            lost += sum(1 for text in texts if not any(text == s for s in it))
    return lost


def report(results: Results, var_dir: Path, args: argparse.Namespace, wall_s: float) -> dict[str, Any]:
    turns = [t for t in results.turns if t.status or t.error]
    minutes: dict[int, list[Turn]] = defaultdict(list)
    for turn in turns:
        minutes[int(turn.t // 60)].append(turn)
    per_minute = []
    for minute in sorted(minutes):
        lat = [t.latency_ms for t in minutes[minute] if not t.error]
        per_minute.append({"minute": minute, "turns": len(minutes[minute]),
                           "errors": sum(is_error(t) for t in minutes[minute]),
                           "p50_ms": round(pct(lat, 50)), "p95_ms": round(pct(lat, 95)),
                           "p99_ms": round(pct(lat, 99)), "max_ms": round(max(lat)) if lat else None})
    kinds = defaultdict(int)
    for turn in turns:
        kinds[turn.kind] += 1
    growth = {}
    if len(results.memory) >= 2:
        first, last = results.memory[0], results.memory[-1]
        for name in first:
            if name != "t" and first[name] and last.get(name):
                growth[name] = {"first_mb": round(first[name] / 1024), "last_mb": round(last[name] / 1024),
                                "max_mb": round(max(r[name] or 0 for r in results.memory) / 1024)}
    errors = [t for t in turns if is_error(t)]
    return {
        "args": {k: v for k, v in vars(args).items() if k != "rasa_token"}, "wall_s": round(wall_s), "turns": len(turns), "by_kind": dict(kinds),
        "conversations": len({t.sender for t in turns}),
        "errors": len(errors), "error_examples": [t.__dict__ for t in errors[:5]],
        "error_kinds": dict(Counter(
            (t.error or "").split(":")[0] or f"status {t.status}, {t.replies} replies" for t in errors)),
        "lost_messages": lost_messages(var_dir, turns),
        "latency_ms": {"p50": round(pct([t.latency_ms for t in turns], 50)),
                       "p99": round(pct([t.latency_ms for t in turns], 99))},
        "per_minute": per_minute, "memory": growth, "memory_samples": results.memory,
    }


async def soak(stack: Stack, args: argparse.Namespace) -> tuple[Results, float]:
    results = Results()
    url = f"{stack.settings.rasa_url}/webhooks/rest/webhook"
    args.rasa_url, args.rasa_token = stack.settings.rasa_url, stack.settings.rasa_token
    start = time.monotonic()
    deadline = start + args.minutes * 60
    stop = threading.Event()
    sampler = threading.Thread(target=sample_memory, args=(stack, results, start, stop), daemon=True)
    sampler.start()
    rng = random.Random(args.seed)
    connector = aiohttp.TCPConnector(limit=args.conversations)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as http:
        tasks = [asyncio.create_task(customer(http, url, args, deadline, start, results, random.Random(rng.random())))
                 for _ in range(args.conversations)]
        done, pending = await asyncio.wait(tasks, timeout=args.minutes * 60 + 60)
        for task in pending:  # bounded: whatever is still in flight is abandoned
            task.cancel()
    stop.set()
    sampler.join(timeout=15)
    return results, time.monotonic() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--think-s", type=float, default=8.0, help="mean pause between a customer's messages")
    parser.add_argument("--handoff-share", type=float, default=0.15, help="conversations that ask for a person")
    parser.add_argument("--bad-share", type=float, default=0.1, help="messages that are bad input")
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--model", help="model file (default: train or reuse the cached one)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "soak.json"))
    args = parser.parse_args()
    model = Path(args.model) if args.model else ensure_model()
    with tempfile.TemporaryDirectory(prefix="tandem-soak-") as tmp:
        settings = isolated_settings(Path(tmp))
        _prepare_demo_data(settings, quiet=True)
        stop = threading.Event()
        # a model load takes minutes on a shared machine: the soak measures what comes after
        stack = Stack(settings, model, extra_env={"TANDEM_VAR_DIR": tmp}).start(timeout_s=900)
        watcher = threading.Thread(target=stack.supervise, args=(stop,), daemon=True)
        watcher.start()
        try:
            results, wall_s = asyncio.run(soak(stack, args))
        finally:
            stop.set()
            watcher.join(timeout=5)
            stack.stop()
        summary = report(results, settings.var_dir, args, wall_s)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=1, default=str))
    printable = {k: v for k, v in summary.items() if k != "memory_samples"}
    print(json.dumps(printable, indent=1, default=str))
    return 0 if summary["errors"] == 0 and summary["lost_messages"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
