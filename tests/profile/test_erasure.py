""""Forget me" forgets (issue 10, finding 8): before, right after an erasure request tracker.db
and events.db still held the e-mail and phone number and handoff.db the phone number in
``handoff_messages``; nothing carried the request out.

Here a person (Hannah) has silo records, a recorded erasure request, a conversation with the bot
(Rasa's SQL tracker store and SQL event broker, the real classes), and a handoff with an agent's
note. ``python -m bot privacy run`` carries the request out; then every table of every store
is searched, every text column, for her identifiers. Only the invoice the tax law keeps remains,
with its order number, stripped of anything personal; another customer's data is untouched.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.cli import main
from bot.handoff.models import HandoffRequest, MessageKind, Topic
from bot.handoff.store import QueueStore
from bot.profile import ProfileRepository
from bot.profile.erasure import INVOICE_RETENTION_YEARS
from tests.profile.helpers import account, ago, build_store, conversation, crm, mkt, order_rows

HANNAH = {
    "email": "hannahlee@gmail.com", "phone": "+447700900123", "given": "Hannah", "family": "Leeworth",
    "number": "C1000042", "sender": "whatsapp:+447700900123", "web": "web-7f3a9c",
}
OLD_ORDER, NEW_ORDER, BOBS_ORDER = "5001482554", "5001999001", "5001777777"


def silo_rows() -> dict[str, list[dict[str, Any]]]:
    old = order_rows(1, 10, OLD_ORDER, ago(365 * (INVOICE_RETENTION_YEARS + 2)), "delivered", [("shoes", 5000, False)])
    new = order_rows(2, 10, NEW_ORDER, ago(30), "delivered", [("coats", 9000, False)])
    bobs = order_rows(3, 11, BOBS_ORDER, ago(20), "delivered", [("hats", 1500, False)])
    rows: dict[str, list[dict[str, Any]]] = {
        "crm_contact": [crm(1, HANNAH["number"], HANNAH["given"], HANNAH["family"], HANNAH["email"], HANNAH["phone"]),
                        crm(2, "C1000099", "Bob", "Marchetti", "bob.marchetti@example.com", "+447700900999",
                            line="9 Low Lane")],
        "mkt_contact": [mkt(1, HANNAH["email"], HANNAH["given"]), mkt(2, "bob.marchetti@example.com", "Bob")],
        "com_account": [account(10, HANNAH["email"], HANNAH["phone"], f"{HANNAH['given']} {HANNAH['family']}",
                                HANNAH["number"]),
                        account(11, "bob.marchetti@example.com", "+447700900999", "Bob Marchetti", "C1000099")],
        "cc_conversation": [conversation(1, "whatsapp", HANNAH["sender"], phone=HANNAH["phone"],
                                         name=f"{HANNAH['given']} {HANNAH['family']}")],
    }
    for part in (old, new, bobs):
        for table, table_rows in part.items():
            rows.setdefault(table, []).extend(table_rows)
    return rows


def rasa_stores(tracker_url: str, broker_url: str) -> None:
    """Hannah's and Bob's conversations with the bot, saved and published by Rasa's classes."""
    from rasa.core.brokers.sql import SQLEventBroker
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    broker = SQLEventBroker(host=broker_url)
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=sa.engine.make_url(tracker_url).database,
                            event_broker=broker)
    long_ago = time.time() - 3600
    conversations = {
        HANNAH["sender"]: [f"my email is {HANNAH['email']}", f"call me on {HANNAH['phone']}", "forget me"],
        HANNAH["web"]: [f"where is order {NEW_ORDER}", f"I'm {HANNAH['given']} {HANNAH['family']}"],
        "bob-sender": [f"order {BOBS_ORDER} please, bob.marchetti@example.com"],
    }
    for sender, texts in conversations.items():
        tracker = DialogueStateTracker(sender, [])
        for i, text in enumerate(texts):
            tracker.update(UserUttered(text, {"name": "inform"}, timestamp=long_ago + i))
            tracker.update(BotUttered(f"noted: {text}", timestamp=long_ago + i + 0.5))
        asyncio.run(store.save(tracker))
    store.engine.dispose()
    broker.engine.dispose()


async def handoff_records(url: str, customer_id: str) -> None:
    store = QueueStore.from_url(url)
    await store.create_schema()
    try:
        for sender, cust in ((HANNAH["sender"], customer_id), ("bob-sender", "someone-else")):
            req = HandoffRequest(handoff_id=f"h-{sender}", sender_id=sender, topic=Topic.ORDERS,
                                 reason="explicit_request", requested_at=time.time() - 3600, customer_id=cust,
                                 first_message=f"my phone is {HANNAH['phone']}" if cust == customer_id else "hi")
            async with store.begin() as conn:
                conv, _created = await store.enqueue(conn, req, event_id=1)
                await store.add_message(conn, conv.id, MessageKind.CUSTOMER, f"ring me on {HANNAH['phone']}"
                                        if cust == customer_id else "hello", None)
                await store.add_message(conn, conv.id, MessageKind.NOTE, f"{HANNAH['given']} is upset"
                                        if cust == customer_id else "Bob is fine", "alice")
                await store.close_unassigned(conn, conv.id, "resolved")
    finally:
        await store.dispose()


def every_text(url: str) -> list[tuple[str, Any, str]]:
    """(table, row id, text) for every text value of every row of every table."""
    from bot.profile.build import sync_engine

    engine = sync_engine(url)
    try:
        meta = sa.MetaData()
        meta.reflect(bind=engine)
        found = []
        with engine.connect() as conn:
            for table in meta.sorted_tables:
                key = next(iter(table.primary_key.columns), None)
                for row in conn.execute(sa.select(table)).mappings():
                    for value in row.values():
                        if isinstance(value, str):
                            found.append((table.name, row[key.name] if key is not None else None, value))
        return found
    finally:
        engine.dispose()


