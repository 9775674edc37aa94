"""bot.rasa_server: Rasa's events endpoint validates as before, without re-checking its schema."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import jsonschema
import pytest


@pytest.fixture(scope="module")
def validate() -> Any:
    import rasa.server

    from bot.rasa_server import install

    from rasa.core.actions.action import RemoteAction

    originals = rasa.server.validate_events_in_request_body, RemoteAction._validate_action_result
    install()
    yield rasa.server.validate_events_in_request_body
    rasa.server.validate_events_in_request_body, RemoteAction._validate_action_result = originals


GOOD = [
    [{"event": "bot", "text": "Hi, this is Alice.", "metadata": {"agent": "alice"}}],
    {"event": "resume"},
    [{"event": "slot", "name": "handoff_request", "value": None}, {"event": "action", "name": "action_listen"}],
]
BAD = [
    [{"event": "bot", "timestamp": "yesterday"}],
    [{"event": "nonsense"}],
    [{"no_event_key": True}],
    [{"event": "slot", "value": 1}],
    "just text",
]


@pytest.mark.parametrize("body", GOOD)
def test_valid_events_pass(validate: Any, body: Any) -> None:
    validate(SimpleNamespace(json=body))


@pytest.mark.parametrize("body", BAD)
def test_malformed_events_get_the_same_400_as_before(validate: Any, body: Any) -> None:
    from rasa.server import EVENTS_SCHEMA, ErrorResponse

    events = body if isinstance(body, list) else [body]
    with pytest.raises(jsonschema.ValidationError) as expected:
        jsonschema.validate(events, EVENTS_SCHEMA)  # Rasa's own check
    with pytest.raises(ErrorResponse) as err:
        validate(SimpleNamespace(json=body))
    assert err.value.status == 400
    assert str(expected.value) in err.value.error_info["message"]


def test_action_server_responses_are_validated_as_before(validate: Any) -> None:
    from rasa.core.actions.action import RemoteAction

    action = RemoteAction("action_handoff", None)
    good = {"events": [{"event": "slot", "name": "handoff_request", "value": {"handoff_id": "h"}},
                       {"event": "pause"}],
            "responses": [{"text": "You're number 2 in the queue."}]}
    assert action._validate_action_result(good) is True
    bad = {"events": [{"event": "slot", "name": 5}], "responses": []}
    with pytest.raises(jsonschema.ValidationError) as expected:
        jsonschema.validate(bad, RemoteAction.action_response_format_spec())  # Rasa's own check
    with pytest.raises(jsonschema.ValidationError) as err:
        action._validate_action_result(bad)
    assert err.value.message.startswith(expected.value.message)
    assert "Failed to validate Action server response" in err.value.message


def test_rasa_sqlite_files_are_prepared_in_wal_mode(tmp_path: Any) -> None:
    import sqlite3

    from bot.runner import prepare_sqlite

    tracker, broker = tmp_path / "var" / "tracker.db", tmp_path / "var" / "events.db"
    prepare_sqlite(f"sqlite:///{tracker}?timeout=30", f"sqlite:///{broker}", "postgresql://u@h/db")
    for path in (tracker, broker):
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    prepare_sqlite(f"sqlite:///{tracker}")  # idempotent
