"""Handoff latency under N concurrent conversations, with the real processes.

Starts the action server, the Rasa server and the handoff service (bot.runner.Stack, SQLite,
own var dir and ports), logs an agent in on the console WebSocket, connects N socket.io
customers and measures:

1. request → console: from the customer's "I want to talk to a human agent" (socket.io emit)
   to the conversation appearing on the agent's console WebSocket. Split into the Rasa part
   (emit → Rasa records the handoff_request slot event) and the handoff part (that event's
   timestamp → console), read from the broker table.
2. agent reply → customer: from the agent's POST /reply to the text arriving on the customer's
   socket, for all N conversations at once (burst) and one after another (steady).

Usage: .venv/bin/python bench/handoff/bench_latency.py [--customers 100] [--out bench/out/handoff.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import socketio

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.runner import Stack  # noqa: E402
from bot.training import ensure_model  # noqa: E402
from tests.conftest import isolated_settings  # noqa: E402

AGENT = ("bench", "bench-pw")
#: the widget's "talk to a person" button payload; TANDEM_BENCH_TEXT=1 sends free text through the NLU
ASK = "I want to talk to a human agent" if os.environ.get("TANDEM_BENCH_TEXT") else "/contact_human_agent"


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def summary(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "p50_ms": round(pct(values, 50), 1), "p99_ms": round(pct(values, 99), 1),
            "max_ms": round(max(values), 1) if values else float("nan"),
            "mean_ms": round(statistics.fmean(values), 1) if values else float("nan")}


class Customer:
    def __init__(self, url: str) -> None:
        self.url = url
        self.sid = f"bench-{uuid.uuid4().hex[:10]}"
        self.client = socketio.AsyncClient(reconnection=False)
        self.confirmed = asyncio.Event()
        self.waiters: list[tuple[str, asyncio.Future[float]]] = []
        self.client.on("session_confirm", self._confirm)
        self.client.on("bot_uttered", self._bot)

    async def _confirm(self, *_: Any) -> None:
        self.confirmed.set()

    async def _bot(self, data: dict[str, Any]) -> None:
        now = time.perf_counter()
        text = data.get("text") or ""
        for fragment, fut in list(self.waiters):
            if fragment in text and not fut.done():
                fut.set_result(now)
                self.waiters.remove((fragment, fut))

    def expect(self, fragment: str) -> asyncio.Future[float]:
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiters.append((fragment, fut))
        return fut

    async def connect(self) -> None:
        await self.client.connect(self.url, socketio_path="/socket.io", transports=["websocket"])
        await self.client.emit("session_request", {"session_id": self.sid})
        await asyncio.wait_for(self.confirmed.wait(), 30)

    async def say(self, text: str) -> float:
        t = time.perf_counter()
        await self.client.emit("user_uttered", {"message": text, "session_id": self.sid})
        return t


async def run(customers: int, settings: Any) -> dict[str, Any]:
    results: dict[str, Any] = {"customers": customers}
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        base = settings.handoff_url.rstrip("/")
        async with http.post(f"{base}/api/login", json={"name": AGENT[0], "password": AGENT[1]}) as r:
            token = (await r.json())["token"]
        headers = {"Authorization": f"Bearer {token}"}
        ws = await http.ws_connect(f"{base}/ws", params={"token": token}, heartbeat=15)
        seen: dict[str, float] = {}
        seen_wall: dict[str, float] = {}
        conv_ids: dict[str, int] = {}

        async def read() -> None:
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT or msg.data == "pong":
                    continue
                ev = msg.json()
                if ev.get("type") == "conversation" and ev["conversation"]["status"] == "waiting":
                    sid = ev["conversation"]["sender_id"]
                    if sid not in seen:
                        seen[sid] = time.perf_counter()
                        seen_wall[sid] = time.time()
                        conv_ids[sid] = ev["conversation"]["id"]

        reader = asyncio.create_task(read())
        crowd = [Customer(settings.rasa_url) for _ in range(customers)]
        await asyncio.gather(*(c.connect() for c in crowd))
        # everyone asks at once
        told = [c.expect("in the queue") for c in crowd]
        sent = await asyncio.gather(*(c.say(ASK) for c in crowd))
        sent_at = {c.sid: t for c, t in zip(crowd, sent)}
        await asyncio.wait_for(asyncio.gather(*told), 300)
        deadline = time.perf_counter() + 60
        while len(seen) < customers and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        request_to_console = [(seen[c.sid] - sent_at[c.sid]) * 1000 for c in crowd if c.sid in seen]
        results["request_to_console_burst"] = summary(request_to_console)
        results["request_to_customer_told_burst"] = summary(
            [(f.result() - sent_at[c.sid]) * 1000 for c, f in zip(crowd, told)])
        # the handoff part: broker event timestamp (Rasa wrote the request) -> console
        db = settings.event_broker_db_url.split("///", 1)[1]
        with sqlite3.connect(db) as conn:
            stamps = {}
            for sender, data in conn.execute("SELECT sender_id, data FROM events WHERE data LIKE '%handoff_request%'"):
                ev = json.loads(data)
                if ev.get("event") == "slot" and ev.get("value"):
                    stamps[sender] = ev["timestamp"]
        results["broker_event_to_console_burst"] = summary(
            [(seen_wall[s] - stamps[s]) * 1000 for s in seen_wall if s in stamps])

        # steady arrivals: one new request every 50 ms on top of the open conversations
        late = [Customer(settings.rasa_url) for _ in range(20)]
        await asyncio.gather(*(c.connect() for c in late))
        steady_sent = {}
        for c in late:
            steady_sent[c.sid] = await c.say(ASK)
            await asyncio.sleep(0.05)
        deadline = time.perf_counter() + 60
        while any(c.sid not in seen for c in late) and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        results["request_to_console_steady"] = summary(
            [(seen[c.sid] - steady_sent[c.sid]) * 1000 for c in late if c.sid in seen])
        crowd += late

        # the agent accepts all (so replies are allowed), then replies
        for c in crowd:
            async with http.post(f"{base}/api/conversations/{conv_ids[c.sid]}/accept", headers=headers) as r:
                assert r.status == 200, await r.text()
        await asyncio.sleep(1.0)

        async def reply(c: Customer, text: str) -> float:
            fut = c.expect(text)
            t0 = time.perf_counter()
            async with http.post(f"{base}/api/conversations/{conv_ids[c.sid]}/reply", headers=headers,
                                 json={"text": text}) as r:
                assert r.status == 200, await r.text()
            return (await asyncio.wait_for(fut, 60) - t0) * 1000

        active = crowd[:customers]
        results["reply_to_customer_burst"] = summary(
            list(await asyncio.gather(*(reply(c, f"burst reply {uuid.uuid4().hex[:6]}") for c in active))))
        steady = []
        for c in active:
            steady.append(await reply(c, f"steady reply {uuid.uuid4().hex[:6]}"))
        results["reply_to_customer_steady"] = summary(steady)

        for c in crowd:
            await c.client.disconnect()
        await ws.close()
        reader.cancel()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "handoff_latency.json")
    args = parser.parse_args()
    given = os.environ.get("TANDEM_MODEL")
    model = Path(given) if given else ensure_model()
    with tempfile.TemporaryDirectory(prefix="tandem-bench-") as tmp:
        settings = isolated_settings(Path(tmp))
        extra = {"TANDEM_VAR_DIR": tmp, "TANDEM_AGENTS": f"{AGENT[0]}:{AGENT[1]}",
                 "TANDEM_HANDOFF_POLL_S": "0.05", "TANDEM_HANDOFF_POSITION_UPDATE_S": "3600"}
        with Stack(settings, model, extra_env=extra):
            results = asyncio.run(run(args.customers, settings))
    results["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
