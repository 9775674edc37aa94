"""The conversation token and the lines the widget is sent back after a reload (no processes)."""

from __future__ import annotations

import time

import pytest

from bot import identity_token
from bot.channels import session_token
from bot.channels.socketio import TandemSocketIOInput
from bot.handoff.customer import widget_lines

SECRET = b"s" * 32
ID_SECRET = "identity-secret-of-at-least-32-bytes"


def test_a_conversation_token_proves_one_conversation_only() -> None:
    token = session_token.issue(SECRET, "abc", "sub:shop-user-1")
    assert session_token.verify(token, SECRET, "abc") == "sub:shop-user-1"
    for bad_token, secret, session in ((token, SECRET, "abd"), (token, b"t" * 32, "abc"),
                                       (token[:-2] + "xx", SECRET, "abc"), (None, SECRET, "abc"), ("", SECRET, "abc")):
        with pytest.raises(session_token.InvalidSessionToken):
            session_token.verify(bad_token, secret, session)
    old = session_token.issue(SECRET, "abc", "anon", now=time.time() - session_token.TTL_S - 10)
    with pytest.raises(session_token.InvalidSessionToken):
        session_token.verify(old, SECRET, "abc")


def test_message_metadata_keeps_only_the_connections_own_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TANDEM_IDENTITY_SECRET", raising=False)
    channel = TandemSocketIOInput()
    channel._identity_secret = ID_SECRET
    mine = identity_token.issue(ID_SECRET, "u1", customer_number="C1000001")
    theirs = identity_token.issue(ID_SECRET, "u2", customer_number="C1000002")
    principal, claims = channel.principal_for({"identity_token": mine})
    assert principal == "sub:u1" and claims is not None
    channel._principal["sid1"], channel._identity["sid1"], channel._claims["sid1"] = principal, mine, claims
    meta = channel.message_metadata("sid1", {
        "metadata": {"identity_token": theirs, "customer": {"customer_number": "C1000002"}, "evil": "x"},
        "customData": {"client_id": "m1", "display": "Yes please"},
    })
    assert meta["identity_token"] == mine and "evil" not in meta
    assert "customer" not in meta and meta["client_id"] == "m1"
    # an anonymous connection: no identity is added, a forged token is dropped
    channel._principal["sid2"] = "anon"
    meta = channel.message_metadata("sid2", {"customData": {"identity_token": mine + "x"}})
    assert "identity_token" not in meta and "customer" not in meta


def test_the_widget_gets_lines_since_a_point_with_their_buttons_and_agents() -> None:
    events = [
        {"event": "user", "text": "/affirm", "timestamp": 10.0, "metadata": {"display": "Yes", "client_id": "c1"}},
        {"event": "bot", "text": "Pick one", "timestamp": 11.0, "data": {"buttons": [{"title": "A", "payload": "/a"}]}},
        {"event": "action", "name": "action_listen", "timestamp": 11.5},
        {"event": "bot", "text": "Hi, this is Alice", "timestamp": 12.0, "metadata": {"agent": "alice", "handoff": True}},
        {"event": "bot", "text": "Alice has closed", "timestamp": 13.0, "metadata": {"handed_back": True}},
    ]
    lines = widget_lines(events, 0)
    assert [(line["kind"], line["text"]) for line in lines] == [
        ("customer", "Yes"), ("bot", "Pick one"), ("agent", "Hi, this is Alice"), ("bot", "Alice has closed")]
    assert lines[0]["client_id"] == "c1" and lines[1]["quick_replies"] == [{"title": "A", "payload": "/a"}]
    assert lines[2]["agent"] == "alice" and lines[3]["handed_back"] is True
    assert [line["timestamp"] for line in widget_lines(events, 12.0)] == [12.0, 13.0]
