"""bot.stores.tracker.AppendOnlySQLTrackerStore on SQLite and on the real PostgreSQL: every event
kept, in order, across many turns and a restart, readable by Rasa's own SQLTrackerStore, and
published to Rasa's real SQL broker once each, in order, with its row id."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest
import sqlalchemy as sa
from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered

from bot.stores.tracker import EVENT_ID_KEY, AppendOnlySQLTrackerStore

DOMAIN = Domain.from_yaml("""
version: "3.1"
intents: [greet]
slots:
  turn:
    type: float
    influence_conversation: false
    mappings: [{type: custom}]
responses:
  utter_greet: [{text: hello}]
""")

TURNS = 120


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.db'}"
    else:
        yield request.getfixturevalue("pg_url")


def store_for(url: str, broker: Any = None) -> AppendOnlySQLTrackerStore:
    return AppendOnlySQLTrackerStore(domain=DOMAIN, dialect=url.split(":")[0], url=url, event_broker=broker)


def turn_events(i: int) -> list[Any]:
    return [
        UserUttered(f"message {i}", {"name": "greet", "confidence": 1.0}),
        SlotSet("turn", float(i)),
        ActionExecuted("utter_greet"),
        BotUttered(f"reply {i}"),
        ActionExecuted("action_listen"),
    ]


async def talk(store: AppendOnlySQLTrackerStore, sender: str, turns: range) -> list[dict[str, Any]]:
    """Each turn as Rasa's processor does it: retrieve (or create), add events, save."""
    for i in turns:
        tracker = await store.get_or_create_tracker(sender)
        for event in turn_events(i):
            tracker.update(event)
        await store.save(tracker)
    tracker = await store.retrieve(sender)
    assert tracker is not None
    return [e.as_dict() for e in tracker.events]


def expected_texts(turns: range) -> list[str]:
    return [f"message {i}" for i in turns]


async def test_every_event_kept_in_order_across_turns_and_a_restart(db_url: str, tmp_path: Path) -> None:
    broker = SQLEventBroker(host=f"sqlite:///{tmp_path / 'events.db'}")
    store = store_for(db_url, broker)
    first = await talk(store, "amelia", range(TURNS // 2))
    await talk(store, "other", range(3))
    store.engine.dispose()

    restarted = store_for(db_url, broker)  # a new process: nothing but the database
    events = await talk(restarted, "amelia", range(TURNS // 2, TURNS))
    assert events[: len(first)] == first
    assert [e["text"] for e in events if e["event"] == "user"] == expected_texts(range(TURNS))
    assert [e["value"] for e in events if e["event"] == "slot"] == [float(i) for i in range(TURNS)]
    # one action_listen at creation, then five events per turn, nothing twice
    assert len(events) == 1 + 5 * TURNS

    # Rasa's own store reads the same conversation from the same table
    rasa_store = SQLTrackerStore(domain=DOMAIN, dialect=db_url.split(":")[0], host=db_url)
    rasa_tracker = await rasa_store.retrieve("amelia")
    assert rasa_tracker is not None and [e.as_dict() for e in rasa_tracker.events] == events
    rasa_store.engine.dispose()

    # the broker got every event once, in order, with the tracker row's id
    with broker.engine.connect() as conn:
        published = [json.loads(data) for (data,) in conn.execute(sa.text("SELECT data FROM events ORDER BY id"))]
    mine = [p for p in published if p["sender_id"] == "amelia"]
    assert [{k: v for k, v in p.items() if k not in ("sender_id", EVENT_ID_KEY)} for p in mine] == events
    ids = [p[EVENT_ID_KEY] for p in published]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    with restarted.engine.connect() as conn:
        row_ids = [r for (r,) in conn.execute(
            sa.text("SELECT id FROM events WHERE sender_id = 'amelia' ORDER BY id"))]
    assert [p[EVENT_ID_KEY] for p in mine] == row_ids
    restarted.engine.dispose()
    broker.engine.dispose()


async def test_saving_an_unchanged_tracker_writes_nothing(db_url: str) -> None:
    store = store_for(db_url)
    await talk(store, "amelia", range(3))
    tracker = await store.retrieve("amelia")
    assert tracker is not None
    await store.save(tracker)
    again = await store.retrieve("amelia")
    assert again is not None and len(again.events) == len(tracker.events) == 16
    store.engine.dispose()


async def test_a_new_session_is_appended_and_retrieved_alone(db_url: str) -> None:
    store = store_for(db_url)
    await talk(store, "amelia", range(2))
    tracker = await store.retrieve("amelia")
    assert tracker is not None
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)
    await talk(store, "amelia", range(2, 4))
    current = await store.retrieve("amelia")
    full = await store.retrieve_full_tracker("amelia")
    assert current is not None and full is not None
    assert [e.text for e in current.events if isinstance(e, UserUttered)] == expected_texts(range(2, 4))
    assert [e.text for e in full.events if isinstance(e, UserUttered)] == expected_texts(range(4))
    store.engine.dispose()
