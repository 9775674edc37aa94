"""The handoff service through its HTTP and WebSocket API (aiohttp test client, real SQLite)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

from bot.handoff.app import STORE, create_app

from tests.handoff.conftest import Handoff, demo_customer_id, handoff_request, make_config, make_settings


def sender() -> str:
    return f"cust-{uuid.uuid4().hex[:8]}"


async def queued(h: Handoff, headers: dict[str, str], sender_id: str) -> dict[str, Any]:
    found: dict[str, Any] = {}

    async def check() -> bool:
        resp = await h.client.get("/api/queue", headers=headers)
        for conv in (await resp.json())["conversations"]:
            if conv["sender_id"] == sender_id:
                found.update(conv)
                return True
        return False

    await h.until(check)
    return found


async def test_health_and_console_page_need_no_login(handoff: Handoff) -> None:
    resp = await handoff.client.get("/health")
    assert resp.status == 200 and (await resp.json())["status"] == "ok"
    page = await handoff.client.get("/console")
    assert page.status == 200 and "agent console" in await page.text()
    js = await handoff.client.get("/static/console.js")
    assert js.status == 200


async def test_api_refuses_anonymous_and_wrong_passwords(handoff: Handoff) -> None:
    assert (await handoff.client.get("/api/queue")).status == 401
    bad = await handoff.client.post("/api/login", json={"name": "alice", "password": "nope"})
    assert bad.status == 401 and "wrong password" in (await bad.json())["message"]
    forged = await handoff.client.get("/api/queue", headers={"Authorization": "Bearer bm9wZTox"})
    assert forged.status == 401
    assert (await handoff.client.get("/ws")).status == 401


async def test_malformed_input_gets_a_clear_error(handoff: Handoff) -> None:
    headers = await handoff.login("alice")
    resp = await handoff.client.post("/api/login", data=b"not json", headers={"Content-Type": "application/json"})
    assert resp.status == 400
    missing = await handoff.client.post("/api/conversations/999/accept", headers=headers)
    assert missing.status == 404
    big = await handoff.client.post("/api/conversations/1/note", headers=headers, data=b"x" * 200_000)
    assert big.status == 413


async def test_request_from_the_broker_appears_live_on_the_console(handoff: Handoff) -> None:
    headers = await handoff.login("alice")
    ws = await handoff.client.ws_connect("/ws", params={"token": headers["Authorization"][7:]})
    snapshot = await ws.receive_json(timeout=5)
    assert snapshot["type"] == "snapshot" and snapshot["conversations"] == []
    s = sender()
    handoff.rasa.request_handoff(s, handoff_request(uuid.uuid4().hex, s, customer_id=None))
    update = await ws.receive_json(timeout=5)
    assert update["type"] == "conversation"
    conv = update["conversation"]
    assert conv["sender_id"] == s and conv["status"] == "waiting" and conv["topic"] == "orders"
    assert conv["reason"].startswith("explicit_request:")
    await ws.close()


async def test_full_conversation_accept_reply_note_handback(handoff: Handoff) -> None:
    alice = await handoff.login("alice")
    s = sender()
    handoff.rasa.request_handoff(s, handoff_request(uuid.uuid4().hex, s))
    conv = await queued(handoff, alice, s)
    cid = conv["id"]

    accepted = await handoff.client.post(f"/api/conversations/{cid}/accept", headers=alice)
    assert accepted.status == 200
    greeting = handoff.rasa.delivered[s][-1]
    assert "Alice" in greeting["text"] and greeting["metadata"]["agent"] == "alice"

    handoff.rasa.customer_says(s, "my parcel never arrived")
    reply = await handoff.client.post(f"/api/conversations/{cid}/reply", headers=alice,
                                      json={"text": "Sorry! I'm sending a new one today."})
    assert reply.status == 200
    assert handoff.rasa.delivered[s][-1] == {
        "event": "bot", "text": "Sorry! I'm sending a new one today.", "metadata": {"agent": "alice", "handoff": True}
    }
    note = await handoff.client.post(f"/api/conversations/{cid}/note", headers=alice, json={"text": "courier lost it"})
    assert note.status == 200

    async def transcript_complete() -> bool:
        d = await (await handoff.client.get(f"/api/conversations/{cid}", headers=alice)).json()
        texts = [(line["kind"], line["text"]) for line in d["transcript"]]
        return ("customer", "my parcel never arrived") in texts and (
            "agent", "Sorry! I'm sending a new one today.") in texts

    await handoff.until(transcript_complete)
    detail = await (await handoff.client.get(f"/api/conversations/{cid}", headers=alice)).json()
    assert detail["transcript_source"] == "rasa"
    assert detail["profile"]["status"] == "not_identified"
    assert any(n["kind"] == "note" and n["text"] == "courier lost it" for n in detail["notes"])
    # local record (fallback transcript) holds the customer's message too, once the
    # broker consumer has caught up (the transcript above comes from Rasa directly)
    async def local_record_complete() -> bool:
        async with handoff.app[STORE].begin() as conn:
            kinds = {m.kind.value for m in await handoff.app[STORE].messages(conn, cid)}
        return {"customer", "agent", "note"} <= kinds

    await handoff.until(local_record_complete)

    back = await handoff.client.post(f"/api/conversations/{cid}/handback", headers=alice)
    assert back.status == 200 and (await back.json())["conversation"]["status"] == "handed_back"
    events = handoff.rasa.trackers[s]
    assert events[-2]["event"] == "bot" and "virtual assistant" in events[-2]["text"]
    # the bot listens again, so the customer's next message is answered by the rules
    assert (events[-1]["event"], events[-1]["name"]) == ("action", "action_listen")
    assert {"event": "slot", "name": "handoff_request", "value": None}.items() <= events[-3].items() or any(
        e["event"] == "slot" and e["name"] == "handoff_request" and e["value"] is None for e in events)
    assert handoff.rasa.paused[s] is False
    # it is no longer in the queue
    remaining = await (await handoff.client.get("/api/queue", headers=alice)).json()
    assert all(c["id"] != cid for c in remaining["conversations"])


async def test_two_agents_never_own_one_conversation(handoff: Handoff) -> None:
    alice, bob = await handoff.login("alice"), await handoff.login("bob")
    s = sender()
    handoff.rasa.request_handoff(s, handoff_request(uuid.uuid4().hex, s))
    cid = (await queued(handoff, alice, s))["id"]
    a, b = await asyncio.gather(
        handoff.client.post(f"/api/conversations/{cid}/accept", headers=alice),
        handoff.client.post(f"/api/conversations/{cid}/accept", headers=bob),
    )
    assert sorted([a.status, b.status]) == [200, 409]
    loser = bob if a.status == 200 else alice
    denied = await handoff.client.post(f"/api/conversations/{cid}/reply", headers=loser, json={"text": "hi"})
    assert denied.status == 403


async def test_routing_by_skill_and_transfer(handoff: Handoff) -> None:
    bob = await handoff.login("bob")  # orders only
    carol = await handoff.login("carol")  # complaints + account
    s = sender()
    handoff.rasa.request_handoff(s, handoff_request(uuid.uuid4().hex, s, topic="complaints"))
    cid = (await queued(handoff, carol, s))["id"]
    bob_queue = await (await handoff.client.get("/api/queue", headers=bob)).json()
    assert all(c["id"] != cid for c in bob_queue["conversations"])
    assert (await handoff.client.post(f"/api/conversations/{cid}/accept", headers=bob)).status == 409
    assert (await handoff.client.get(f"/api/conversations/{cid}", headers=bob)).status == 403
    assert (await handoff.client.post("/api/queue/next", headers=bob)).status == 204

    took = await handoff.client.post("/api/queue/next", headers=carol)
    assert (await took.json())["conversation"]["id"] == cid
    bad = await handoff.client.post(f"/api/conversations/{cid}/transfer", headers=carol, json={"topic": "nowhere"})
    assert bad.status == 400
    moved = await handoff.client.post(f"/api/conversations/{cid}/transfer", headers=carol, json={"topic": "orders"})
    assert (await moved.json())["conversation"]["status"] == "waiting"
    assert "orders and deliveries" in handoff.rasa.delivered[s][-1]["text"]
    assert (await handoff.client.post(f"/api/conversations/{cid}/accept", headers=bob)).status == 200
    closed = await handoff.client.post(f"/api/conversations/{cid}/close", headers=bob, json={"disposition": "resolved"})
    body = await closed.json()
    assert body["conversation"]["status"] == "closed" and body["conversation"]["disposition"] == "resolved"
    assert handoff.rasa.paused[s] is False


async def test_priority_from_the_profile_goes_first(handoff: Handoff, profiles_db: Path) -> None:
    """The service reads the segments from the profile (Chloe Martin is a high-value customer);
    segments written into the slot count for nothing."""
    alice = await handoff.login("alice")
    first, vip = sender(), sender()
    chloe = await demo_customer_id(profiles_db, "chloe.martin@example.com")
    handoff.rasa.request_handoff(first, handoff_request(uuid.uuid4().hex, first, segments=["vip"]))
    handoff.rasa.request_handoff(vip, handoff_request(uuid.uuid4().hex, vip, customer_id=chloe))
    await queued(handoff, alice, vip)
    took = await (await handoff.client.post("/api/queue/next", headers=alice)).json()
    assert took["conversation"]["sender_id"] == vip and took["conversation"]["priority"] == 2
    assert took["conversation"]["customer_name"] == "Chloe Martin"


async def test_rasa_failure_is_shown_to_the_agent_and_changes_nothing(handoff: Handoff) -> None:
    alice = await handoff.login("alice")
    s = sender()
    handoff.rasa.request_handoff(s, handoff_request(uuid.uuid4().hex, s))
    cid = (await queued(handoff, alice, s))["id"]
    await handoff.client.post(f"/api/conversations/{cid}/accept", headers=alice)
    handoff.rasa.fail_next = 1  # one outage: the retry delivers
    ok = await handoff.client.post(f"/api/conversations/{cid}/reply", headers=alice, json={"text": "retried"})
    assert ok.status == 200 and handoff.rasa.delivered[s][-1]["text"] == "retried"
    handoff.rasa.fail_next = 5  # longer than the retries
    failed = await handoff.client.post(f"/api/conversations/{cid}/handback", headers=alice)
    assert failed.status == 502
    assert "503" in (await failed.json())["message"]
    detail = await (await handoff.client.get(f"/api/conversations/{cid}", headers=alice)).json()
    assert detail["conversation"]["status"] == "assigned"  # still the agent's; nothing half-done
    handoff.rasa.fail_next = 0
    detail = await (await handoff.client.get(f"/api/conversations/{cid}", headers=alice)).json()
    assert detail["transcript_source"] == "rasa"


async def test_no_agent_path_customer_chooses_a_callback(handoff: Handoff) -> None:
    alice = await handoff.login("alice")
    s = sender()
    handoff.rasa.request_handoff(s, handoff_request(uuid.uuid4().hex, s, eta_told_s=None, customer_id="C-1"))
    cid = (await queued(handoff, alice, s))["id"]
    handoff.rasa.customer_says(s, "Call me back")

    async def callback() -> bool:
        d = await (await handoff.client.get(f"/api/conversations/{cid}", headers=alice)).json()
        return d["conversation"]["mode"] == "callback" and handoff.rasa.paused.get(s) is False

    await handoff.until(callback)
    assert "call you back on the phone number on your account" in handoff.rasa.delivered[s][-1]["text"]
    # still waiting for an agent, who accepts and closes it without writing to the chat
    assert (await handoff.client.post(f"/api/conversations/{cid}/accept", headers=alice)).status == 200
    done = await handoff.client.post(f"/api/conversations/{cid}/close", headers=alice,
                                     json={"disposition": "callback_done"})
    assert done.status == 200
    assert "Alice" not in handoff.rasa.delivered[s][-1]["text"]


async def test_waiting_customers_hear_when_they_move_up(handoff: Handoff) -> None:
    alice = await handoff.login("alice")
    ws = await handoff.client.ws_connect("/ws", params={"token": alice["Authorization"][7:]})  # alice is online
    await ws.receive_json(timeout=5)
    a, b = sender(), sender()
    handoff.rasa.request_handoff(a, handoff_request(uuid.uuid4().hex, a, position_told=1))
    handoff.rasa.request_handoff(b, handoff_request(uuid.uuid4().hex, b, position_told=2))
    await queued(handoff, alice, b)
    await handoff.client.post("/api/queue/next", headers=alice)  # takes a

    async def updated() -> bool:
        return any("now number 1" in m["text"] for m in handoff.rasa.delivered.get(b, []))

    await handoff.until(updated)
    await ws.close()


async def test_customer_messages_sent_while_the_service_was_down_are_not_lost(
    aiohttp_client: Any, tmp_path: Any, rasa: Any, broker_url: str
) -> None:
    stand_in, url = rasa
    settings = make_settings(tmp_path, url, broker_url)
    s = sender()
    stand_in.request_handoff(s, handoff_request(uuid.uuid4().hex, s))
    first = await aiohttp_client(create_app(settings, make_config()))
    h = Handoff(first, stand_in, first.app)
    alice = await h.login("alice")
    cid = (await queued(h, alice, s))["id"]
    await first.close()  # the service stops

    stand_in.customer_says(s, "are you still there?")
    stand_in.customer_says(s, "order 12345")

    second = await aiohttp_client(create_app(settings, make_config()))
    h2 = Handoff(second, stand_in, second.app)
    alice = await h2.login("alice")

    async def caught_up() -> bool:
        async with h2.app[STORE].begin() as conn:
            texts = [m.text for m in await h2.app[STORE].messages(conn, cid) if m.kind.value == "customer"]
        return texts == ["are you still there?", "order 12345"]

    await h2.until(caught_up)
    conv = await queued(h2, alice, s)
    assert conv["id"] == cid and conv["unread"] == 2  # one queue entry, each message once
