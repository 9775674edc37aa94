"""Sender ids are opaque strings end to end (issue 10, finding 4).

Before: an agent's reply to ``whatsapp:+447700900199`` was stored by Rasa under
``whatsapp:%2B447700900199`` (and ``zoë müller`` under ``zo%C3%AB%20m%C3%BCller``): Sanic does
not decode ``<conversation_id:path>`` parameters, the console showed an empty transcript, and
the service still answered ``{"delivered": true}``.

The property tests generate sender ids (any Unicode, ``+ : / %`` and spaces), messages and
metadata and send them through the handoff service's inputs: the Rasa client (against Sanic's
own router for Rasa's routes plus ``bot/rasa_server.py``'s decoding), the broker events the
service reads, the intake the action server calls, and the console's JSON.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.handoff.intake import SIGNATURE_HEADER, intake_body, sign
from bot.handoff.models import HandoffRequest
from bot.rasa_api import RasaAPIError, RasaClient
from tests.handoff.conftest import Handoff, RasaStandIn, handoff_request

#: sender ids as channels produce them, and anything else a channel might: every character but
#: the surrogates Rasa's JSON cannot carry
SENDER_IDS = st.one_of(
    st.sampled_from(["whatsapp:+447700900199", "zoë müller", "a/b", "100%", " x ", "telegram:42/7?x=1#y"]),
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40),
)
TEXTS = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=200).filter(str.strip)
METADATA = st.dictionaries(
    st.text(min_size=1, max_size=10),
    st.one_of(st.text(max_size=30), st.integers(), st.booleans(), st.none()),
    max_size=4,
)
EXAMPLES = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


async def queued(handoff: Handoff, headers: dict[str, str], sender: str) -> dict[str, Any]:
    """The waiting conversation of ``sender`` as the console lists it, once the background
    consumer has applied the broker's events."""
    found: list[dict[str, Any]] = []

    async def listed() -> bool:
        queue = await (await handoff.client.get("/api/queue", headers=headers)).json()
        found[:] = [c for c in queue["conversations"] if c["sender_id"] == sender and c["status"] == "waiting"]
        return bool(found)

    await handoff.until(listed)
    return found[0]


@EXAMPLES
@given(sender=SENDER_IDS, text=TEXTS, metadata=METADATA)
async def test_an_agent_message_reaches_exactly_that_conversation(
    rasa: tuple[RasaStandIn, str], sender: str, text: str, metadata: dict[str, Any]
) -> None:
    stand_in, url = rasa
    client = RasaClient(url, stand_in.token, timeout_s=5, retries=0)
    await client.send_bot_message(sender, text, agent="alice", extra=metadata)
    delivered = stand_in.delivered[sender][-1]
    assert delivered["text"] == text
    assert delivered["metadata"] == {**metadata, "agent": "alice", "handoff": True}
    assert (await client.tracker(sender))["sender_id"] == sender


@EXAMPLES
@given(sender=SENDER_IDS)
async def test_a_reply_rasa_filed_elsewhere_is_not_reported_delivered(
    rasa: tuple[RasaStandIn, str], sender: str
) -> None:
    """Rasa as it was (ids not decoded): a 200 for another conversation is not a delivery."""
    stand_in, url = rasa
    stand_in.decode_ids = False
    client = RasaClient(url, stand_in.token, timeout_s=5, retries=0)
    try:
        await client.send_bot_message(sender, "hello")
    except RasaAPIError as exc:
        assert "nothing reached this customer" in str(exc)
    else:  # only ids that need no encoding reach the same conversation either way
        assert stand_in.delivered[sender]


