"""The not-understood inbox: what enters it, masking, grouping, labels and the NLU export."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

from bot.cli import main
from bot.insights import schema
from bot.insights.db import make_engine
from bot.insights.inbox import InboxError, Entry, export_nlu, group, label, open_entries
from bot.insights.mask import mask
from tests.insights.helpers import T0, Sources
from tests.insights.test_cli import var_env  # noqa: F401 - fixture


@pytest.mark.parametrize("raw, masked", [
    ("mail me at jo.bloggs+shop@example.co.uk please", "mail me at [email] please"),
    ("card 4111 1111 1111 1111 was charged", "card [card] was charged"),
    ("card 4111-1111-1111-1111", "card [card]"),
    ("call +44 7700 900123 or 07700900123", "call [phone] or [phone]"),
    ("ring (020) 7946 0000 now", "ring [phone] now"),
    ("order #4000000101 never came", "order [number] never came"),
    ("order 4000000101, phone 07700 900 123", "order [number], phone [phone]"),
    ("my customer number is C1000002", "my customer number is [reference]"),
    ("refund RF-20931?", "refund [reference]?"),
    ("I ordered 2 in 2024 for 35 pounds", "I ordered 2 in 2024 for 35 pounds"),
])
def test_masking_personal_data(raw: str, masked: str) -> None:
    assert mask(raw) == masked


def _not_understood(sources: Sources) -> None:
    chat = sources.chat("u1").start()
    chat.says("my parcel from jo@example.com is sqwashed", "nlu_fallback", 0.2,
              [("nlu_fallback", 0.2), ("report_damaged_item", 0.18), ("track_order", 0.1)])
    chat.says("parcel squashed and wet", "nlu_fallback", 0.2, [("nlu_fallback", 0.2), ("report_damaged_item", 0.15)])
    chat.says("box arrived crushed, order 4000000101", "report_damaged_item", 0.3)
    chat.handoff("repeated_fallback", "orders", "h-u1").flush()
    sources.chat("u2", T0 + timedelta(minutes=3)).start().says(
        "what's the football score", "out_of_scope", 0.95).says("who will win the football", "out_of_scope", 0.9).says(
        "/greet", "nlu_fallback", 0.1).flush()
    # a handoff for another reason does not send its last message to the inbox
    sources.chat("u3", T0 + timedelta(minutes=5)).start().says("I will sue you", "complain").handoff(
        "legal_threat", "complaints", "h-u3").flush()


async def test_inbox_collects_masks_and_groups(sources: Sources) -> None:
    _not_understood(sources)
    await sources.consume()
    engine = make_engine(f"sqlite:///{sources.tmp / 'insights.db'}")
    try:
        entries = await open_entries(engine)
        async with engine.connect() as conn:
            stored = list((await conn.execute(sa.select(schema.inbox.c.text))).scalars())
    finally:
        await engine.dispose()
    by_text = {e.text: e for e in entries}
    assert set(by_text) == {
        "my parcel from [email] is sqwashed", "parcel squashed and wet", "box arrived crushed, order [number]",
        "what's the football score", "who will win the football"}
    assert all("@" not in s and "4000000101" not in s for s in stored)  # never stored raw
    fallback = by_text["my parcel from [email] is sqwashed"]
    assert (fallback.kind, fallback.intent, fallback.confidence) == ("nlu_fallback", "report_damaged_item", 0.18)
    before = by_text["box arrived crushed, order [number]"]
    assert (before.kind, before.intent, before.confidence) == ("before_handoff", "report_damaged_item", 0.3)
    assert by_text["who will win the football"].kind == "out_of_scope"
    groups = group(entries)
    as_sets = sorted(sorted(e.text for e in g.entries) for g in groups)
    assert ["what's the football score", "who will win the football"] in as_sets
    assert ["my parcel from [email] is sqwashed", "parcel squashed and wet"] in as_sets
    assert ["box arrived crushed, order [number]"] in as_sets
    assert groups[0].size >= 2 and groups[0].size >= groups[-1].size


def test_grouping_edge_cases() -> None:
    one = Entry(1, "2026-03-02T09:00:00", "rest", "nlu_fallback", "hello?", "greet", 0.1)
    assert [g.size for g in group([one])] == [1] and group([]) == []
    punct = Entry(2, "2026-03-02T09:00:01", "rest", "nlu_fallback", "?", "greet", 0.1)
    assert sum(g.size for g in group([one, punct])) == 2


async def test_label_and_export_nlu(sources: Sources, tmp_path: Path) -> None:
    _not_understood(sources)
    await sources.consume()
    engine = make_engine(f"sqlite:///{sources.tmp / 'insights.db'}")
    try:
        ids = {e.text: e.id for e in await open_entries(engine)}
        known = {"report_damaged_item", "track_order"}
        await label(engine, [ids["my parcel from [email] is sqwashed"], ids["parcel squashed and wet"]], "intent",
                    "report_damaged_item", known_intents=known)
        await label(engine, [ids["what's the football score"]], "out_of_scope", known_intents=known)
        await label(engine, [ids["who will win the football"]], "ignore", known_intents=known)
        with pytest.raises(InboxError, match="not an intent of the domain"):
            await label(engine, [ids["box arrived crushed, order [number]"]], "intent", "made_up", known_intents=known)
        with pytest.raises(InboxError, match="no inbox entry 999"):
            await label(engine, [999], "ignore")
        with pytest.raises(InboxError, match="label must be one of"):
            await label(engine, [1], "spam")
        assert [e.text for e in await open_entries(engine)] == ["box arrived crushed, order [number]"]
        out = tmp_path / "review" / "nlu.yml"
        assert await export_nlu(engine, out) == 3
        with pytest.raises(InboxError, match="outside data/"):
            await export_nlu(engine, Path(__file__).resolve().parents[2] / "data" / "nlu" / "inbox.yml")
    finally:
        await engine.dispose()
    text = out.read_text()
    assert "@" not in text and "[email]" in text
    data = RasaYAMLReader().reads(text)
    examples = sorted((m.get("intent"), m.get("text")) for m in data.training_examples)
    assert examples == [("out_of_scope", "what's the football score"),
                        ("report_damaged_item", "my parcel from [email] is sqwashed"),
                        ("report_damaged_item", "parcel squashed and wet")]


def test_inbox_label_and_export_commands(sources: Sources, var_env: Path,  # noqa: F811
                                         capsys: pytest.CaptureFixture[str]) -> None:
    _not_understood(sources)
    assert main(["insights", "inbox"]) == 0
    listing = capsys.readouterr().out
    assert listing.startswith("5 messages to review in ") and "[email]" in listing and "@" not in listing
    first_id = int(listing.split("#", 1)[1].split()[0])
    assert main(["insights", "label", str(first_id), "--intent", "no_such_intent"]) == 2
    assert "not an intent of the domain" in capsys.readouterr().err
    assert main(["insights", "label", str(first_id), "--out-of-scope"]) == 0
    assert main(["insights", "export-nlu"]) == 0
    assert "wrote 1 examples" in capsys.readouterr().out
    assert "- intent: out_of_scope" in (var_env / "reports" / "inbox_nlu.yml").read_text()
