"""Rasa's messaging connectors, as ``credentials.yml`` documents them, fed realistic webhooks.

Each test runs the connector (tandem's subclass of Rasa's class, ``bot/channels/messaging.py``,
which only adds its name to the metadata) in a real Sanic server on loopback, the way Rasa
mounts it (``rasa.core.channels.channel.register`` under ``/webhooks/``), and POSTs the payload
the provider documents, signed where the connector checks signatures. The bot's turn is the
session start: the connector's ``UserMessage`` (sender id, metadata) goes through the real
``action_session_start`` against the demo profile store, and a reply goes back through the
connector's own output channel. No provider is reachable here: the provider's client library
(aiogram, twilio, slack_sdk, fbmessenger) is left as it is and its HTTP requests are captured
at the HTTP library level (aiohttp's and requests' sessions), re-addressed from the provider's
host to a local receiver on 127.0.0.1 that answers like the provider. None of these client
libraries is given a base URL by Rasa's connectors, hence the capture there.

Which sender ids identify: a Twilio SMS sender (E.164) and a WhatsApp sender
(``whatsapp:+44...``) where the profile holds that phone; a Messenger page-scoped id where the
profile holds it (``messenger:<id>``). A Telegram chat id or a Slack user id is held by no
profile (the contact centre does not record them), so those customers are asked once.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import sqlite3
import threading
import time
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
import requests
from rasa.core.channels.channel import InputChannel, UserMessage, register
from sanic import Sanic

from bot.channels.messaging import FacebookInput, SlackInput, TelegramInput, TwilioInput
from bot.vocabulary import MESSAGING_CHANNEL_METADATA_KEY
from tests.actions.conftest import Conversation, demo_db, domain, outbox, repo, services  # noqa: F401 - fixtures
from tests.conftest import free_port

PROVIDER_HOSTS = ("api.telegram.org", "api.twilio.com", "slack.com", "www.slack.com", "graph.facebook.com")
REPLY = "Thanks, one moment."


@dataclass
class Call:
    host: str
    method: str
    path: str
    query: dict[str, list[str]]
    body: dict[str, Any]


class Provider(BaseHTTPRequestHandler):
    """Answers as Telegram, Twilio, Slack or the Graph API would (the minimum their clients parse)."""

    calls: list[Call]

    def log_message(self, *_args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self.do_POST()

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        kind = self.headers.get("Content-Type", "")
        if "json" in kind:
            body = json.loads(raw or b"{}")
        elif "multipart" in kind:
            body = _multipart(raw, kind)
        else:
            body = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()}
        parts = urllib.parse.urlsplit(self.path)
        host, _, path = parts.path.lstrip("/").partition("/")
        self.calls.append(Call(host, self.command, "/" + path, urllib.parse.parse_qs(parts.query), body))
        status, answer = self.answer(host, "/" + path, body)
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    @staticmethod
    def answer(host: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if host == "api.telegram.org":
            method = path.rsplit("/", 1)[-1]
            if method == "getMe":
                return 200, {"ok": True, "result": {"id": 5000001, "is_bot": True, "first_name": "Hartwell",
                                                    "username": "hartwell_help_bot"}}
            if method == "sendMessage":
                return 200, {"ok": True, "result": {"message_id": 2, "date": int(time.time()),
                                                    "chat": {"id": int(body["chat_id"]), "type": "private"},
                                                    "text": body.get("text")}}
            return 200, {"ok": True, "result": True}
        if host == "api.twilio.com":
            return 201, {"sid": "SM" + "0" * 32, "status": "queued", "to": body.get("To"), "from": body.get("From"),
                         "body": body.get("Body"), "account_sid": "AC" + "1" * 32, "num_segments": "1"}
        if host.endswith("slack.com"):
            return 200, {"ok": True, "channel": body.get("channel"), "ts": "1764680001.000100"}
        return 200, {"recipient_id": "1254459154682919", "message_id": "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P"}


def _multipart(raw: bytes, kind: str) -> dict[str, Any]:
    """The form fields of a multipart body (aiogram sends its parameters this way)."""
    boundary = kind.split("boundary=", 1)[1].strip('"').encode()
    fields: dict[str, Any] = {}
    for part in raw.split(b"--" + boundary):
        head, _, value = part.partition(b"\r\n\r\n")
        if b'name="' in head:
            name = head.split(b'name="', 1)[1].split(b'"', 1)[0].decode()
            fields[name] = value.rstrip(b"\r\n").decode()
    return fields


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Call]]:
    """The local receiver, and the HTTP libraries' requests to the providers re-addressed to it."""
    calls: list[Call] = []
    handler = type("Handler", (Provider,), {"calls": calls})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def local(url: Any) -> Any:
        parts = urllib.parse.urlsplit(str(url))
        if parts.hostname not in PROVIDER_HOSTS:
            return url
        return f"{base}/{parts.hostname}{parts.path}" + (f"?{parts.query}" if parts.query else "")

    aiohttp_request = aiohttp.ClientSession._request

    async def aiohttp_local(self: aiohttp.ClientSession, method: str, str_or_url: Any, **kwargs: Any) -> Any:
        return await aiohttp_request(self, method, local(str_or_url), **kwargs)

    requests_send = requests.Session.send

    def requests_local(self: requests.Session, request: requests.PreparedRequest, **kwargs: Any) -> Any:
        request.url = local(request.url)
        return requests_send(self, request, **kwargs)

    monkeypatch.setattr(aiohttp.ClientSession, "_request", aiohttp_local)
    monkeypatch.setattr(requests.Session, "send", requests_local)
    try:
        yield calls
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def sanic_test_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Several Sanic apps start in this process: Sanic's test mode re-applies its start-up code
    rewriting to the original methods each time (otherwise the second start fails)."""
    monkeypatch.setattr(Sanic, "test_mode", True)


@asynccontextmanager
async def serving(channel: InputChannel) -> AsyncIterator[tuple[str, list[UserMessage]]]:
    """The connector's blueprint in a real Sanic server on loopback; the bot replies ``REPLY``."""
    received: list[UserMessage] = []

    async def on_new_message(message: UserMessage) -> None:
        received.append(message)
        await message.output_channel.send_text_message(message.sender_id, REPLY)

    app = Sanic(f"connector-{channel.name()}-{uuid.uuid4().hex[:8]}")
    app.ctx.agent = SimpleNamespace(handle_message=on_new_message)  # where Rasa's handler sends messages
    # Telegram's connector sets its webhook with asyncio.run() while building: outside this loop
    await asyncio.to_thread(register, [channel], app, "/webhooks/")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield f"http://127.0.0.1:{port}/webhooks/{channel.name()}/webhook", received
    finally:
        await server.before_stop()
        await server.close()
        await server.after_stop()