@EXAMPLES
@given(sender=SENDER_IDS, first=TEXTS, later=TEXTS, reply=TEXTS, metadata=METADATA)
async def test_the_console_shows_and_answers_any_sender(
    handoff: Handoff, sender: str, first: str, later: str, reply: str, metadata: dict[str, Any]
) -> None:
    """Broker events with that sender queue the conversation; the console's JSON shows the id
    and the transcript; the agent's reply is delivered to that same sender."""
    alice = await handoff.login("alice")
    first_event = {"event": "user", "text": first, "metadata": metadata, "parse_data": {"intent": {"name": "inform"}}}
    await asyncio.to_thread(handoff.rasa.publish, sender, first_event)  # the broker is another process
    await asyncio.to_thread(handoff.rasa.request_handoff, sender,
                            handoff_request(uuid.uuid4().hex, sender, first_message=first))
    await asyncio.to_thread(handoff.rasa.customer_says, sender, later)
    conv = await queued(handoff, alice, sender)
    accepted = await handoff.client.post(f"/api/conversations/{conv['id']}/accept", headers=alice)
    assert accepted.status == 200, await accepted.text()
    detail = await (await handoff.client.get(f"/api/conversations/{conv['id']}", headers=alice)).json()
    assert detail["conversation"]["sender_id"] == sender
    assert detail["transcript_source"] == "rasa"
    assert [line["text"] for line in detail["transcript"] if line["kind"] == "customer"][-1] == later
    answer = await handoff.client.post(f"/api/conversations/{conv['id']}/reply", json={"text": reply}, headers=alice)
    assert answer.status == 200 and await answer.json() == {"delivered": True}
    assert handoff.rasa.delivered[sender][-1]["text"] == reply.strip()
    closed = await handoff.client.post(f"/api/conversations/{conv['id']}/close", json={"disposition": "resolved"},
                                       headers=alice)
    assert closed.status == 200, await closed.text()


async def test_a_reply_is_not_reported_delivered_when_rasa_filed_it_elsewhere(handoff: Handoff) -> None:
    """The finding itself: Rasa answering 200 for ``whatsapp:%2B447700900199``."""
    sender = "whatsapp:+447700900199"
    alice = await handoff.login("alice")
    await asyncio.to_thread(handoff.rasa.request_handoff, sender, handoff_request("h-wa", sender))
    conv = await queued(handoff, alice, sender)
    await handoff.client.post(f"/api/conversations/{conv['id']}/accept", headers=alice)
    handoff.rasa.decode_ids = False
    answer = await handoff.client.post(f"/api/conversations/{conv['id']}/reply", json={"text": "hi"}, headers=alice)
    assert answer.status == 502
    assert "nothing reached this customer" in (await answer.json())["message"]
    assert "hi" not in [d["text"] for d in handoff.rasa.delivered.get(sender, [])]
    assert [d["text"] for d in handoff.rasa.delivered["whatsapp%3A%2B447700900199"]] == ["hi"]  # where it went


@EXAMPLES
@given(sender=SENDER_IDS, text=TEXTS, customer=st.one_of(st.none(), st.text(min_size=1, max_size=20)))
async def test_the_action_servers_intake_keeps_the_sender(
    handoff: Handoff, sender: str, text: str, customer: str | None
) -> None:
    """What action_handoff sends (``intake.submit``: a signed JSON body) queues that exact
    sender; the console's JSON gives it back unchanged."""
    req = HandoffRequest.from_slot(
        {**handoff_request(uuid.uuid4().hex, sender, first_message=text), "customer_id": customer}, sender
    )
    body = intake_body(req)
    answer = await handoff.client.post("/api/intake", data=body, headers={
        "Content-Type": "application/json", SIGNATURE_HEADER: sign(b"k" * 32, body)})
    assert answer.status == 200, await answer.text()
    await queued(handoff, await handoff.login("alice"), sender)
    assert json.loads(body)["sender_id"] == sender


@pytest.mark.parametrize("sender", ["whatsapp:+447700900199", "zoë müller", "a/b%2Fc d"])
def test_the_client_encodes_a_sender_once(sender: str) -> None:
    path = RasaClient._conversation(sender)
    assert "/" not in path.removeprefix("/conversations/") and " " not in path
    assert unquote(path.removeprefix("/conversations/")) == sender


@settings(max_examples=200, deadline=None)
@given(sender=SENDER_IDS.filter(str.strip), text=TEXTS, metadata=METADATA)
def test_the_channels_pass_any_sender_on_unchanged(sender: str, text: str, metadata: dict[str, Any]) -> None:
    """The REST and socket.io channels' guard (bot/channels/guard.py) hands Rasa the sender,
    the message and the metadata exactly as they came."""
    from bot.channels.guard import Accepted, Guard

    accepted = Guard().check(sender, text, metadata)
    assert isinstance(accepted, Accepted)
    assert (accepted.sender, accepted.text, accepted.metadata) == (sender, text, metadata)
