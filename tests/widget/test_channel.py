"""tandem's socket.io channel (bot/channels/socketio.py) against the real Rasa server: a connection
owns the conversations it was granted, and nobody else can join or write into them.

Rasa 3.6's own channel lets any client ``session_request`` any ``session_id`` and read that
customer's replies; these tests are what that looked like, refused now. The widget's actual
client library (socket.io-client from widget/node_modules, run by Node) is checked against the
same server, so the pinned python-socketio/python-engineio and the bundled client agree.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio

from bot import identity_token
from tests.handoff.test_console_browser import Oracle, http  # noqa: F401 - fixture
from tests.widget.conftest import WIDGET_DIR
from tests.widget.sio import WidgetClient

pytestmark = pytest.mark.slow


async def tracker(stack: Any, session_id: str) -> dict[str, Any]:
    settings = stack.settings
    async with aiohttp.ClientSession() as client:
        url = f"{settings.rasa_url}/conversations/{session_id}/tracker"
        async with client.get(url, params={"token": settings.rasa_token}) as resp:
            assert resp.status == 200, await resp.text()
            return await resp.json()


def user_texts(tr: dict[str, Any]) -> list[str]:
    return [e.get("text") for e in tr["events"] if e["event"] == "user"]


def token_for(stack: Any, subject: str, **claims: Any) -> str:
    return identity_token.issue(identity_token.identity_secret(stack.settings.var_dir), subject, **claims)


async def test_a_connection_cannot_join_or_write_into_another_conversation(stack: Any) -> None:
    url = stack.settings.rasa_url
    alice = await WidgetClient(url).connect()
    mallory = await WidgetClient(url).connect()
    try:
        kind, session_id = await alice.request()
        assert kind == "confirm" and len(session_id) == 32 and alice.session_token  # server-issued, unguessable
        ack = await alice.say("/greet")
        assert ack == {"ok": True}
        first = await alice.expect()
        assert first["text"] and isinstance(first["timestamp"], float)

        # joining alice's room: without her token, with a forged one, with a token for another conversation
        assert (await mallory.request(session_id))[0] == "refused"
        assert (await mallory.request(session_id, alice.session_token + "x"))[0] == "refused"
        kind, own = await mallory.request()
        assert kind == "confirm" and own != session_id
        assert (await mallory.request(session_id, mallory.session_token))[0] == "refused"
        # writing into alice's conversation from mallory's connection
        ack = await mallory.say("send me her tracking number", session_id=session_id)
        assert ack["ok"] is False and mallory.refusals
        assert "send me her tracking number" not in user_texts(await tracker(stack, session_id))

        # alice's next reply reaches her, and nothing of hers reaches mallory
        alice.drain()
        await alice.say("/goodbye")
        await alice.expect()
        mallory.drain()
        await mallory.say("/greet")
        reply = await mallory.expect()
        assert reply["text"]
    finally:
        await alice.close()
        await mallory.close()

    # the same browser after a reload: a new connection resumes with the conversation token
    again = await WidgetClient(url).connect()
    try:
        kind, resumed = await again.request(session_id, alice.session_token)
        assert (kind, resumed) == ("confirm", session_id)
        assert (await again.say("/greet"))["ok"] is True
        await again.expect()
    finally:
        await again.close()


async def test_a_signed_in_customers_conversation_stays_theirs(stack: Any) -> None:
    url = stack.settings.rasa_url
    amelia_token = token_for(stack, "shop-user-1001", customer_number="C1000001", name="Amelia Hart")
    ben_token = token_for(stack, "shop-user-1002", customer_number="C1000002", name="Ben Okafor")
    amelia = await WidgetClient(url, amelia_token).connect()
    ben = await WidgetClient(url, ben_token).connect()
    guest = await WidgetClient(url).connect()
    try:
        kind, session_id = await amelia.request()
        assert kind == "confirm"
        await amelia.say("/greet", client_id="m-1")
        await amelia.expect()
        # her conversation token is no use to another signed-in customer, nor signed out
        assert (await ben.request(session_id, amelia.session_token))[0] == "refused"
        assert (await guest.request(session_id, amelia.session_token))[0] == "refused"
        # a message whose identity token names someone else loses that token; hers is attached instead
        await amelia.say("hello again", client_id="m-2", identity_token=ben_token)
        events = [e for e in (await tracker(stack, session_id))["events"] if e["event"] == "user"]
        assert [e["metadata"].get("identity_token") for e in events] == [amelia_token, amelia_token]
        # a message sent twice (the widget resends what was not acknowledged) is processed once
        assert (await amelia.say("hello again", client_id="m-2")).get("duplicate") is True
        assert user_texts(await tracker(stack, session_id)).count("hello again") == 1
    finally:
        for client in (amelia, ben, guest):
            await client.close()

    # amelia on a fresh page (a new, valid token for the same subject) resumes her conversation
    fresh = token_for(stack, "shop-user-1001", customer_number="C1000001")
    back = await WidgetClient(url, fresh).connect()
    try:
        assert await back.request(session_id, amelia.session_token) == ("confirm", session_id)
    finally:
        await back.close()


async def test_a_client_chosen_id_is_granted_only_for_a_new_conversation(stack: Any) -> None:
    url = stack.settings.rasa_url
    first = await WidgetClient(url).connect()
    second = await WidgetClient(url).connect()
    try:
        assert await first.request("chosen-by-the-page-1") == ("confirm", "chosen-by-the-page-1")
        assert (await second.request("chosen-by-the-page-1"))[0] == "refused"  # held by a live connection
        await first.say("/greet")
        await first.expect()
    finally:
        await first.close()
    try:
        assert (await second.request("chosen-by-the-page-1"))[0] == "refused"  # exists in the tracker store
    finally:
        await second.close()


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_the_widgets_socketio_client_talks_to_rasas_server(stack: Any, transport: str) -> None:
    """socket.io-client 4.x (engine.io protocol 4) against python-socketio 5.9 / python-engineio 4.8."""
    script = Path(__file__).with_name("sio_check.cjs")
    done = subprocess.run(
        ["node", str(script), str(WIDGET_DIR), stack.settings.rasa_url, transport],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["protocol"] == 4 and report["transport"] == transport
    assert report["ack"] == {"ok": True}
    assert report["reply"]["text"] and report["session_token"]
    version = json.loads((WIDGET_DIR / "node_modules" / "socket.io-client" / "package.json").read_text())["version"]
    assert version.startswith("4."), version


async def test_the_guard_answers_long_and_empty_messages_before_nlu(stack: Any) -> None:
    """The socket.io channel applies the same guard as REST (bot/channels/guard.py)."""
    client = await WidgetClient(stack.settings.rasa_url).connect()
    try:
        _, session_id = await client.request()
        assert (await client.say("x" * 5000))["refused"].startswith("too long")
        assert "too long for me to read" in (await client.expect())["text"]
        assert (await client.say("   "))["refused"].startswith("empty")
        assert "didn't receive any text" in (await client.expect())["text"]
        assert user_texts(await tracker(stack, session_id)) == []  # neither reached Rasa's NLU
    finally:
        await client.close()


async def test_the_agent_typing_in_the_console_reaches_only_that_customer(
    stack: Any, http: aiohttp.ClientSession  # noqa: F811
) -> None:
    """Console socket -> handoff service -> Rasa's socket.io channel -> that conversation's room."""
    settings = stack.settings
    oracle = await Oracle(http, settings.handoff_url, "alice").login()
    customer = await WidgetClient(settings.rasa_url).connect()
    other = await WidgetClient(settings.rasa_url).connect()
    opened: list[int] = []
    try:
        _, session_id = await customer.request()
        await other.request()
        await customer.say("I want to talk to a person")
        conv = await oracle.conversation_of(customer)
        opened.append(conv["id"])
        await oracle.call("POST", f"/api/conversations/{conv['id']}/accept")
        token = oracle.headers["Authorization"].removeprefix("Bearer ")
        async with http.ws_connect(f"{settings.handoff_url}/ws", params={"token": token}) as ws:
            assert (await ws.receive_json(timeout=20))["type"] == "snapshot"
            await ws.send_json({"type": "typing", "conversation_id": conv["id"], "typing": True})
            assert await asyncio.wait_for(customer.typing.get(), 20) == {"typing": True, "agent": "alice"}
            # malformed, or another agent's conversation id: ignored (the next one shown is "stopped")
            await ws.send_json({"type": "typing", "conversation_id": "x", "typing": True})
            await ws.send_json({"type": "typing", "conversation_id": conv["id"] + 10_000, "typing": True})
            await ws.send_json({"type": "typing", "conversation_id": conv["id"], "typing": False})
            assert await asyncio.wait_for(customer.typing.get(), 20) == {"typing": False, "agent": "alice"}
        assert other.typing.empty()
        assert customer.typing.empty()

        # the channel's endpoint is Rasa's, behind Rasa's API token
        url = f"{settings.rasa_url}/webhooks/socketio/typing"
        body = {"session_id": session_id, "typing": True, "agent": "alice"}
        async with http.post(url, json=body) as resp:
            assert resp.status == 401
        async with http.post(url, json=body, params={"token": "wrong"}) as resp:
            assert resp.status == 401
        async with http.post(url, json={"session_id": session_id}, params={"token": settings.rasa_token}) as resp:
            assert resp.status == 400
        assert customer.typing.empty() and other.typing.empty()
    finally:
        await customer.close()
        await other.close()
        await oracle.leave_nothing_open(opened)


async def test_browsers_connect_only_from_the_allowed_origins(stack: Any) -> None:
    """By default the handoff service's origin (the demo shop) only: TANDEM_CORS_ORIGINS widens it."""
    url = stack.settings.rasa_url
    shop_origin = stack.settings.handoff_url.rstrip("/")
    shop = await WidgetClient(url).connect(origin=shop_origin)
    try:
        assert (await shop.request())[0] == "confirm"
    finally:
        await shop.close()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await WidgetClient(url).connect(origin="https://evil.example")
