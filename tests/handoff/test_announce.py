"""``POST /api/intake``, the action's call that hands a request to the service (fast path, with
the answer for the customer), beside the broker event (durable path): signed, idempotent, and
never recording the bot's part of the conversation."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from pathlib import Path
import aiohttp
import sqlalchemy as sa

from bot.handoff.app import STORE
from bot.handoff.config import service_secret
from bot.handoff.intake import SIGNATURE_HEADER, IntakeAnswer, intake_body, sign, submit
from bot.handoff.models import HandoffRequest
from bot.handoff.store import QueueStore, conversations

from tests.handoff.conftest import Handoff, handoff_request

SECRET = b"k" * 32  # make_config's secret


def request_for(sender: str) -> HandoffRequest:
    return HandoffRequest.from_slot(handoff_request(uuid.uuid4().hex, sender), sender)


async def post(h: Handoff, body: bytes, signature: str | None) -> aiohttp.ClientResponse:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature
    return await h.client.post("/api/intake", data=body, headers=headers)


async def test_an_announced_request_reaches_the_console_before_the_broker_event(handoff: Handoff) -> None:
    headers = await handoff.login("alice")
    ws = await handoff.client.ws_connect("/ws", params={"token": headers["Authorization"][7:]})
    assert (await ws.receive_json(timeout=5))["type"] == "snapshot"
    sender = f"cust-{uuid.uuid4().hex[:8]}"
    req = request_for(sender)
    body = intake_body(req)

    resp = await post(handoff, body, sign(SECRET, body))
    assert resp.status == 200
    answer = IntakeAnswer.from_json(await resp.json())
    assert answer.created and answer.position == 1 and answer.open_now and answer.wait_s == 0  # alice is free
    update = await ws.receive_json(timeout=5)
    assert update["type"] == "conversation" and update["conversation"]["sender_id"] == sender
    cid = update["conversation"]["id"]

    # Rasa then saves the turn: the customer's request and the bot's answer come *before* the
    # slot event in the broker; they are the bot's part, not messages to the agent
    handoff.rasa.customer_says(sender, "/contact_human_agent")
    handoff.rasa.publish(sender, {"event": "bot", "text": "You're number 1 in the queue."})
    handoff.rasa.request_handoff(sender, req.to_slot())
    handoff.rasa.customer_says(sender, "hello? my parcel is late")
    await handoff.drain()

    update = await ws.receive_json(timeout=5)  # the next console update is the real message,
    assert update["type"] == "message"  # no second "new conversation" for the same request
    assert update["message"]["text"] == "hello? my parcel is late"
    async with handoff.app[STORE].begin() as conn:
        rows = (await conn.execute(sa.select(conversations).where(conversations.c.sender_id == sender))).all()
        texts = [m.text for m in await handoff.app[STORE].messages(conn, cid)]
    assert len(rows) == 1 and rows[0].request_event_id is not None and rows[0].unread == 1
    assert texts == ["hello? my parcel is late"]
    await ws.close()


async def test_the_intake_twice_or_after_the_broker_changes_nothing(handoff: Handoff) -> None:
    sender = f"cust-{uuid.uuid4().hex[:8]}"
    req = request_for(sender)
    handoff.rasa.request_handoff(sender, req.to_slot())
    await handoff.drain()
    body = intake_body(req)
    late = await post(handoff, body, sign(SECRET, body))
    assert late.status == 200 and (await late.json())["created"] is False
    # a second request from a customer already waiting is the broker's to record (timeline line)
    again = intake_body(request_for(sender))
    resp = await post(handoff, again, sign(SECRET, again))
    assert (await resp.json())["created"] is False
    async with handoff.app[STORE].begin() as conn:
        n = (await conn.execute(sa.select(sa.func.count()).select_from(conversations)
                                .where(conversations.c.sender_id == sender))).scalar_one()
    assert n == 1


async def test_unsigned_forged_or_malformed_requests_are_refused(handoff: Handoff) -> None:
    body = intake_body(request_for("someone"))
    assert (await post(handoff, body, None)).status == 401
    assert (await post(handoff, body, sign(b"wrong key", body))).status == 401
    tampered = body.replace(b"someone", b"somebody")
    assert (await post(handoff, tampered, sign(SECRET, body))).status == 401
    junk = b'{"sender_id": "x"}'
    resp = await post(handoff, junk, sign(SECRET, junk))
    assert resp.status == 400 and "malformed" in (await resp.json())["message"]
    not_json = b"not json"
    assert (await post(handoff, not_json, sign(SECRET, not_json))).status == 400


async def test_submit_never_raises_when_the_service_is_down() -> None:
    async with aiohttp.ClientSession() as session:
        answer = await submit(session, "http://127.0.0.1:9", SECRET, request_for("x"), timeout_s=0.5)
    assert answer is None


async def test_a_database_from_an_earlier_version_gets_the_new_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:  # the table as the previous release created it
        db.execute("CREATE TABLE handoff_conversations (id INTEGER PRIMARY KEY, handoff_id VARCHAR(64) NOT NULL "
                   "UNIQUE, sender_id VARCHAR(255) NOT NULL, topic VARCHAR(32) NOT NULL, reason TEXT NOT NULL, "
                   "status VARCHAR(16) NOT NULL, mode VARCHAR(16) NOT NULL, priority INTEGER NOT NULL, "
                   "sort_key FLOAT NOT NULL, created_at DATETIME NOT NULL, customer_id VARCHAR(255), "
                   "customer_name VARCHAR(255), segments TEXT NOT NULL, agent VARCHAR(64), assigned_at DATETIME, "
                   "closed_at DATETIME, disposition VARCHAR(32), last_customer_message_at DATETIME, "
                   "unread INTEGER NOT NULL, position_told INTEGER, position_told_at DATETIME, "
                   "alternatives_offered BOOLEAN NOT NULL)")
        db.execute("INSERT INTO handoff_conversations VALUES (1, 'h1', 's1', 'orders', 'r', 'assigned', 'chat', 0, "
                   "1.0, '2026-11-01 10:00:00', NULL, NULL, '[]', 'alice', NULL, NULL, NULL, NULL, 0, NULL, "
                   "NULL, 0)")
    store = QueueStore.from_url(f"sqlite+aiosqlite:///{path}")
    await store.create_schema()
    await store.create_schema()  # idempotent
    async with store.begin() as conn:
        view = await store.batch_view(conn, {"s1"})
    await store.dispose()
    assert view.active["s1"] is not None and view.active["s1"].request_event_id == 0  # keeps receiving messages
    assert view.active["s1"].channel is None and view.active["s1"].first_message is None


def test_processes_starting_together_share_one_generated_secret(tmp_path: Path) -> None:
    keys: list[bytes] = []
    threads = [threading.Thread(target=lambda: keys.append(service_secret({}, tmp_path))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(keys)) == 1 and len(keys[0]) == 32
    assert service_secret({"TANDEM_HANDOFF_SECRET": "from-env"}, tmp_path) == b"from-env"
