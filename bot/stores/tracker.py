"""Rasa's SQL tracker store, saving a turn by appending only its new events.

Rasa 3.6's ``SQLTrackerStore.save`` does, on every turn, three reads of the conversation before
one write: ``stream_events`` retrieves the whole tracker again (every row parsed from JSON and
replayed into a ``DialogueStateTracker``) only to diff it against the one being saved, then
``_additional_events`` counts the stored rows, then the new rows are inserted. The cost grows
with the conversation's length (bench/scale/REPORT.md).

:class:`AppendOnlySQLTrackerStore` keeps Rasa's table, its reads and its ordering (rows by
their integer id, sessions by Rasa's own query), so anything that reads Rasa's tracker store
still reads this one, and changes only ``save``: one count of the stored rows (the same query
Rasa uses), the events after it inserted in one transaction, then published to the event
broker in order (to Rasa's SQL broker in one transaction, not one commit per event). Every event is durable before it is published; the broker body is Rasa's
(``sender_id`` and ``Event.as_dict()``) plus ``tandem_event_id``, the event's row id, which a
consumer can use to apply a redelivered event only once (``bot/handoff/broker_pika.py``).

Safe with several Rasa replicas only behind a shared lock store (Redis): Rasa holds a
conversation's lock while it retrieves, handles and saves a turn, so no two saves of one
conversation interleave. Configure in ``endpoints.yml``::

    tracker_store:
      type: bot.stores.tracker.AppendOnlySQLTrackerStore
      dialect: postgresql
      url: postgresql://user:pass@host:5432/db
"""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

logger = logging.getLogger(__name__)

#: key of the row id in every published event body
EVENT_ID_KEY = "tandem_event_id"


class AppendOnlySQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` whose ``save`` appends the new events and publishes them, and nothing else."""

    def __init__(self, *args: Any, url: str | None = None, **kwargs: Any) -> None:
        # endpoints.yml gives the full SQLAlchemy URL as ``url``; Rasa's factory passes it as ``host``
        if url and not kwargs.get("host"):
            kwargs["host"] = url
        super().__init__(*args, **kwargs)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Insert the events the store does not hold yet, then publish them (durable first)."""
        published: list[dict[str, Any]] = []
        with self.session_scope() as session:
            stored = self._event_query(session, tracker.sender_id, fetch_events_from_all_sessions=False).count()
            events = list(tracker.events)[stored:]
            if not events:
                return
            rows = []
            for event in events:
                data = event.as_dict()
                rows.append((data, self.SQLEvent(
                    sender_id=tracker.sender_id,
                    type_name=event.type_name,
                    timestamp=data.get("timestamp"),
                    intent_name=(data.get("parse_data") or {}).get("intent", {}).get(INTENT_NAME_KEY),
                    action_name=data.get("name"),
                    data=json.dumps(data),
                )))
            session.add_all([row for _data, row in rows])
            session.flush()  # assigns the ids, in insertion order
            for data, row in rows:
                published.append({"sender_id": tracker.sender_id, **data, EVENT_ID_KEY: row.id})
            session.commit()
        if self.event_broker is not None:
            publish_all(self.event_broker, published)
        logger.debug("saved %d new events of %s", len(published), tracker.sender_id)


def publish_all(broker: Any, bodies: list[dict[str, Any]]) -> None:
    """Publish a turn's events in order. Rasa's SQL broker commits each event on its own (one
    disk sync each on SQLite); here its rows go in one transaction, as ``publish`` writes them."""
    from rasa.core.brokers.sql import SQLEventBroker

    if isinstance(broker, SQLEventBroker):
        with broker.session_scope() as session:
            session.add_all([broker.SQLBrokerEvent(sender_id=body.get("sender_id"), data=json.dumps(body))
                             for body in bodies])
            session.commit()
        return
    for body in bodies:
        broker.publish(body)
