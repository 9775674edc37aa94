"""Closed by default (issue 10, finding 6): loopback only, CORS to configured origins, a token
on every action call, no secret on a command line, state files readable by their owner only.

Before: Rasa and the action server listened on 0.0.0.0, Rasa allowed any origin, an
unauthenticated ``POST :5055/webhook`` with a forged ``customer_id`` slot returned that
customer's data, the Rasa token was in ``ps``, and the SQLite files were world-readable.
"""

from __future__ import annotations

import json
import stat
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from bot.security import ACTION_TOKEN_HEADER, cors_origins

pytestmark = pytest.mark.slow


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a socket listening on ``port`` (from the kernel's tables, like ss -ltn)."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if int(hex_port, 16) == port and fields[3] == "0A":  # 0A = LISTEN
                found.add(address if len(address) == width else "?")
    return found


@pytest.mark.parametrize("service", ["rasa", "actions", "handoff"])
def test_every_process_listens_on_loopback_only(secured_stack: Any, service: str) -> None:
    settings = secured_stack.settings
    port = {"rasa": settings.rasa_port, "actions": settings.action_port, "handoff": settings.handoff_port}[service]
    assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1, little-endian hex


@pytest.mark.parametrize("service", ["rasa", "actions", "handoff"])
def test_no_secret_is_on_a_command_line(secured_stack: Any, service: str) -> None:
    settings = secured_stack.settings
    process = secured_stack.services[service].process
    argv = Path(f"/proc/{process.pid}/cmdline").read_bytes().decode().split("\0")  # what ps shows
    for secret in (settings.rasa_token, settings.action_token):
        assert not any(secret in arg for arg in argv)


def call(url: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
         method: str | None = None) -> tuple[int, bytes, dict[str, str]]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read(), dict(err.headers)


def forged_call(customer_id: str) -> dict[str, Any]:
    """What an attacker sends rasa_sdk: any action, any slot."""
    sender = "attacker"
    return {
        "next_action": "action_my_data_request",
        "sender_id": sender,
        "version": "3.6.2",
        "domain": {},
        "tracker": {
            "sender_id": sender,
            "slots": {"customer_id": customer_id},
            "latest_message": {"text": "what data do you hold about me", "intent": {"name": "request_my_data"},
                               "entities": []},
            "latest_event_time": 0, "followup_action": None, "paused": False, "events": [],
            "latest_input_channel": "rest", "active_loop": {}, "latest_action": {}, "latest_action_name": None,
        },
    }


@pytest.mark.parametrize("token", [None, "", "wrong-token"])
def test_the_action_server_refuses_calls_without_its_token(secured_stack: Any, token: str | None) -> None:
    settings = secured_stack.settings
    headers = {} if token is None else {ACTION_TOKEN_HEADER: token}
    status, body, _ = call(settings.action_server_url, forged_call("C1000003"), headers)
    assert status == 401
    assert b"C1000003" not in body and b"responses" not in body and b"events" not in body
    base = settings.action_server_url.rsplit("/webhook", 1)[0]
    assert call(f"{base}/actions", headers=headers)[0] == 401
    assert call(f"{base}/health")[0] == 200  # the runner's health check stays open


def test_rasa_calls_the_action_server_with_its_token(secured_stack: Any) -> None:
    """A turn that runs a custom action is answered: Rasa sends the token from endpoints.yml."""
    settings = secured_stack.settings
    status, body, _ = call(f"{settings.rasa_url}/webhooks/rest/webhook",
                           {"sender": "token-check", "message": "what payment options can i use"})
    assert status == 200 and json.loads(body), body  # a refused action call would be silence


@pytest.mark.parametrize("path", ["/webhooks/rest/webhook", "/status"])
def test_cors_allows_only_the_configured_origins(secured_stack: Any, path: str) -> None:
    settings = secured_stack.settings
    allowed = cors_origins(settings.handoff_url, {})[0]
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    _, _, evil = call(f"{settings.rasa_url}{path}", method="OPTIONS",
                      headers={"Origin": "http://evil.example", **preflight})
    assert "Access-Control-Allow-Origin" not in evil
    _, _, good = call(f"{settings.rasa_url}{path}", method="OPTIONS", headers={"Origin": allowed, **preflight})
    assert good.get("Access-Control-Allow-Origin") == allowed


def test_the_widgets_endpoints_answer_no_other_site_by_default(secured_stack: Any) -> None:
    """The handoff service's /widget/api: CORS for TANDEM_CORS_ORIGINS only (here unset: its own origin)."""
    settings = secured_stack.settings
    own = cors_origins(settings.handoff_url, {})[0]
    url = f"{settings.handoff_url}/widget/api/status?session_id=x"
    preflight = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}
    status, _, evil = call(url, method="OPTIONS", headers={"Origin": "http://evil.example", **preflight})
    assert status == 403 and "Access-Control-Allow-Origin" not in evil
    status, _, good = call(url, method="OPTIONS", headers={"Origin": own, **preflight})
    assert status == 204 and good.get("Access-Control-Allow-Origin") == own


def test_state_files_are_readable_by_their_owner_only(secured_stack: Any) -> None:
    settings = secured_stack.settings
    call(f"{settings.rasa_url}/webhooks/rest/webhook", {"sender": "modes", "message": "hello"})
    var = settings.var_dir
    assert stat.S_IMODE(var.stat().st_mode) == 0o700
    expected = {"tracker.db", "events.db", "profiles.db", "handoff.db", "rasa_token", "action_token"}
    present = {p.name for p in var.iterdir()}
    assert expected - {"rasa_token"} <= present  # RASA_TOKEN is given by the test, not generated
    loose = [f"{p.relative_to(var)} {stat.S_IMODE(p.stat().st_mode):o}"
             for p in var.rglob("*") if p.is_file() and p.stat().st_mode & 0o077]
    assert not loose
    assert list((var / "logs").glob("*.log"))
