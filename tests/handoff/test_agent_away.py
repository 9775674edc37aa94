"""An agent's browser that disconnects (issue 10, "what to build" 5): when their console is
gone longer than ``agent_away_s`` (here 0.5 s), the conversations assigned to them go back to
the front of their queues and each customer is told, through Rasa, like an agent's message.
Before, they stayed assigned to an agent who was not there, and the customer waited in silence."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.handoff import texts
from bot.handoff.app import SERVICE, STORE, create_app
from bot.vocabulary import Topic
from tests.handoff.conftest import Handoff, RasaStandIn, handoff_request, make_config, make_settings

AWAY_S = 0.5


@pytest.fixture
async def handoff(
    aiohttp_client: Any, tmp_path: Path, rasa: tuple[RasaStandIn, str], broker_url: str, profiles_db: Path
) -> Handoff:
    stand_in, url = rasa
    app: web.Application = create_app(make_settings(tmp_path, url, broker_url, profiles_db),
                                       make_config(agent_away_s=AWAY_S))
    return Handoff(await aiohttp_client(app), stand_in, app)


async def queue_of(handoff: Handoff, headers: dict[str, str]) -> list[dict[str, Any]]:
    return (await (await handoff.client.get("/api/queue", headers=headers)).json())["conversations"]


async def request(handoff: Handoff, headers: dict[str, str]) -> tuple[str, int]:
    sender = f"cust-{uuid.uuid4().hex[:8]}"
    await asyncio.to_thread(handoff.rasa.request_handoff, sender, handoff_request(uuid.uuid4().hex, sender, "orders"))
    found: list[int] = []

    async def listed() -> bool:
        found[:] = [c["id"] for c in await queue_of(handoff, headers) if c["sender_id"] == sender]
        return bool(found)

    await handoff.until(listed)
    return sender, found[0]


async def test_a_console_gone_too_long_puts_its_conversations_back_in_front(handoff: Handoff) -> None:
    alice = await handoff.login("alice")
    bob = await handoff.login("bob")
    first, first_id = await request(handoff, alice)
    mine, mine_id = await request(handoff, alice)
    ws = await handoff.client.ws_connect("/ws", params={"token": alice["Authorization"][7:]})
    await ws.receive_json(timeout=5)
    assert (await handoff.client.post(f"/api/conversations/{mine_id}/accept", headers=alice)).status == 200
    await ws.close()  # alice's browser goes away and does not come back

    async def back_in_queue() -> bool:
        convs = {c["id"]: c for c in await queue_of(handoff, bob)}
        told = [m["text"] for m in handoff.rasa.delivered.get(mine, [])]
        return convs.get(mine_id, {}).get("status") == "waiting" and "lost their connection" in told[-1]

    await handoff.until(back_in_queue, timeout=15)
    told = handoff.rasa.delivered[mine][-1]
    assert told["text"] == texts.agent_away("alice", Topic.ORDERS)
    assert "lost their connection" in told["text"] and "front of the queue" in told["text"]
    assert handoff.rasa.paused.get(mine) is True  # still with the contact centre, not the bot
    # at the front: the next agent to ask gets it before the one that waited longer
    claimed = await handoff.client.post("/api/queue/next", headers=bob)
    assert (await claimed.json())["conversation"]["id"] == mine_id
    detail = await (await handoff.client.get(f"/api/conversations/{mine_id}", headers=bob)).json()
    assert any("console disconnected" in n["text"] for n in detail["notes"])
    assert first_id != mine_id and first not in handoff.rasa.delivered  # the other customer heard nothing


async def test_a_console_that_comes_back_in_time_keeps_its_conversations(handoff: Handoff) -> None:
    alice = await handoff.login("alice")
    sender, conv_id = await request(handoff, alice)
    ws = await handoff.client.ws_connect("/ws", params={"token": alice["Authorization"][7:]})
    await ws.receive_json(timeout=5)
    assert (await handoff.client.post(f"/api/conversations/{conv_id}/accept", headers=alice)).status == 200
    await ws.close()
    again = await handoff.client.ws_connect("/ws", params={"token": alice["Authorization"][7:]})  # a reload
    await again.receive_json(timeout=5)
    await asyncio.sleep(AWAY_S * 4)
    convs = {c["id"]: c for c in await queue_of(handoff, alice)}
    assert convs[conv_id]["status"] == "assigned" and convs[conv_id]["agent"] == "alice"
    assert all("lost their connection" not in m["text"] for m in handoff.rasa.delivered.get(sender, []))
    await again.close()


async def test_logging_out_puts_the_conversations_back_at_once(handoff: Handoff) -> None:
    """Before, a logout left the agent's conversations assigned until the away timeout (and with
    no console open, for good). Now they go back to the front of the queue at once, each customer
    is told (``utter_handoff_agent_left``), and the next agent gets them first. (Alice has no
    console open here: no away timer would ever have moved them.)"""
    alice = await handoff.login("alice")
    bob = await handoff.login("bob")
    waiting_sender, waiting_id = await request(handoff, alice)
    mine, mine_id = await request(handoff, alice)
    assert (await handoff.client.post(f"/api/conversations/{mine_id}/accept", headers=alice)).status == 200
    out = await handoff.client.post("/api/logout", headers=alice)
    assert out.status == 200 and (await out.json())["requeued"] == [mine_id]
    convs = {c["id"]: c for c in await queue_of(handoff, bob)}
    assert convs[mine_id]["status"] == "waiting" and convs[mine_id]["agent"] is None  # no waiting for a timeout
    told = handoff.rasa.delivered[mine][-1]["text"]
    assert told == texts.agent_left("alice", Topic.ORDERS)
    assert "has had to leave" in told and "front of the queue" in told
    assert handoff.rasa.paused.get(mine) is True
    claimed = await handoff.client.post("/api/queue/next", headers=bob)
    assert (await claimed.json())["conversation"]["id"] == mine_id
    detail = await (await handoff.client.get(f"/api/conversations/{mine_id}", headers=bob)).json()
    assert any("alice: logged out" in n["text"] for n in detail["notes"])
    assert waiting_id != mine_id and waiting_sender not in handoff.rasa.delivered


async def test_a_console_open_on_another_handoff_service_keeps_its_conversations(handoff: Handoff) -> None:
    """Several handoff services: alice's console here closes, but she has one on another service,
    which refreshes her presence each heartbeat (done here as that service does it)."""
    alice = await handoff.login("alice")
    sender, conv_id = await request(handoff, alice)
    ws = await handoff.client.ws_connect("/ws", params={"token": alice["Authorization"][7:]})
    await ws.receive_json(timeout=5)
    assert (await handoff.client.post(f"/api/conversations/{conv_id}/accept", headers=alice)).status == 200
    store, service = handoff.app[STORE], handoff.app[SERVICE]
    await ws.close()

    async def marked_offline() -> bool:
        async with store.begin() as conn:
            return not await store.agent_online(conn, "alice", 60)

    await handoff.until(marked_offline)
    async with store.begin() as conn:  # the other service's heartbeat
        await store.agent_seen(conn, "alice", service.config.agents["alice"].skills, online=True)
    await asyncio.sleep(AWAY_S * 4)
    convs = {c["id"]: c for c in await queue_of(handoff, alice)}
    assert convs[conv_id]["status"] == "assigned" and convs[conv_id]["agent"] == "alice"
    assert all("lost their connection" not in m["text"] for m in handoff.rasa.delivered.get(sender, []))