async def until(check: Any, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not seen in {timeout} s: {what}"
        await asyncio.sleep(0.02)


async def session_start(domain: dict[str, Any], message: UserMessage) -> dict[str, Any]:  # noqa: F811
    """The real action_session_start for a new conversation of this sender: the slots it sets."""
    from actions.session import ActionSessionStart
    from rasa_sdk.executor import CollectingDispatcher

    conversation = Conversation(domain, sender_id=message.sender_id)
    conversation.slots["session_started_metadata"] = message.metadata
    events = await ActionSessionStart().run(CollectingDispatcher(), conversation.tracker(), conversation.domain)
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def messenger_id_in(db: Path) -> str:
    """A page-scoped Messenger id a demo customer's profile holds (from a past conversation)."""
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT channel_id FROM cc_conversation WHERE channel_id LIKE 'messenger:%' LIMIT 1").fetchone()
    assert row, "the demo data has a Messenger conversation"
    return str(row[0]).split(":", 1)[1]


async def post(url: str, **kwargs: Any) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.post(url, **kwargs) as resp:
        return resp.status, await resp.text()


# -- the connectors ---------------------------------------------------------------------------


@pytest.mark.parametrize(("sender", "twilio_number", "who"), [
    ("+447700900101", "+447700900999", "Amelia"),  # SMS from Amelia Hart's mobile
    ("whatsapp:+447700900104", "whatsapp:+14155238886", "David"),  # WhatsApp from David Evans
])
async def test_twilio_sms_and_whatsapp(
    provider: list[Call], services: Any, domain: dict[str, Any], sender: str, twilio_number: str, who: str,  # noqa: F811
) -> None:
    sid = "AC" + "1" * 32
    channel = TwilioInput.from_credentials({"account_sid": sid, "auth_token": "t" * 32, "twilio_number": twilio_number})
    form = {  # what Twilio POSTs for an incoming message (application/x-www-form-urlencoded)
        "ToCountry": "GB", "SmsMessageSid": "SM" + "a" * 32, "NumMedia": "0", "SmsSid": "SM" + "a" * 32,
        "SmsStatus": "received", "Body": "where is my order", "FromCountry": "GB", "To": twilio_number,
        "NumSegments": "1", "MessageSid": "SM" + "a" * 32, "AccountSid": sid, "From": sender, "ApiVersion": "2010-04-01",
    }
    async with serving(channel) as (url, received):
        status, _ = await post(url, data=form)
        assert status == 204  # Rasa's Twilio connector answers Twilio with an empty body
        await until(lambda: received, "the message")
    message = received[0]
    assert (message.sender_id, message.text, message.input_channel) == (sender, "where is my order", "twilio")
    sent = [c for c in provider if c.host == "api.twilio.com"]
    assert [(c.method, c.path) for c in sent] == [("POST", f"/2010-04-01/Accounts/{sid}/Messages.json")]
    assert sent[0].body == {"To": sender, "From": twilio_number, "Body": REPLY}
    slots = await session_start(domain, message)
    assert slots.get("customer_id", "").startswith("cus_") and slots.get("customer_name") == who, slots
    assert any(key.startswith("identified_channel|") for key in slots["data_used"]), slots


async def test_facebook_messenger(
    provider: list[Call], services: Any, domain: dict[str, Any], demo_db: Path, repo: Any,  # noqa: F811
) -> None:
    psid = messenger_id_in(demo_db)
    secret = "fb-app-secret"
    channel = FacebookInput.from_credentials({"verify": "verify-me", "secret": secret, "page-access-token": "EAAG" + "x" * 40})
    payload = {"object": "page", "entry": [{"id": "104512345678901", "time": 1764680000000, "messaging": [{
        "sender": {"id": psid}, "recipient": {"id": "104512345678901"}, "timestamp": 1764680000000,
        "message": {"mid": "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM", "text": "where is my order"}}]}]}
    body = json.dumps(payload).encode()
    signature = "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    async with serving(channel) as (url, received):
        status, text = await post(url, data=body, headers={"Content-Type": "application/json", "X-Hub-Signature": "sha1=0"})
        assert (status, text, received) == (200, "not validated", [])  # a forged request goes nowhere
        status, text = await post(url, data=body, headers={"Content-Type": "application/json", "X-Hub-Signature": signature})
        assert (status, text) == (200, "success")
        await until(lambda: received, "the message")
    message = received[0]
    assert (message.sender_id, message.text, message.input_channel) == (psid, "where is my order", "facebook")
    sent = [c.body for c in provider if c.host == "graph.facebook.com" and c.path.endswith("/me/messages")]
    assert {"recipient": {"id": psid}, "sender_action": "mark_seen"} in sent
    replies = [b for b in sent if "message" in b]
    assert [(b["recipient"], b["message"]["text"]) for b in replies] == [({"id": psid}, REPLY)]
    slots = await session_start(domain, message)
    expected = await repo.find(f"messenger:{psid}", kind="channel_id")
    assert slots.get("customer_id") == expected.customer_id, slots


async def test_telegram(provider: list[Call], services: Any, domain: dict[str, Any]) -> None:  # noqa: F811
    token = "5000001:AAFjSxTg3bXn0Z8x2y-hartwell_example"
    channel = TelegramInput.from_credentials({"access_token": token, "verify": "hartwell_help_bot",
                                              "webhook_url": "https://bot.example.com/webhooks/telegram/webhook"})
    update = {"update_id": 873640001, "message": {
        "message_id": 1365, "date": 1764680000, "text": "where is my order",
        "chat": {"id": 71234567, "type": "private", "first_name": "Amelia", "username": "amelia_h"},
        "from": {"id": 71234567, "is_bot": False, "first_name": "Amelia", "username": "amelia_h", "language_code": "en"}}}
    async with serving(channel) as (url, received):
        assert [c.path.rsplit("/", 1)[-1] for c in provider] == ["setWebhook"]  # when Rasa loads the channel
        status, text = await post(url, json=update)
        assert (status, text) == (200, "success")
        assert channel.output is not None
        await channel.output.session.close()
    message = received[0]
    assert (message.sender_id, message.text, message.input_channel) == ("71234567", "where is my order", "telegram")
    sends = [c.body for c in provider if c.path.endswith("/sendMessage")]
    assert [(b["chat_id"], b["text"]) for b in sends] == [("71234567", REPLY)]
    assert all(c.path.startswith(f"/bot{token}/") for c in provider)
    slots = await session_start(domain, message)
    assert slots.get("customer_id") is None  # no profile holds a Telegram chat id: asked once later


async def test_slack(provider: list[Call], services: Any, domain: dict[str, Any]) -> None:  # noqa: F811
    secret = "8f742231b10e8888abcd99yyyzzz85a5"
    channel = SlackInput.from_credentials({"slack_token": "xoxb-" + "1" * 40, "slack_channel": "C0LAN2Q65",
                                           "slack_signing_secret": secret})
    event = {"token": "Jhj5dZrVaK7ZwHHjRyZWjbDl", "team_id": "T061EG9R6", "api_app_id": "A0PNCHHK2",
             "event": {"type": "message", "channel": "C0LAN2Q65", "user": "U061F7AUR", "text": "where is my order",
                       "ts": "1764680000.000200", "event_ts": "1764680000.000200", "channel_type": "channel"},
             "type": "event_callback", "event_id": "Ev0PV52K25", "event_time": 1764680000,
             "authorizations": [{"enterprise_id": None, "team_id": "T061EG9R6", "user_id": "U0BOTUSER", "is_bot": True}]}
    body = json.dumps(event).encode()
    stamp = str(int(time.time()))
    signature = "v0=" + hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": stamp}
    async with serving(channel) as (url, received):
        status, _ = await post(url, data=body, headers={**headers, "X-Slack-Signature": "v0=00"})
        assert status == 400 and received == []
        status, _ = await post(url, data=body, headers={**headers, "X-Slack-Signature": signature})
        assert status == 200
        await until(lambda: any(c.path.endswith("chat.postMessage") for c in provider), "the reply posted")
    message = received[0]
    assert (message.sender_id, message.text, message.input_channel) == ("U061F7AUR", "where is my order", "slack")
    posted = [c for c in provider if c.path.endswith("chat.postMessage")]
    assert [(c.body.get("channel"), c.body.get("text")) for c in posted] == [("C0LAN2Q65", REPLY)]
    slots = await session_start(domain, message)
    assert slots.get("customer_id") is None  # no profile holds a Slack user id


def test_the_connectors_name_themselves_and_callers_cannot() -> None:
    """The metadata key is the connectors' to set: the guard drops it from a REST caller's metadata."""
    from bot.channels.guard import Accepted, Guard

    verdict = Guard().check("+447700900101", "where is my order", {MESSAGING_CHANNEL_METADATA_KEY: "twilio", "x": 1})
    assert isinstance(verdict, Accepted) and verdict.metadata == {"x": 1}
