"""Agents see what is theirs (issue 10, finding 10): before, agent bob could read alice's
accepted conversation and add a note to it, logins were not throttled (10 wrong passwords,
then success) and logging out did not revoke the 12-hour token."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.handoff.app import AUTH, create_app
from bot.handoff.config import parse_agents, with_supervisors
from tests.handoff.conftest import AGENTS, Handoff, RasaStandIn, handoff_request, make_config, make_settings


async def waiting(handoff: Handoff, headers: dict[str, str], sender: str) -> int:
    found: list[int] = []

    async def listed() -> bool:
        queue = await (await handoff.client.get("/api/queue", headers=headers)).json()
        found[:] = [c["id"] for c in queue["conversations"] if c["sender_id"] == sender and c["status"] == "waiting"]
        return bool(found)

    await handoff.until(listed)
    return found[0]


async def accepted_by_alice(handoff: Handoff) -> tuple[int, str, dict[str, str]]:
    alice = await handoff.login("alice")
    sender = f"cust-{uuid.uuid4().hex[:8]}"
    await asyncio.to_thread(handoff.rasa.request_handoff, sender, handoff_request(uuid.uuid4().hex, sender, "orders"))
    conv_id = await waiting(handoff, alice, sender)
    assert (await handoff.client.post(f"/api/conversations/{conv_id}/accept", headers=alice)).status == 200
    return conv_id, sender, alice


async def test_bob_cannot_read_or_note_alices_accepted_conversation(handoff: Handoff) -> None:
    bob = await handoff.login("bob")  # serves orders, the conversation's queue
    conv_id, sender, alice = await accepted_by_alice(handoff)
    read = await handoff.client.get(f"/api/conversations/{conv_id}", headers=bob)
    assert read.status == 403
    assert "not yours" in (await read.json())["message"]
    note = await handoff.client.post(f"/api/conversations/{conv_id}/note", json={"text": "peek"}, headers=bob)
    assert note.status == 403
    queue = await (await handoff.client.get("/api/queue", headers=bob)).json()
    assert sender not in {c["sender_id"] for c in queue["conversations"]}
    # alice still can, of course
    assert (await handoff.client.get(f"/api/conversations/{conv_id}", headers=alice)).status == 200
    detail = await (await handoff.client.get(f"/api/conversations/{conv_id}", headers=alice)).json()
    assert "peek" not in [n["text"] for n in detail["notes"]]


async def test_bobs_console_hears_only_that_it_was_taken(handoff: Handoff) -> None:
    bob = await handoff.login("bob")
    ws = await handoff.client.ws_connect("/ws", params={"token": bob["Authorization"][7:]})
    assert (await ws.receive_json(timeout=5))["type"] == "snapshot"
    conv_id, sender, alice = await accepted_by_alice(handoff)
    await handoff.client.post(f"/api/conversations/{conv_id}/note", json={"text": "secret note"}, headers=alice)
    await asyncio.to_thread(handoff.rasa.customer_says, sender, "my card number is on the way")
    await asyncio.sleep(1.0)  # the consumer applies the customer's message
    got: list[dict[str, Any]] = []
    while True:
        try:
            got.append(await ws.receive_json(timeout=0.5))
        except asyncio.TimeoutError:
            break
    assert {"type": "withdrawn", "conversation_id": conv_id} in got
    about_it = [m for m in got if m.get("conversation_id") == conv_id or (m.get("conversation") or {}).get("id") == conv_id]
    # while it waited bob saw it (it is in his queue); once alice had it, only "withdrawn"
    after = about_it[next(i for i, m in enumerate(about_it) if m["type"] == "withdrawn"):]
    assert all(m["type"] == "withdrawn" for m in after), after
    await ws.close()


@pytest.fixture
async def supervised_handoff(
    aiohttp_client: Any, tmp_path: Any, rasa: tuple[RasaStandIn, str], broker_url: str, profiles_db: Any
) -> Handoff:
    stand_in, url = rasa
    config = make_config(agents=with_supervisors(parse_agents(AGENTS), frozenset({"carol"})))
    app: web.Application = create_app(make_settings(tmp_path, url, broker_url, profiles_db), config)
    return Handoff(await aiohttp_client(app), stand_in, app)


async def test_a_supervisor_sees_every_conversation(supervised_handoff: Handoff) -> None:
    handoff = supervised_handoff
    carol = await handoff.login("carol")  # complaints and account only, but a supervisor
    conv_id, sender, _alice = await accepted_by_alice(handoff)
    assert (await handoff.client.get(f"/api/conversations/{conv_id}", headers=carol)).status == 200
    queue = await (await handoff.client.get("/api/queue", headers=carol)).json()
    assert sender in {c["sender_id"] for c in queue["conversations"]}
    bob = await handoff.login("bob")
    assert (await handoff.client.get(f"/api/conversations/{conv_id}", headers=bob)).status == 403


class Clock:
    def __init__(self) -> None:
        self.offset = 0.0
        self.start = datetime.utcnow()

    def utc(self) -> datetime:
        return self.start + timedelta(seconds=self.offset)


def pin_clocks(handoff: Handoff) -> Clock:
    clock = Clock()
    handoff.app[AUTH].now = clock.utc  # sessions and login failures both go by it
    return clock


async def test_ten_wrong_passwords_then_the_right_one_is_refused_for_a_while(handoff: Handoff) -> None:
    clock = pin_clocks(handoff)
    statuses = []
    for _ in range(10):
        resp = await handoff.client.post("/api/login", json={"name": "bob", "password": "guess"})
        statuses.append(resp.status)
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    right = await handoff.client.post("/api/login", json={"name": "bob", "password": "pw-b"})
    assert right.status == 429
    assert "too many failed logins" in (await right.json())["message"]
    assert 0 < int(right.headers["Retry-After"]) <= 15 * 60
    # another agent from elsewhere is not locked out by bob's attempts
    assert (await handoff.client.post("/api/login", json={"name": "carol", "password": "pw-c"})).status == 200
    clock.offset += 15 * 60 + 1  # the window has passed
    assert (await handoff.client.post("/api/login", json={"name": "bob", "password": "pw-b"})).status == 200


async def test_failures_from_one_address_lock_it_out_whatever_the_names(handoff: Handoff) -> None:
    pin_clocks(handoff)
    for i in range(20):  # four names, five tries each: under the per-name limit every time
        resp = await handoff.client.post("/api/login", json={"name": f"nobody{i % 4}", "password": "x"})
        assert resp.status == 401
    assert (await handoff.client.post("/api/login", json={"name": "alice", "password": "pw-a"})).status == 429


async def test_a_token_used_after_logout_gets_401(handoff: Handoff) -> None:
    alice = await handoff.login("alice")
    token = alice["Authorization"][7:]
    ws = await handoff.client.ws_connect("/ws", params={"token": token})
    await ws.receive_json(timeout=5)
    assert (await handoff.client.get("/api/queue", headers=alice)).status == 200
    out = await handoff.client.post("/api/logout", headers=alice)
    assert out.status == 200
    await ws.receive(timeout=5)  # the open console is closed with the session
    assert ws.closed
    after = await handoff.client.get("/api/queue", headers=alice)
    assert after.status == 401
    assert "logged out" in (await after.json())["message"]
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await handoff.client.ws_connect("/ws", params={"token": token})
    assert refused.value.status == 401
    # a new login is a new session
    assert (await handoff.client.get("/api/queue", headers=await handoff.login("alice"))).status == 200


async def test_sessions_expire_when_idle_and_after_their_lifetime(handoff: Handoff) -> None:
    clock = pin_clocks(handoff)
    alice = await handoff.login("alice")
    for _ in range(3):  # in use: each request keeps it alive past the idle limit
        clock.offset += 20 * 60
        assert (await handoff.client.get("/api/queue", headers=alice)).status == 200
    clock.offset += 31 * 60  # idle longer than 30 minutes
    idle = await handoff.client.get("/api/queue", headers=alice)
    assert idle.status == 401 and "inactivity" in (await idle.json())["message"]
    busy = await handoff.login("alice")
    for _ in range(25):  # used every 29 minutes, still over at 12 hours
        clock.offset += 29 * 60
        status = (await handoff.client.get("/api/queue", headers=busy)).status
        if status == 401:
            break
    assert status == 401


async def test_no_cookie_and_no_cross_site_form(handoff: Handoff) -> None:
    """Nothing authenticates by cookie (so no CSRF), and a form body, which a page of another
    site can post without asking, is refused."""
    login = await handoff.client.post("/api/login", json={"name": "alice", "password": "pw-a"})
    assert not login.cookies and "Set-Cookie" not in login.headers
    form = await handoff.client.post("/api/login", data={"name": "alice", "password": "pw-a"})
    assert form.status == 400
    alice = await handoff.login("alice")
    conv_id, _sender, alice = await accepted_by_alice(handoff)
    note = await handoff.client.post(f"/api/conversations/{conv_id}/note", data={"text": "x"}, headers=alice)
    assert note.status == 400
    anonymous = await handoff.client.post(f"/api/conversations/{conv_id}/close", json={"disposition": "resolved"})
    assert anonymous.status == 401


def _login(url: str, name: str, password: str) -> int:
    import json
    import urllib.error
    import urllib.request

    request = urllib.request.Request(f"{url}/api/login", data=json.dumps({"name": name, "password": password}).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.slow
def test_guesses_spread_over_two_handoff_processes_add_up(tmp_path: Any) -> None:
    """Before, each process counted its own failures (in memory): three wrong passwords at one
    instance and two at another, then the right one, logged in. The failures are now rows of the
    shared handoff database, so the fifth guess locks the name out at every instance."""
    from bot.runner import Stack
    from tests.conftest import free_port, isolated_settings

    env = {"TANDEM_VAR_DIR": str(tmp_path), "TANDEM_AGENTS": AGENTS, "TANDEM_DEMO_SHOP": "0"}
    first = isolated_settings(tmp_path)
    second = isolated_settings(tmp_path, HANDOFF_PORT=str(free_port()))
    assert first.handoff_db_url == second.handoff_db_url  # one store, two processes
    with Stack(first, services=("handoff",), extra_env={**env, "HANDOFF_PORT": str(first.handoff_port)}), \
            Stack(second, services=("handoff",), extra_env={**env, "HANDOFF_PORT": str(second.handoff_port)}):
        a, b = first.handoff_url, second.handoff_url
        assert [_login(a, "bob", "guess") for _ in range(3)] == [401] * 3
        assert [_login(b, "bob", "guess") for _ in range(2)] == [401] * 2
        assert _login(a, "bob", "pw-b") == 429 and _login(b, "bob", "pw-b") == 429
        assert _login(b, "alice", "pw-a") == 200  # another name is not locked out


async def test_an_old_token_cannot_log_out_the_agents_new_session(handoff: Handoff) -> None:
    """Logging out puts the agent's conversations back in the queue: a token already logged
    out (copied, say) must not do that to the session the agent has now."""
    old = await handoff.login("alice")
    assert (await handoff.client.post("/api/logout", headers=old)).status == 200
    conv_id, _sender, alice = await accepted_by_alice(handoff)  # a new session, a conversation
    again = await handoff.client.post("/api/logout", headers=old)
    assert again.status == 401
    detail = await (await handoff.client.get(f"/api/conversations/{conv_id}", headers=alice)).json()
    assert detail["conversation"]["status"] == "assigned" and detail["conversation"]["agent"] == "alice"
