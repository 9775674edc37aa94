"""Proactive follow-ups: the external-event action, stalled processes, where identified customers
are reached (recorded in the profile store), "already reminded" from the tracker, the CLI."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from actions.followups import ActionFollowup
from typing import Any

from aiohttp import web

from actions.orders import ActionTrackOrder
from bot.actions_support.followups import (
    ExternalEvent,
    Notification,
    reminded_recently,
    stalled_cases,
)
from bot.cli import main
from bot.rasa_api import RasaClient

from .conftest import NOW, Conversation, make_services
from .helpers import AMELIA, AMELIA_ORDER, BEN, clean, three_parts


def test_external_intents() -> None:
    assert ExternalEvent.REFUND_PAID.intent == "EXTERNAL_refund_paid"
    assert ExternalEvent.from_intent("EXTERNAL_parcel_delayed") is ExternalEvent.PARCEL_DELAYED
    assert ExternalEvent.from_intent("EXTERNAL_unknown") is None
    assert ExternalEvent.from_intent("track_order") is None
    note = Notification("a b/c", ExternalEvent.REFUND_PAID, {"order_id": "1"})
    assert note.payload() == {"name": "EXTERNAL_refund_paid", "entities": {"order_id": "1"}}
    assert RasaClient("http://h:5005/", "t").trigger_url("a b/c") == "http://h:5005/conversations/a%20b%2Fc/trigger_intent"


async def test_refund_paid_is_announced_with_the_three_answers(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("", "EXTERNAL_refund_paid", {"order_id": "4000000201"}, metadata=BEN)
    messages = await conversation.run(ActionFollowup())
    clean(messages)
    assert messages[0] == "Good news: your refund of £59.99 for order 4000000201 has been paid."
    statement = three_parts(messages)
    assert "Nothing more to wait for" in statement


async def test_parcel_delay_is_announced(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("", "EXTERNAL_parcel_delayed", {"order_id": AMELIA_ORDER}, metadata=AMELIA)
    messages = await conversation.run(ActionFollowup())
    assert messages[0] == f"I'm sorry: DPD has told us your order {AMELIA_ORDER} is delayed."
    three_parts(messages)


async def test_stalled_refund_check_back(domain, repo) -> None:  # type: ignore[no-untyped-def]
    from bot.actions_support.runtime import use_services

    later = NOW + dt.timedelta(days=10)  # Thursday 3 December: the refund was due Friday 27 November
    services = make_services(repo)
    services.clock = lambda: later.replace(tzinfo=dt.timezone.utc)
    use_services(services)
    try:
        conv = Conversation(domain)
        conv.say("", "EXTERNAL_process_stalled", {"order_id": "4000000201"}, metadata=BEN)
        messages = await conv.run(ActionFollowup())
    finally:
        use_services(None)
    clean(messages)
    assert messages[0].startswith("I'm checking back on your refund for order 4000000201")
    statement = three_parts(messages)
    assert "overdue" in statement and "refund not received" in statement
    assert 'say "agent"' in messages[-1]


async def test_nothing_to_say_means_silence(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("", "EXTERNAL_refund_paid", {"order_id": AMELIA_ORDER}, metadata=AMELIA)  # no refund
    assert await conversation.run(ActionFollowup()) == []
    conversation.say("", "EXTERNAL_refund_paid", {"order_id": "4000000201"})  # nobody identified
    assert await conversation.run(ActionFollowup()) == []


async def test_stalled_cases_from_the_profile(repo) -> None:  # type: ignore[no-untyped-def]
    ben = await repo.find("ben.okafor@example.net")
    amelia = await repo.find("amelia.hart@example.com")
    assert stalled_cases(ben, NOW) == []  # still within the promise
    later = dt.datetime(2026, 12, 3, 12, 0)
    refund = stalled_cases(ben, later)
    assert [(c.process, c.order_id) for c in refund] == [("refund", "4000000201")]
    assert refund[0].due.date() == dt.date(2026, 11, 27)
    delivery = stalled_cases(amelia, dt.datetime(2026, 11, 27, 12, 0))
    assert [(c.process, c.order_id, c.overdue_business_days) for c in delivery] == [("delivery", AMELIA_ORDER, 2)]


async def test_identifying_a_customer_records_where_follow_ups_reach_them(domain, services, repo) -> None:  # type: ignore[no-untyped-def]
    conv = Conversation(domain)
    conv.say("where is my order", "track_order", metadata=AMELIA)
    await conv.run(ActionTrackOrder())
    owners = await repo.latest_conversations()
    amelia = conv.slots["customer_id"]
    assert owners[amelia][:2] == (conv.sender_id, "rest")
    # the same customer on another channel later: the newest conversation is the one to use
    await repo.record_conversation(amelia, "whatsapp:+447700900101", "twilio")
    assert (await repo.latest_conversations())[amelia][:2] == ("whatsapp:+447700900101", "twilio")
    assert len(owners) == 1  # nobody else was identified


async def test_a_process_is_reminded_once_per_conversation(aiohttp_server: Any) -> None:
    """Whether a conversation already got a reminder for an order is in its tracker (Rasa's API)."""
    stalled = {"event": "user", "timestamp": 100.0, "text": "EXTERNAL: EXTERNAL_process_stalled",
               "parse_data": {"intent": {"name": "EXTERNAL_process_stalled"},
                              "entities": [{"entity": "order_id", "value": "4000000201"}]}}
    trackers = {"conv-2": [{"event": "user", "timestamp": 50.0, "text": "hi", "parse_data": {}}, stalled]}

    async def tracker(request: web.Request) -> web.Response:
        assert request.query["token"] == "t"
        sender = request.match_info["sender"]
        if sender not in trackers:
            return web.json_response({"message": "no such conversation"}, status=404)
        return web.json_response({"sender_id": sender, "events": trackers[sender]})

    app = web.Application()
    app.router.add_get("/conversations/{sender}/tracker", tracker)
    server = await aiohttp_server(app)
    client = RasaClient(str(server.make_url("")), "t", timeout_s=5)
    assert await reminded_recently(client, "conv-2", "4000000201", since=0)
    assert not await reminded_recently(client, "conv-2", "4000000201", since=101)  # longer ago than a day
    assert not await reminded_recently(client, "conv-2", "4000000999", since=0)  # another order
    assert not await reminded_recently(client, "conv-1", "4000000201", since=0)  # Rasa never saw it


def test_notify_dry_run_and_unreachable_rasa(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TANDEM_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("RASA_TOKEN", "secret")
    monkeypatch.setenv("RASA_URL", "http://127.0.0.1:1")
    assert main(["processes", "notify", "--conversation", "c1", "--event", "refund_paid", "--order-id", "4000000201", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("POST http://127.0.0.1:1/conversations/c1/trigger_intent ")
    assert '"EXTERNAL_refund_paid"' in out and "secret" not in out
    assert main(["processes", "notify", "--conversation", "c1", "--event", "parcel_delayed"]) == 1
    assert "unreachable" in capsys.readouterr().err
