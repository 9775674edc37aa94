"""``action_handoff`` with rasa-sdk's real dispatcher and tracker against the real handoff service
(its aiohttp app on a test server, a real SQLite queue, the demo profile store): one signed
call, the answer told with the domain's responses, the broker path when the service is down."""

from __future__ import annotations

import json
import shutil
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
import sqlalchemy as sa
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandoff
from bot.actions_support.assurance import seal_identity, seal_key
from bot.actions_support.gateway import ProfileGateway
from bot.actions_support.runtime import Services, _UnavailableStore, use_services
from bot.handoff.app import SERVICE, STORE, create_app
from bot.handoff.config import BusinessHours
from bot.handoff.intake import IntakeClient
from bot.handoff.models import HandoffRequest, Topic
from bot.handoff.store import conversations
from bot.profile import ProfileRepository

from tests.handoff.conftest import Handoff, RasaStandIn, make_config, make_settings

SECRET = b"k" * 32  # make_config's secret


def tracker(slots: dict[str, Any], intent: str = "contact_human_agent", sender: str | None = None) -> Tracker:
    events = [{"event": "user", "text": "/greet", "parse_data": {"intent": {"name": "greet"}}},
              {"event": "user", "text": "where is   my parcel", "parse_data": {"intent": {"name": "track_order"}},
               "input_channel": "socketio"},
              {"event": "user", "text": "agent please", "parse_data": {"intent": {"name": intent}},
               "input_channel": "socketio"}]
    sender = sender or f"cust-{uuid.uuid4().hex[:8]}"
    if slots.get("customer_id"):  # identified the way the action server does it: sealed by itself
        key = seal_key(IDENTITY_SECRET)
        slots = {**slots, "identity_level": "verified",
                 "identity_seal": seal_identity(key, sender, slots["customer_id"], "verified")}
    return Tracker(sender, slots, {"intent": {"name": intent}}, events, False, None, {}, "action_listen")


IDENTITY_SECRET = "identity-secret-of-the-handoff-action-tests"


def services_for(url: str) -> Services:
    return Services(gateway=ProfileGateway(_UnavailableStore("not used by the handoff")),
                    handoff=IntakeClient(url, SECRET), identity_secret=IDENTITY_SECRET)


@pytest.fixture
def service(handoff: Handoff) -> Iterator[Handoff]:
    use_services(services_for(handoff.url))
    yield handoff
    use_services(None)


async def run(t: Tracker) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff().run(dispatcher, t, {})
    assert len(dispatcher.messages) == 1
    return dispatcher.messages[0], events


async def agent_online(h: Handoff, name: str = "alice") -> None:
    async with h.app[STORE].begin() as conn:
        await h.app[STORE].agent_seen(conn, name, frozenset(Topic))


async def row(h: Handoff, sender: str) -> Any:
    async with h.app[STORE].begin() as conn:
        return (await conn.execute(sa.select(conversations).where(conversations.c.sender_id == sender))).one()


async def test_tells_position_and_wait_from_the_service_stores_the_request_and_pauses(service: Handoff) -> None:
    await agent_online(service)
    async with service.app[STORE].begin() as conn:  # someone is already waiting for orders
        await service.app[STORE].enqueue(conn, HandoffRequest("earlier", "other", Topic.ORDERS, "r", time.time() - 30))
    t = tracker({"escalation_reason": None, "escalation_topic": None})
    message, events = await run(t)
    # one agent, free: 300 s handle / 2 = 150 s, rounded up to 3 minutes
    assert message["response"] == "utter_handoff_queued" and not message["buttons"]
    assert (message["team"], message["position"], message["wait_minutes"]) == ("orders and deliveries", 2, 3)
    slot, pause = events
    assert slot["event"] == "slot" and slot["name"] == "handoff_request" and pause["event"] == "pause"
    request = slot["value"]
    assert request["topic"] == "orders" and request["reason"].startswith("explicit_request:")
    assert request["position_told"] == 2 and request["eta_told_s"] == 150 and request["sender_id"] == t.sender_id
    queued = await row(service, t.sender_id)  # the service queued it on the call, before any broker event
    assert queued.handoff_id == request["handoff_id"] and queued.request_event_id is None
    assert queued.channel == "socketio" and queued.first_message == "where is my parcel"
    assert queued.position_told == 2 and not queued.alternatives_offered


async def test_the_service_reads_segments_and_name_from_the_profile(service: Handoff, profiles_db: Path) -> None:
    await agent_online(service)
    repo = ProfileRepository.from_url(f"sqlite+aiosqlite:///{profiles_db}")
    try:
        chloe = await repo.find("chloe.martin@example.com")
    finally:
        await repo.close()
    slots = {"escalation_reason": "frustration: The customer said the bot is useless.",
             "escalation_topic": "complaints", "customer_id": chloe.customer_id,
             "customer_segments": ["made-up"], "customer_name": None}  # the action sends neither
    t = tracker(slots, intent="complaint")
    message, events = await run(t)
    assert message["team"] == "complaints"
    assert events[0]["value"]["reason"] == slots["escalation_reason"]
    queued = await row(service, t.sender_id)
    assert queued.customer_id == chloe.customer_id and queued.customer_name == "Chloe Martin"
    assert {"high_value", "open_complaint"} <= set(json.loads(queued.segments))
    assert queued.priority == 3  # high value (2) + complaint (1)


