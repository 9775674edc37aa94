"""Two replicas of tandem on the production services (PostgreSQL, Redis lock store, RabbitMQ
broker): two Rasa servers, two action servers and two handoff services, as real processes with
the trained model, sharing one database, one lock prefix and one queue of this run's own.

One conversation's messages alternate between the Rasa replicas; conversations run at once;
every tracker is complete and ordered; a handoff requested through one replica is answered
through the other; one replica killed mid-conversation leaves the other carrying on, nothing
lost. A widget's socket on one replica hears the agent who answers through the other (socket.io
through Redis), and agents' consoles on either handoff service hear every event (console updates
through Redis). (The tests run in file order: the last one kills replica A.)
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import aiohttp
import psycopg2
import pytest

from bot.runner import Stack
from tests.conftest import isolated_settings
from tests.production.conftest import AGENTS, build_profiles, production_services
from tests.widget.sio import WidgetClient

pytestmark = pytest.mark.slow

#: distinct texts the assistant answers in one turn, so the order of a tracker can be checked
TEXTS = ("hi", "what delivery options do you have?", "are you a bot?", "thanks",
         "how long does delivery take?", "what payment methods do you accept?", "thank you", "bye")


@pytest.fixture(scope="module")
def replicas(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with production_services() as env:
        build_profiles(env, tmp_path_factory.mktemp("profiles"))
        stacks = {}
        for name in ("a", "b"):
            settings = isolated_settings(tmp_path_factory.mktemp(f"replica-{name}"), **env)
            stacks[name] = Stack(settings, trained_model,
                                 extra_env={**env, "TANDEM_VAR_DIR": str(settings.var_dir)})
        errors: list[BaseException] = []

        def start(stack: Stack) -> None:
            try:
                stack.start(timeout_s=600)
            except BaseException as exc:  # noqa: BLE001 - re-raised below
                errors.append(exc)

        threads = [threading.Thread(target=start, args=(s,), daemon=True) for s in stacks.values()]
        try:
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            if errors:
                raise errors[0]
            yield {"stacks": stacks, "db": env["TANDEM_POSTGRES_URL"]}
        finally:
            for stack in stacks.values():
                stack.stop()


def rasa_urls(replicas: dict[str, Any], names: str = "ab") -> list[str]:
    return [replicas["stacks"][n].settings.rasa_url for n in names]


async def say(http: aiohttp.ClientSession, url: str, sender: str, text: str) -> list[dict[str, Any]]:
    async with http.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


def stored_events(db: str, sender: str) -> list[tuple[str, str | None]]:
    """(type, text or action) of a conversation's stored events, in the tracker store's order."""
    import json

    with contextlib.closing(psycopg2.connect(db)) as conn, conn.cursor() as cur:
        cur.execute("SELECT type_name, data FROM events WHERE sender_id = %s ORDER BY id", (sender,))
        out = []
        for type_name, data in cur.fetchall():
            event = json.loads(data)
            out.append((type_name, event.get("text") if type_name in ("user", "bot") else event.get("name")))
        return out


def assert_complete_and_ordered(db: str, sender: str, sent: list[str]) -> None:
    events = stored_events(db, sender)
    assert [text for kind, text in events if kind == "user"] == sent
    # every turn is closed: each user message is followed by the bot's turn and action_listen
    # before the next message
    turns, listening = 0, True
    for kind, name in events:
        if kind == "user":
            assert listening, f"a message arrived inside another turn: {events}"
            turns, listening = turns + 1, False
        elif kind == "action" and name == "action_listen":
            listening = True
    assert turns == len(sent) and listening


async def test_one_conversation_alternates_between_the_replicas(replicas: dict[str, Any]) -> None:
    sender = f"alt-{uuid.uuid4().hex[:8]}"
    urls = rasa_urls(replicas)
    sent: list[str] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        for i in range(12):
            text = TEXTS[i % len(TEXTS)]
            replies = await say(http, urls[i % 2], sender, text)
            assert replies, f"no answer to {text!r}"
            sent.append(text)
    assert_complete_and_ordered(replicas["db"], sender, sent)


async def test_concurrent_conversations_each_complete_and_ordered(replicas: dict[str, Any]) -> None:
    urls = rasa_urls(replicas)
    senders = [f"conc-{uuid.uuid4().hex[:8]}" for _ in range(8)]

    async def conversation(http: aiohttp.ClientSession, n: int, sender: str) -> list[str]:
        sent = []
        for i in range(6):
            text = TEXTS[(n + i) % len(TEXTS)]
            await say(http, urls[(n + i) % 2], sender, text)
            sent.append(text)
        return sent

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
        sent = await asyncio.gather(*(conversation(http, n, s) for n, s in enumerate(senders)))
    for sender, texts in zip(senders, sent):
        assert_complete_and_ordered(replicas["db"], sender, texts)


async def handoff_login(http: aiohttp.ClientSession, url: str) -> dict[str, str]:
    name, password = next(iter(AGENTS.items()))
    async with http.post(f"{url}/api/login", json={"name": name, "password": password}) as resp:
        assert resp.status == 200, await resp.text()
        return {"Authorization": f"Bearer {(await resp.json())['token']}"}


async def wait_for(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        assert time.monotonic() < deadline, "not reached in time"
        await asyncio.sleep(0.1)


def customer_lines(db: str, sender: str) -> list[str]:
    with contextlib.closing(psycopg2.connect(db)) as conn, conn.cursor() as cur:
        cur.execute("SELECT m.text FROM handoff_messages m JOIN handoff_conversations c ON c.id = m.conversation_id "
                    "WHERE c.sender_id = %s AND m.kind = 'customer' ORDER BY m.id", (sender,))
        return [r[0] for r in cur.fetchall()]


async def test_handoff_through_one_replica_reply_through_the_other(replicas: dict[str, Any]) -> None:
    a, b = replicas["stacks"]["a"].settings, replicas["stacks"]["b"].settings
    sender = f"hand-{uuid.uuid4().hex[:8]}"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        await say(http, a.rasa_url, sender, "hi")
        await say(http, a.rasa_url, sender, "/contact_human_agent")
        headers = await handoff_login(http, b.handoff_url)  # the agent works on the other replica

        async def queued() -> Any:
            async with http.get(f"{b.handoff_url}/api/queue", headers=headers) as resp:
                return next((c for c in (await resp.json())["conversations"] if c["sender_id"] == sender), None)

        conv = await wait_for(queued)
        async with http.post(f"{b.handoff_url}/api/conversations/{conv['id']}/accept", headers=headers) as resp:
            assert resp.status == 200, await resp.text()
        reply = f"agent reply {uuid.uuid4().hex[:6]}"
        async with http.post(f"{b.handoff_url}/api/conversations/{conv['id']}/reply", headers=headers,
                             json={"text": reply}) as resp:
            assert resp.status == 200, await resp.text()
        # the customer writes on through replica A; it reaches the agent through the broker
        await say(http, a.rasa_url, sender, "thanks, my order is late")
        await wait_for(lambda: _async(customer_lines(replicas["db"], sender) == ["thanks, my order is late"]))

        async def tracker_has_reply() -> bool:
            async with http.get(f"{a.rasa_url}/conversations/{sender}/tracker",
                                params={"token": a.rasa_token}) as resp:
                events = (await resp.json())["events"]
            return any(e.get("event") == "bot" and e.get("text") == reply for e in events)

        await wait_for(tracker_has_reply)
        async with http.post(f"{b.handoff_url}/api/conversations/{conv['id']}/close", headers=headers,
                             json={"disposition": "resolved"}) as resp:
            assert resp.status == 200, await resp.text()


async def _async(value: Any) -> Any:
    return value


async def test_a_widget_on_one_replica_hears_an_agent_through_the_other(replicas: dict[str, Any]) -> None:
    """socket.io through Redis: the customer's socket is on replica A; the agent works on handoff
    service B, which sends through Rasa replica B's HTTP API (the agent's greeting, a reply, the
    typing indicator). Each reaches the widget once."""
    a, b = replicas["stacks"]["a"].settings, replicas["stacks"]["b"].settings
    customer = await WidgetClient(a.rasa_url).connect()
    try:
        kind, session_id = await customer.request()
        assert kind == "confirm"
        assert (await customer.say("/contact_human_agent")) == {"ok": True}
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
            headers = await handoff_login(http, b.handoff_url)

            async def queued() -> Any:
                async with http.get(f"{b.handoff_url}/api/queue", headers=headers) as resp:
                    return next((c for c in (await resp.json())["conversations"] if c["sender_id"] == session_id),
                                None)

            conv = await wait_for(queued)
            customer.drain()
            async with http.post(f"{b.handoff_url}/api/conversations/{conv['id']}/accept", headers=headers) as resp:
                assert resp.status == 200, await resp.text()
            greeting = await next_from(customer, lambda m: m.get("agent") == "alice")
            assert greeting["text"]
            reply = f"agent reply {uuid.uuid4().hex[:6]}"
            async with http.post(f"{b.handoff_url}/api/conversations/{conv['id']}/reply", headers=headers,
                                 json={"text": reply}) as resp:
                assert resp.status == 200, await resp.text()
            got = await next_from(customer, lambda m: m.get("text") == reply)
            assert got.get("agent") == "alice"

            async with http.post(f"{b.rasa_url}/webhooks/socketio/typing", params={"token": b.rasa_token},
                                 json={"session_id": session_id, "typing": True, "agent": "alice"}) as resp:
                assert resp.status == 200, await resp.text()
            assert await asyncio.wait_for(customer.typing.get(), 30) == {"typing": True, "agent": "alice"}

            await asyncio.sleep(1.5)  # anything sent twice would have arrived by now
            assert [m for m in customer.drain() if m.get("text") == reply] == []
            assert customer.typing.empty()
            async with http.post(f"{b.handoff_url}/api/conversations/{conv['id']}/close", headers=headers,
                                 json={"disposition": "resolved"}) as resp:
                assert resp.status == 200, await resp.text()
    finally:
        await customer.close()


async def test_conversation_ownership_holds_across_replicas(replicas: dict[str, Any]) -> None:
    """A conversation with no messages yet, held on replica A, is refused to a connection on B
    without its token and granted with it; a message resent to B after a reconnection (same
    client id) is processed once."""
    a, b = replicas["stacks"]["a"].settings, replicas["stacks"]["b"].settings
    chosen = f"own-{uuid.uuid4().hex}"
    first = await WidgetClient(a.rasa_url).connect()
    other = await WidgetClient(b.rasa_url).connect()
    try:
        assert await first.request(chosen) == ("confirm", chosen)
        assert (await other.request(chosen))[0] == "refused"
        assert await other.request(chosen, first.session_token) == ("confirm", chosen)
        ack = await first.say("hi", client_id="m-1")
        assert ack == {"ok": True}
        again = await other.say("hi", client_id="m-1")  # the widget resending after a drop
        assert again == {"ok": True, "duplicate": True}
        assert [kind for kind, _text in stored_events(replicas["db"], chosen) if kind == "user"] == ["user"]
    finally:
        await first.close()
        await other.close()


async def next_from(customer: WidgetClient, wanted: Any, timeout: float = 30) -> dict[str, Any]:
    """The next message the widget receives that is ``wanted`` (the bot's replies to the
    customer's own turn may still be arriving: they go through Redis, the ack does not)."""
    deadline = time.monotonic() + timeout
    while True:
        message = await customer.expect(max(0.1, deadline - time.monotonic()))
        if wanted(message):
            return message


class ConsoleFeed:
    """One agent's console WebSocket on one handoff service, everything it hears kept in order."""

    def __init__(self, http: aiohttp.ClientSession, url: str, name: str) -> None:
        self.http, self.url, self.name = http, url, name
        self.heard: list[dict[str, Any]] = []
        self.headers: dict[str, str] = {}

    async def open(self) -> "ConsoleFeed":
        async with self.http.post(f"{self.url}/api/login", json={"name": self.name, "password": AGENTS[self.name]}) as r:
            assert r.status == 200, await r.text()
            token = (await r.json())["token"]
        self.headers = {"Authorization": f"Bearer {token}"}
        self.ws = await self.http.ws_connect(f"{self.url}/ws", params={"token": token})
        self.reader = asyncio.create_task(self._read())
        await wait_for(lambda: _async(any(e.get("type") == "snapshot" for e in self.heard)))
        return self

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type == aiohttp.WSMsgType.TEXT and msg.data != "pong":
                self.heard.append(msg.json())

    def about(self, sender: str, conv_id: int | None = None) -> list[dict[str, Any]]:
        out = []
        for e in self.heard:
            if e.get("type") == "conversation" and e["conversation"]["sender_id"] == sender:
                out.append(e)
            elif conv_id is not None and e.get("conversation_id") == conv_id:
                out.append(e)
        return out

    async def close(self) -> None:
        await self.ws.close()
        self.reader.cancel()


async def test_consoles_on_either_handoff_service_hear_every_event(replicas: dict[str, Any]) -> None:
    """Console updates through Redis: alice's console is on handoff service A, bob's on B. A new
    request, a customer's message and bob taking the conversation reach both, whichever service
    applied them (the intake and bob's accept are B's, the broker events the consuming one's)."""
    a, b = replicas["stacks"]["a"].settings, replicas["stacks"]["b"].settings
    sender = f"cons-{uuid.uuid4().hex[:8]}"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        alice = await ConsoleFeed(http, a.handoff_url, "alice").open()
        bob = await ConsoleFeed(http, b.handoff_url, "bob").open()
        try:
            await say(http, b.rasa_url, sender, "/contact_human_agent")  # announced to service B

            def waiting(feed: ConsoleFeed) -> Any:
                return next((e["conversation"] for e in feed.about(sender)
                             if e["conversation"]["status"] == "waiting"), None)

            conv = await wait_for(lambda: _async(waiting(alice)))
            await wait_for(lambda: _async(waiting(bob)))
            line = f"my parcel {uuid.uuid4().hex[:6]}"
            await say(http, a.rasa_url, sender, line)

            def heard_line(feed: ConsoleFeed) -> bool:
                return any(e.get("type") == "message" and e["message"]["text"] == line
                           for e in feed.about(sender, conv["id"]))

            await wait_for(lambda: _async(heard_line(alice) and heard_line(bob)))
            for feed in (alice, bob):  # once each
                assert len([e for e in feed.about(sender, conv["id"])
                            if e.get("type") == "message" and e["message"]["text"] == line]) == 1

            async with http.post(f"{b.handoff_url}/api/conversations/{conv['id']}/accept", headers=bob.headers) as r:
                assert r.status == 200, await r.text()
            await wait_for(lambda: _async(any(e.get("type") == "withdrawn" for e in alice.about(sender, conv["id"]))))
            await wait_for(lambda: _async(any(e["conversation"]["agent"] == "bob" for e in bob.about(sender))))
            async with http.post(f"{b.handoff_url}/api/conversations/{conv['id']}/close", headers=bob.headers,
                                 json={"disposition": "resolved"}) as r:
                assert r.status == 200, await r.text()
        finally:
            await alice.close()
            await bob.close()


async def test_a_killed_replica_loses_nothing(replicas: dict[str, Any]) -> None:
    stacks = replicas["stacks"]
    urls = rasa_urls(replicas)
    sender = f"kill-{uuid.uuid4().hex[:8]}"
    sent: list[str] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        for i in range(4):
            sent.append(TEXTS[i])
            await say(http, urls[i % 2], sender, TEXTS[i])
        for service in stacks["a"].services.values():  # replica A dies: Rasa, actions, handoff
            service.kill()
        for i in range(4, 8):
            sent.append(TEXTS[i])
            assert await say(http, urls[1], sender, TEXTS[i])
        # a handoff after the kill still reaches the surviving handoff service's consumer
        await say(http, urls[1], sender, "/contact_human_agent")
        sent.append("/contact_human_agent")
        await say(http, urls[1], sender, "is anyone there?")
        sent.append("is anyone there?")
        await wait_for(lambda: _async(customer_lines(replicas["db"], sender) == ["is anyone there?"]), timeout=60)
    events = stored_events(replicas["db"], sender)
    assert [text for kind, text in events if kind == "user"] == sent
