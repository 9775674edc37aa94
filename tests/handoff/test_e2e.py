"""End to end with real processes: Rasa server, action server, handoff service, SQLite.

A customer on the socket.io channel asks for a person, hears position and wait; an agent (the
service's HTTP + WebSocket API, as the console uses it) accepts; messages flow both ways; the
agent hands back and the bot answers again. Then the handoff service is killed mid-conversation
and restarted: nothing the customer wrote meanwhile is lost.

Turns that must trigger an intent use Rasa's ``/intent`` payloads (what the widget's buttons
send), so these tests exercise the handoff and not the NLU model's accuracy, which is measured
elsewhere; free text the customer writes while the bot is paused is plain text.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.handoff.live import AGENTS, ASK_FOR_AGENT, Customer

pytestmark = pytest.mark.slow

AGENT = ("alice", AGENTS["alice"])


class Agent:
    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http, self.base = http, base.rstrip("/")
        self.headers: dict[str, str] = {}
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None

    async def login(self) -> Agent:
        async with self.http.post(f"{self.base}/api/login", json={"name": AGENT[0], "password": AGENT[1]}) as r:
            assert r.status == 200, await r.text()
            token = (await r.json())["token"]
        self.headers = {"Authorization": f"Bearer {token}"}
        self.ws = await self.http.ws_connect(f"{self.base}/ws", params={"token": token}, heartbeat=10)
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            if msg.type == aiohttp.WSMsgType.TEXT and msg.data != "pong":
                await self.events.put(msg.json())

    async def wait_for(self, predicate: Any, timeout: float = 20) -> dict[str, Any]:
        async def wait() -> dict[str, Any]:
            while True:
                ev = await self.events.get()
                if predicate(ev):
                    return ev

        return await asyncio.wait_for(wait(), timeout)

    async def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        async with self.http.post(f"{self.base}{path}", json=body or {}, headers=self.headers) as r:
            assert r.status == 200, f"{path}: {r.status} {await r.text()}"
            return await r.json()

    async def get(self, path: str) -> dict[str, Any]:
        async with self.http.get(f"{self.base}{path}", headers=self.headers) as r:
            assert r.status == 200, f"{path}: {r.status} {await r.text()}"
            return await r.json()

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield session


def queued_for(session_id: str) -> Any:
    return lambda ev: ev.get("type") == "conversation" and ev["conversation"]["sender_id"] == session_id


async def test_customer_agent_and_bot_take_turns(stack: Any, http: aiohttp.ClientSession) -> None:
    settings = stack.settings
    agent = await Agent(http, settings.handoff_url).login()
    customer = await Customer(settings).connect()
    try:
        await customer.say(ASK_FOR_AGENT)
        told = await customer.expect("in the queue")
        assert "number 1 in the queue" in told["text"] and "estimated wait" in told["text"]

        queued = await agent.wait_for(queued_for(customer.session_id))
        conv = queued["conversation"]
        assert conv["status"] == "waiting" and conv["reason"]
        cid = conv["id"]

        await agent.post(f"/api/conversations/{cid}/accept")
        await customer.expect("this is Alice")

        await customer.say("my order 12345 never arrived")
        seen = await agent.wait_for(lambda ev: ev.get("type") == "message" and ev["conversation_id"] == cid
                                    and ev["message"]["kind"] == "customer")
        assert seen["message"]["text"] == "my order 12345 never arrived"
        assert await customer.silence(1.0) == []  # the bot stays quiet while paused

        await agent.post(f"/api/conversations/{cid}/reply", {"text": "I'm sorry! A new parcel leaves today."})
        await customer.expect("new parcel leaves today")

        detail = await agent.get(f"/api/conversations/{cid}")
        kinds = [line["kind"] for line in detail["transcript"]]
        assert detail["transcript_source"] == "rasa" and {"customer", "bot", "agent"} <= set(kinds)
        # the tracker keeps who wrote what (bot event metadata); socket.io shows only the text
        agent_lines = [line for line in detail["transcript"] if line["kind"] == "agent"]
        assert {line["author"] for line in agent_lines} == {"alice"}
        assert agent_lines[-1]["text"] == "I'm sorry! A new parcel leaves today."
        assert detail["profile"]["status"] in {"not_identified", "ok", "unavailable"}

        await agent.post(f"/api/conversations/{cid}/handback")
        await customer.expect("passed you back to the virtual assistant")
        await customer.say("/greet")
        answer = await customer.expect("virtual assistant", timeout=30)
        assert "I can help with" in answer["text"]
    finally:
        await customer.disconnect()
        await agent.close()


async def test_nothing_is_lost_while_the_handoff_service_is_down(stack: Any, http: aiohttp.ClientSession) -> None:
    settings = stack.settings
    agent = await Agent(http, settings.handoff_url).login()
    talking = await Customer(settings).connect()
    try:
        await talking.say(ASK_FOR_AGENT)
        cid = (await agent.wait_for(queued_for(talking.session_id)))["conversation"]["id"]
        await agent.post(f"/api/conversations/{cid}/accept")
        await talking.expect("Alice")
        await agent.close()

        stack.services["handoff"].kill()  # crash mid-conversation
        await talking.say("are you still there?")
        await talking.say("my order number is 98765")
        newcomer = await Customer(settings).connect()
        await newcomer.say(ASK_FOR_AGENT)
        await newcomer.expect("")  # the action still answers (estimate or honest fallback)
        await asyncio.sleep(0.5)

        await asyncio.get_running_loop().run_in_executor(None, stack.restart, "handoff")
        agent = await Agent(http, settings.handoff_url).login()

        async def caught_up() -> None:
            while True:
                queue = (await agent.get("/api/queue"))["conversations"]
                mine = [c for c in queue if c["id"] == cid]
                if mine and mine[0]["unread"] >= 2 and any(c["sender_id"] == newcomer.session_id for c in queue):
                    return
                await asyncio.sleep(0.2)

        await asyncio.wait_for(caught_up(), 20)
        db = settings.handoff_db_url.split("///", 1)[1]
        with sqlite3.connect(db) as conn:
            texts = [r[0] for r in conn.execute(
                "SELECT text FROM handoff_messages WHERE conversation_id = ? AND kind = 'customer' ORDER BY id",
                (cid,))]
        assert texts == ["are you still there?", "my order number is 98765"]
        await agent.post(f"/api/conversations/{cid}/close", {"disposition": "resolved"})
        # leave nothing waiting for the other tests on this stack (test_console_browser.py)
        queue = (await agent.get("/api/queue"))["conversations"]
        waiting = next(c["id"] for c in queue if c["sender_id"] == newcomer.session_id)
        await agent.post(f"/api/conversations/{waiting}/accept")
        await agent.post(f"/api/conversations/{waiting}/close", {"disposition": "no_response"})
        await newcomer.disconnect()
    finally:
        await talking.disconnect()
        await agent.close()
