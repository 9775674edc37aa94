"""The handoff service's own latency with N concurrent conversations (no NLU, no model).

Real: the handoff service (aiohttp, SQLite queue), Rasa's SQLEventBroker writing the ``events``
table, the console WebSocket. Rasa's HTTP API is the stand-in from tests/handoff/conftest.py,
which publishes appended events through the same broker and records delivery. This isolates
what the handoff adds; bench_latency.py measures the whole path through the real Rasa server.

1. request → console: broker publish of the handoff_request slot event → console WebSocket.
2. customer message → console: broker publish of a user event → console WebSocket.
3. agent reply → channel: POST /reply → the stand-in has the bot event (what Rasa then emits).

Usage: .venv/bin/python bench/handoff/bench_service.py [--customers 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_latency import summary  # noqa: E402
from bot.handoff.app import create_app  # noqa: E402
from tests.handoff.conftest import RasaStandIn, handoff_request, make_config, make_settings  # noqa: E402


class ThreadedStandIn(RasaStandIn):
    """Publishes from a worker thread: the real Rasa is another process, so its synchronous
    broker writes must not stall the handoff service's event loop in this benchmark."""

    async def append_events(self, request: web.Request) -> web.Response:
        sender = request.match_info["sender"]
        events = await request.json()
        loop = asyncio.get_running_loop()
        for ev in events:
            await loop.run_in_executor(None, self.publish, sender, ev)
            if ev["event"] == "bot":
                self.delivered.setdefault(sender, []).append(ev)
        return web.json_response({"sender_id": sender})


async def run(customers: int, tmp: Path) -> dict[str, Any]:
    from rasa.core.brokers.sql import SQLEventBroker

    broker_url = f"sqlite:///{tmp / 'events.db'}"
    broker = SQLEventBroker(host=broker_url)
    stand_in = ThreadedStandIn(broker)
    rasa_runner = web.AppRunner(stand_in.app())
    await rasa_runner.setup()
    rasa_site = web.TCPSite(rasa_runner, "127.0.0.1", 0)
    await rasa_site.start()
    rasa_url = f"http://127.0.0.1:{rasa_runner.addresses[0][1]}"
    app = create_app(make_settings(tmp, rasa_url, broker_url),
                     make_config(poll_interval_s=float(os.environ.get("TANDEM_HANDOFF_POLL_S", "0.05")),
                                 position_update_s=3600.0))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    results: dict[str, Any] = {"customers": customers}
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        async with http.post(f"{base}/api/login", json={"name": "alice", "password": "pw-a"}) as r:
            token = (await r.json())["token"]
        headers = {"Authorization": f"Bearer {token}"}
        ws = await http.ws_connect(f"{base}/ws", params={"token": token})
        await ws.receive_json()
        queued: dict[str, float] = {}
        conv_of: dict[str, int] = {}
        messages: dict[str, float] = {}

        async def read() -> None:
            async for msg in ws:
                ev = msg.json()
                now = time.perf_counter()
                if ev["type"] == "conversation" and ev["conversation"]["sender_id"] not in queued:
                    queued[ev["conversation"]["sender_id"]] = now
                    conv_of[ev["conversation"]["sender_id"]] = ev["conversation"]["id"]
                elif ev["type"] == "message" and ev["message"]["kind"] == "customer":
                    messages[ev["message"]["text"]] = now

        reader = asyncio.create_task(read())
        senders = [f"bench-{uuid.uuid4().hex[:8]}" for _ in range(customers)]
        published: dict[str, float] = {}
        # Rasa's broker publishes synchronously; run it in a thread like Rasa's loop would block
        for s in senders:
            published[s] = time.perf_counter()
            await loop.run_in_executor(None, stand_in.publish, s,
                                       {"event": "slot", "name": "handoff_request",
                                        "value": handoff_request(uuid.uuid4().hex, s)})
        while len(queued) < customers:
            await asyncio.sleep(0.01)
        results["request_to_console"] = summary([(queued[s] - published[s]) * 1000 for s in senders])

        for s in senders:
            async with http.post(f"{base}/api/conversations/{conv_of[s]}/accept", headers=headers) as r:
                assert r.status == 200
        sent: dict[str, float] = {}
        for i, s in enumerate(senders):
            text = f"message {i} from {s}"
            sent[text] = time.perf_counter()
            await loop.run_in_executor(None, stand_in.customer_says, s, text)
        while len(messages) < customers:
            await asyncio.sleep(0.01)
        results["customer_message_to_console"] = summary([(messages[t] - sent[t]) * 1000 for t in sent])

        async def reply(s: str) -> float:
            t0 = time.perf_counter()
            async with http.post(f"{base}/api/conversations/{conv_of[s]}/reply", headers=headers,
                                 json={"text": "on it"}) as r:
                assert r.status == 200
            assert stand_in.delivered[s][-1]["text"] == "on it"
            return (time.perf_counter() - t0) * 1000

        results["reply_to_channel_burst"] = summary(list(await asyncio.gather(*(reply(s) for s in senders))))
        results["reply_to_channel_steady"] = summary([await reply(s) for s in senders])
        await ws.close()
        reader.cancel()
    await runner.cleanup()
    await rasa_runner.cleanup()
    broker.engine.dispose()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "handoff_service.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tandem-bench-") as tmp:
        results = asyncio.run(run(args.customers, Path(tmp)))
    results["machine"] = {"cpus": os.cpu_count(), "load_avg_1m": os.getloadavg()[0]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