async def test_no_agent_online_offers_callback_or_email(service: Handoff) -> None:
    t = tracker({})
    message, events = await run(t)
    assert message["response"] == "utter_handoff_no_agent" and message["team"] == "orders and deliveries"
    assert events[0]["value"]["eta_told_s"] is None and events[0]["value"]["position_told"] == 1
    assert events[1]["event"] == "pause"
    assert (await row(service, t.sender_id)).alternatives_offered  # the customer's choice will be read


async def test_outside_business_hours_says_when_we_open(
    aiohttp_client: Any, tmp_path: Path, rasa: tuple[RasaStandIn, str], broker_url: str
) -> None:
    stand_in, url = rasa
    hours = BusinessHours.parse("mon-fri 08:00-20:00", "UTC")
    app = create_app(make_settings(tmp_path, url, broker_url), make_config(hours=hours))
    h = Handoff(await aiohttp_client(app), stand_in, app)
    app[SERVICE].clock = lambda: datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)  # a Sunday
    await agent_online(h)
    use_services(services_for(h.url))
    try:
        message, events = await run(tracker({}))
    finally:
        use_services(None)
    assert message["response"] == "utter_handoff_closed"
    assert message["hours"] == "Mon-Fri 08:00-20:00 (UTC)" and message["next_opening"] == "Monday at 08:00 UTC"
    assert events[0]["value"]["eta_told_s"] is None


async def test_service_down_says_so_and_the_broker_still_brings_the_request(handoff: Handoff) -> None:
    use_services(services_for("http://127.0.0.1:9"))  # nothing listens there
    t = tracker({"escalation_topic": "refunds_billing"})
    try:
        message, events = await run(t)
    finally:
        use_services(None)
    assert message["response"] == "utter_handoff_queue_unknown" and message["team"] == "refunds and billing"
    slot = events[0]["value"]
    assert slot["position_told"] is None and slot["eta_told_s"] is None
    handoff.rasa.request_handoff(t.sender_id, slot)  # what Rasa's broker then carries
    await handoff.drain()
    queued = await row(handoff, t.sender_id)
    assert queued.handoff_id == slot["handoff_id"] and queued.topic == "refunds_billing"
    assert not queued.alternatives_offered  # nothing was offered to choose from


async def test_a_customer_who_opted_out_is_shown_to_agents_by_the_side_panes_name(
    aiohttp_client: Any, tmp_path: Path, rasa: tuple[RasaStandIn, str], broker_url: str, profiles_db: Path
) -> None:
    """Opting out of personalisation changes what the bot says, not how agents tell customers apart."""
    copy = tmp_path / "profiles.db"
    shutil.copyfile(profiles_db, copy)
    repo = ProfileRepository.from_url(f"sqlite+aiosqlite:///{copy}")
    try:
        amelia = await repo.find("amelia.hart@example.com")
        await repo.set_personalisation(amelia.customer_id, False)
        assert (await repo.get(amelia.customer_id)).greeting_name is None
    finally:
        await repo.close()
    stand_in, url = rasa
    app = create_app(make_settings(tmp_path, url, broker_url, copy), make_config())
    h = Handoff(await aiohttp_client(app), stand_in, app)
    use_services(services_for(h.url))
    try:
        t = tracker({"customer_id": amelia.customer_id, "customer_name": None})
        await run(t)
    finally:
        use_services(None)
    headers = await h.login("alice")
    listed = [c for c in (await (await h.client.get("/api/queue", headers=headers)).json())["conversations"]
              if c["sender_id"] == t.sender_id]
    assert listed[0]["customer_name"] == "Amelia Hart"
    detail = await (await h.client.get(f"/api/conversations/{listed[0]['id']}", headers=headers)).json()
    assert detail["profile"]["summary"]["identity"]["full_name"] == "Amelia Hart"  # what the side pane shows


def test_only_the_handoff_service_is_given_the_queue_database(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.runner import Stack
    from bot.settings import Settings

    monkeypatch.setenv("TANDEM_HANDOFF_DB_URL", "sqlite+aiosqlite:////elsewhere/handoff.db")
    settings = Settings.from_env({"TANDEM_VAR_DIR": str(tmp_path), "RASA_TOKEN": "t"})
    assert "TANDEM_HANDOFF_DB_URL" not in settings.rasa_env()
    stack = Stack(settings, services=("actions", "handoff"))
    assert "TANDEM_HANDOFF_DB_URL" not in stack.env_for("actions")
    assert stack.env_for("handoff")["TANDEM_HANDOFF_DB_URL"] == "sqlite+aiosqlite:////elsewhere/handoff.db"
    monkeypatch.delenv("TANDEM_HANDOFF_DB_URL")
    stack = Stack(settings, services=("actions", "handoff"))
    assert stack.env_for("handoff")["TANDEM_HANDOFF_DB_URL"] == settings.handoff_db_url
