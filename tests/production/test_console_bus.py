"""Console updates shared between handoff services through the real Redis
(bot/handoff/console_bus.py): two hubs on one channel prefix, each with real console WebSockets
(aiohttp), as two handoff services would have. The whole services are in test_replicas.py."""

from __future__ import annotations

import asyncio
import json
from typing import Any, AsyncIterator

import pytest
from aiohttp import WSMsgType, web

from bot.handoff.config import AgentAccount
from bot.handoff.console_bus import Audience, RedisConsoleHub
from bot.handoff.models import Topic
from tests.production.conftest import REDIS

ORDERS, RETURNS = Topic("orders"), Topic("refunds_billing")
AGENTS = {
    "olga": AgentAccount("olga", "x", frozenset({ORDERS})),
    "rita": AgentAccount("rita", "x", frozenset({RETURNS})),
    "otto": AgentAccount("otto", "x", frozenset({ORDERS})),
}


def console_app(hub: RedisConsoleHub) -> web.Application:
    async def ws(request: web.Request) -> web.WebSocketResponse:
        sock = web.WebSocketResponse()
        await sock.prepare(request)
        hub.add(sock, AGENTS[request.query["agent"]])
        await sock.send_str("ready")
        async for _msg in sock:
            pass
        hub.remove(sock)
        return sock

    app = web.Application()
    app.router.add_get("/ws", ws)
    return app


@pytest.fixture
async def hubs(redis_prefix: str) -> AsyncIterator[tuple[RedisConsoleHub, RedisConsoleHub]]:
    url = f"{REDIS}?key_prefix={redis_prefix}"
    one, two = RedisConsoleHub(url), RedisConsoleHub(url)
    await one.start()
    await two.start()
    try:
        yield one, two
    finally:
        await one.stop()
        await two.stop()


class Console:
    def __init__(self, client: Any, agent: str) -> None:
        self.client, self.agent = client, agent
        self.heard: list[Any] = []
        self.closed = asyncio.Event()

    async def open(self) -> "Console":
        self.ws = await self.client.ws_connect("/ws", params={"agent": self.agent})
        assert (await self.ws.receive()).data == "ready"
        self.task = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type == WSMsgType.TEXT:
                self.heard.append(json.loads(msg.data))
        self.closed.set()


async def settle() -> None:
    await asyncio.sleep(0.3)


async def test_an_update_on_one_service_reaches_the_consoles_of_the_other_once(hubs: Any, aiohttp_client: Any) -> None:
    one, two = hubs
    c1, c2 = await aiohttp_client(console_app(one)), await aiohttp_client(console_app(two))
    olga = await Console(c1, "olga").open()  # on service one
    otto = await Console(c2, "otto").open()  # on service two
    rita = await Console(c2, "rita").open()  # on service two, serves another queue

    update = {"type": "conversation", "conversation": {"id": 7}}
    await one.publish(Audience(7, ORDERS, None), update)
    await settle()
    assert olga.heard == [update] and otto.heard == [update]
    assert rita.heard == []  # not hers to see, on either service

    # taken by otto on service two: olga (same queue, on service one) hears only that it left her list
    taken = {"type": "conversation", "conversation": {"id": 7, "agent": "otto"}}
    await two.publish(Audience(7, ORDERS, "otto"), taken, withdraw=True)
    await settle()
    assert olga.heard[-1] == {"type": "withdrawn", "conversation_id": 7}
    assert otto.heard == [update, taken] and rita.heard == []


async def test_a_logout_on_one_service_closes_the_consoles_on_the_other(hubs: Any, aiohttp_client: Any) -> None:
    one, two = hubs
    c2 = await aiohttp_client(console_app(two))
    otto = await Console(c2, "otto").open()
    olga = await Console(c2, "olga").open()
    await one.close_agent("otto")
    await asyncio.wait_for(otto.closed.wait(), 5)
    assert not olga.closed.is_set()


async def test_a_message_that_is_not_understood_is_ignored(hubs: Any, aiohttp_client: Any) -> None:
    one, two = hubs
    c2 = await aiohttp_client(console_app(two))
    otto = await Console(c2, "otto").open()
    await one._redis.publish(one.channel, b"\x80\x04not json")  # a pickle, say
    await one._redis.publish(one.channel, json.dumps({"kind": "publish", "origin": "elsewhere"}))
    update = {"type": "conversation", "conversation": {"id": 8}}
    await one.publish(Audience(8, ORDERS, None), update)
    await settle()
    assert otto.heard == [update]


async def test_after_a_redis_interruption_the_consoles_are_told_to_resync(hubs: Any, aiohttp_client: Any) -> None:
    """This service's subscription is cut (its own connection only, found by its name): what the
    others published meanwhile is lost to it, so once subscribed again its consoles hear
    ``resync`` and updates flow again."""
    one, two = hubs
    c2 = await aiohttp_client(console_app(two))
    otto = await Console(c2, "otto").open()
    name = f"tandem-console-{two.origin[:12]}"
    clients = await one._redis.client_list(_type="pubsub")
    ours = [c["id"] for c in clients if c.get("name") == name]
    assert ours, "the service's subscription is not named"
    for client_id in ours:
        await one._redis.client_kill_filter(_id=client_id)

    async def resynced() -> bool:
        return {"type": "resync"} in otto.heard

    deadline = asyncio.get_running_loop().time() + 10
    while not await resynced():
        assert asyncio.get_running_loop().time() < deadline, otto.heard
        await asyncio.sleep(0.05)
    update = {"type": "conversation", "conversation": {"id": 9}}
    await one.publish(Audience(9, ORDERS, None), update)
    await settle()
    assert otto.heard[-1] == update