@pytest.fixture
def stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    urls = {
        "profile": f"sqlite+aiosqlite:///{tmp_path / 'profiles.db'}",
        "handoff": f"sqlite+aiosqlite:///{tmp_path / 'handoff.db'}",
        "tracker": f"sqlite:///{tmp_path / 'tracker.db'}",
        "broker": f"sqlite:///{tmp_path / 'events.db'}",
        "insights": f"sqlite+aiosqlite:///{tmp_path / 'insights.db'}",
    }
    for name, value in {"TANDEM_VAR_DIR": str(tmp_path), "TANDEM_PROFILE_DB_URL": urls["profile"],
                        "TANDEM_HANDOFF_DB_URL": urls["handoff"], "TRACKER_DB_URL": urls["tracker"],
                        "EVENT_BROKER_DB_URL": urls["broker"], "TANDEM_INSIGHTS_DB_URL": urls["insights"]}.items():
        monkeypatch.setenv(name, value)
    return urls


def test_forget_me_leaves_nothing_but_the_invoice_the_law_keeps(
    stores: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    links = build_store(stores["profile"].replace("+aiosqlite", ""), **silo_rows())
    hannah, bob = links[("crm", 1)], links[("crm", 2)]
    assert hannah != bob

    async def record() -> None:
        # two hours ago, before her conversation's last stored event (an hour ago): a request newer
        # than every stored event belongs to a turn still in flight (the next test)
        two_hours_ago = datetime.utcnow().replace(microsecond=0) - timedelta(hours=2)
        repo = ProfileRepository.from_url(stores["profile"], clock=lambda: two_hours_ago)
        try:
            await repo.record_conversation(hannah, HANNAH["web"], "socketio")
            await repo.record_request(hannah, "order_cancellation", order_id=OLD_ORDER, conversation_id=HANNAH["web"])
            await repo.request_erasure(hannah, HANNAH["sender"])  # what action_forget_me records
            await repo.record_conversation(bob, "bob-sender", "rest")
        finally:
            await repo.close()

    asyncio.run(record())
    rasa_stores(stores["tracker"], stores["broker"])
    asyncio.run(handoff_records(stores["handoff"], hannah))
    Path(sa.engine.make_url(stores["insights"]).database).touch()
    identifiers = [HANNAH["email"], HANNAH["phone"], "7700900123", HANNAH["given"], HANNAH["family"],
                   HANNAH["number"], HANNAH["sender"], HANNAH["web"], OLD_ORDER, NEW_ORDER,
                   "INV-0000001", "INV-0000002", "DP1", "DP2", "T-00000001", "1 High Street"]
    before = [t for url in stores.values() for t in every_text(url)]
    assert all(any(i.lower() in text.lower() for _t, _r, text in before) for i in identifiers)

    assert main(["privacy", "run", "--idle-minutes", "30"]) == 0
    report = capsys.readouterr().out
    assert hannah in report and bob not in report
    assert "tax law" in report

    leftovers = []
    for name, url in stores.items():
        for table, row_id, text in every_text(url):
            for ident in identifiers:
                if ident.lower() in text.lower():
                    leftovers.append((name, table, row_id, ident, text[:80]))
    # the invoice the tax law keeps, and the order it bills, by number; nothing personal
    allowed = {("profile", "com_order", 2, NEW_ORDER), ("profile", "com_invoice", 2, "INV-0000002")}
    assert {(n, t, r, i) for n, t, r, i, _ in leftovers} == allowed, leftovers
    # Bob is untouched, everywhere
    after = [t for url in stores.values() for t in every_text(url)]
    for ident in ("bob.marchetti@example.com", BOBS_ORDER, "bob-sender", "Bob is fine"):
        assert any(ident in text for _t, _r, text in after), ident
    # carried out once: running again finds nothing to do
    assert main(["privacy", "run"]) == 0
    assert '"erased": []' in capsys.readouterr().out


def test_an_erasure_waits_until_the_conversation_has_ended(stores: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    links = build_store(stores["profile"].replace("+aiosqlite", ""), **silo_rows())
    hannah = links[("crm", 1)]

    async def record() -> None:
        repo = ProfileRepository.from_url(stores["profile"])
        try:
            await repo.request_erasure(hannah, HANNAH["sender"])
        finally:
            await repo.close()

    asyncio.run(record())
    rasa_stores(stores["tracker"], stores["broker"])  # her last message was an hour ago
    assert main(["privacy", "run", "--idle-minutes", "120"]) == 0
    assert '"erased": []' in capsys.readouterr().out
    assert main(["privacy", "erase", "nobody-at-all"]) == 1


def test_an_erasure_waits_for_the_turn_that_recorded_it(stores: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    """``action_forget_me`` records the request in the middle of a turn, and Rasa stores the turn's
    events only when it ends. A run in between, seeing only the conversation's earlier events (an
    hour old, long past the quiet time), used to erase the tracker; then Rasa wrote the whole
    conversation back (seen on a loaded machine). A request newer than every stored event waits."""
    links = build_store(stores["profile"].replace("+aiosqlite", ""), **silo_rows())
    hannah = links[("crm", 1)]

    async def record() -> None:
        repo = ProfileRepository.from_url(stores["profile"])  # now: her turn is still being handled
        try:
            await repo.request_erasure(hannah, HANNAH["sender"])
        finally:
            await repo.close()

    asyncio.run(record())
    rasa_stores(stores["tracker"], stores["broker"])  # what is stored of her: an hour old
    assert main(["privacy", "run", "--idle-minutes", "30"]) == 0
    assert '"erased": []' in capsys.readouterr().out
