"""``action_handoff`` with rasa-sdk's real dispatcher and tracker and a real SQLite queue."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandoff
from bot.handoff.config import BusinessHours
from bot.handoff.intake import plan_handoff
from bot.handoff.models import HandoffRequest, Topic
from bot.handoff.store import QueueStore


def tracker(slots: dict[str, Any], intent: str = "contact_human_agent") -> Tracker:
    events = [{"event": "user", "text": "where is my parcel", "parse_data": {"intent": {"name": "track_order"}}},
              {"event": "user", "text": "agent please", "parse_data": {"intent": {"name": intent}}}]
    return Tracker("cust-1", slots, {"intent": {"name": intent}}, events, False, None, {}, "action_listen")


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'handoff.db'}"
    monkeypatch.setenv("TANDEM_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("TANDEM_HANDOFF_DB_URL", url)
    monkeypatch.setenv("RASA_TOKEN", "t")
    monkeypatch.delenv("TANDEM_BUSINESS_HOURS", raising=False)
    return url


async def agent_online(url: str, topics: frozenset[Topic] = frozenset(Topic), busy: int = 0) -> QueueStore:
    store = QueueStore.from_url(url)
    await store.create_schema()
    async with store.begin() as conn:
        await store.agent_seen(conn, "alice", topics)
    return store


async def test_tells_position_and_wait_stores_the_request_and_pauses(env: str) -> None:
    store = await agent_online(env)
    async with store.begin() as conn:  # someone is already waiting for orders
        await store.enqueue(conn, HandoffRequest("earlier", "other", Topic.ORDERS, "r", time.time() - 30))
    action = ActionHandoff()
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker({"escalation_reason": None, "escalation_topic": None}), {})
    await action.close()
    text = dispatcher.messages[0]["text"]
    assert "orders and deliveries team" in text and "number 2 in the queue" in text
    assert "estimated wait is about 3 minutes" in text  # one agent, free: 300 s handle / 2
    assert "won't need to repeat" in text and not dispatcher.messages[0]["buttons"]
    slot, pause = events
    assert slot["event"] == "slot" and slot["name"] == "handoff_request"
    request = slot["value"]
    assert request["topic"] == "orders" and request["reason"].startswith("explicit_request:")
    assert request["position_told"] == 2 and request["sender_id"] == "cust-1"
    assert pause["event"] == "pause"
    await store.dispose()


async def test_uses_the_policy_reason_topic_and_the_customer_segments(env: str) -> None:
    store = await agent_online(env)
    dispatcher = CollectingDispatcher()
    slots = {"escalation_reason": "frustration: The customer said the bot is useless.",
             "escalation_topic": "complaints", "customer_id": "C-42", "customer_segments": ["vip"]}
    action = ActionHandoff()
    events = await action.run(dispatcher, tracker(slots, intent="complain"), {})
    await action.close()
    request = events[0]["value"]
    assert request["reason"] == slots["escalation_reason"] and request["topic"] == "complaints"
    assert request["customer_id"] == "C-42" and request["segments"] == ["vip"]
    assert "complaints team" in dispatcher.messages[0]["text"]
    await store.dispose()


async def test_no_agent_online_offers_callback_or_email(env: str) -> None:
    dispatcher = CollectingDispatcher()
    action = ActionHandoff()
    events = await action.run(dispatcher, tracker({}), {})
    await action.close()
    msg = dispatcher.messages[0]
    assert "no one from our orders and deliveries team is free" in msg["text"]
    assert "call back" in msg["text"] and "e-mail" in msg["text"]
    assert [b["payload"] for b in msg["buttons"]] == ["Call me back", "Answer me by e-mail", "I'll wait here"]
    assert events[0]["value"]["eta_told_s"] is None and events[1]["event"] == "pause"


async def test_outside_business_hours_says_when_we_open(tmp_path: Path) -> None:
    store = await agent_online(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}")
    hours = BusinessHours.parse("mon-fri 08:00-20:00", "UTC")
    sunday = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
    plan = await plan_handoff(sender_id="s", slots={}, intents=["contact_human_agent"], store=store,
                              hours=hours, now=sunday)
    assert plan.estimate.eta_s is None and not plan.estimate.open_now
    assert "opening hours: Mon-Fri 08:00-20:00 (UTC)" in plan.message
    assert "We open again Monday at 08:00 UTC" in plan.message and plan.buttons
    await store.dispose()


async def test_unreadable_queue_still_hands_over_honestly(tmp_path: Path) -> None:
    broken = QueueStore.from_url(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}")
    await broken.dispose()
    (tmp_path / "missing" / "dir" / "x.db").mkdir(parents=True)  # a directory where the file should be
    plan = await plan_handoff(sender_id="s", slots={}, intents=[], store=broken, hours=BusinessHours.always())
    assert "can't see the queue right now" in plan.message and not plan.buttons
    assert plan.request.topic is Topic.GENERAL
    await broken.dispose()
