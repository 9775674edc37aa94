"""The inbox of what the bot did not understand: review, label, export for training.

Entries are customer messages that fell back (``nlu_fallback``), were classified out of scope,
or were the last message before a handoff for a "not understood" reason. They are stored masked
(:mod:`bot.insights.mask`), never raw.

Grouping by similarity (documented method): each message becomes a TF-IDF vector of its
character 2-4-grams within words (robust to typos and inflections, no language model needed);
messages are grouped by average-linkage agglomerative clustering on cosine distance, cut where
the average similarity inside a group would fall below ``min_similarity`` (default 0.3;
unrelated messages score under 0.1, paraphrases of one need 0.3-0.5). Masking placeholders
(``[email]``...) are left out of the vectors so they do not make messages look alike. The
largest groups come first, each shown by its most central message. Only the newest ``limit``
unlabelled messages (default 2,000) are grouped, which keeps it well under a second.

Labels: an intent of the domain, ``out_of_scope``, or ``ignore``. ``export_nlu`` writes the
labelled messages as a Rasa NLU YAML file for review; it is never written into ``data/``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

import sqlalchemy as sa
import yaml
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.insights import schema as t
from bot.insights.mask import mask

PLACEHOLDER = re.compile(r"\[(?:email|card|phone|number|reference)\]")
LABEL_KINDS = ("intent", "out_of_scope", "ignore")
DOMAIN_DIR = Path(__file__).resolve().parents[2] / "domain"


class InboxError(ValueError):
    """A label or an export that cannot be done; the message says why."""


@dataclass(frozen=True)
class Entry:
    id: int
    received_at: str
    channel: str
    kind: str
    text: str
    intent: str
    confidence: float | None
    label_kind: str | None = None
    label_intent: str | None = None


@dataclass(frozen=True)
class Group:
    size: int
    representative: Entry
    entries: list[Entry]

    def to_json(self) -> dict[str, Any]:
        return {"size": self.size, "representative": asdict(self.representative),
                "entries": [asdict(e) for e in self.entries]}


def _entry(row: Any) -> Entry:
    return Entry(id=row.id, received_at=row.received_at.isoformat(timespec="seconds"), channel=row.channel,
                 kind=row.kind, text=mask(row.text), intent=row.intent, confidence=row.confidence,
                 label_kind=row.label_kind, label_intent=row.label_intent)


async def open_entries(engine: AsyncEngine, limit: int = 2000) -> list[Entry]:
    """The newest unlabelled entries (masked again on the way out, in case a rule was added)."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(t.inbox).where(t.inbox.c.label_kind.is_(None))
            .order_by(t.inbox.c.received_at.desc(), t.inbox.c.id.desc()).limit(limit))
        return [_entry(r) for r in rows]


def group(entries: Sequence[Entry], min_similarity: float = 0.3) -> list[Group]:
    """Entries grouped by similarity, largest group first (see the module docstring)."""
    if not entries:
        return []
    if len(entries) == 1:
        return [Group(1, entries[0], list(entries))]
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectors = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, lowercase=True).fit_transform(
        [PLACEHOLDER.sub(" ", e.text) for e in entries])
    dense = vectors.toarray()
    labels = AgglomerativeClustering(
        n_clusters=None, affinity="cosine", linkage="average", distance_threshold=1.0 - min_similarity,
    ).fit_predict(dense) if dense.any() else [0] * len(entries)
    members: dict[int, list[int]] = {}
    for index, label in enumerate(labels):
        members.setdefault(int(label), []).append(index)
    groups = []
    for indices in members.values():
        centroid = dense[indices].mean(axis=0)
        central = max(indices, key=lambda i: float(dense[i] @ centroid))
        groups.append(Group(len(indices), entries[central], [entries[i] for i in indices]))
    return sorted(groups, key=lambda g: (-g.size, g.representative.received_at))


def domain_intents(domain_dir: Path = DOMAIN_DIR) -> set[str]:
    intents: set[str] = set()
    for path in sorted(domain_dir.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in data.get("intents") or ():
            intents.add(next(iter(item)) if isinstance(item, dict) else str(item))
    return intents


async def label(engine: AsyncEngine, ids: Iterable[int], kind: str, intent: str | None = None, *,
                by: str = "supervisor", known_intents: set[str] | None = None) -> int:
    """Label entries; returns how many were labelled. Unknown ids, kinds or intents are refused
    before anything is written."""
    ids = sorted(set(int(i) for i in ids))
    if kind not in LABEL_KINDS:
        raise InboxError(f"label must be one of {', '.join(LABEL_KINDS)}, not {kind!r}")
    if kind == "intent":
        known = known_intents if known_intents is not None else domain_intents()
        if not intent:
            raise InboxError("an intent label needs the intent's name")
        if intent not in known:
            raise InboxError(f"{intent!r} is not an intent of the domain (domain/*.yml)")
    else:
        intent = None
    if not ids:
        raise InboxError("no inbox entry given")
    async with engine.begin() as conn:
        found = set((await conn.execute(sa.select(t.inbox.c.id).where(t.inbox.c.id.in_(ids)))).scalars())
        missing = [i for i in ids if i not in found]
        if missing:
            raise InboxError(f"no inbox entry {', '.join(map(str, missing))}")
        await conn.execute(t.inbox.update().where(t.inbox.c.id.in_(ids)).values(
            label_kind=kind, label_intent=intent, labelled_by=by[:64],
            labelled_at=datetime.now(timezone.utc).replace(tzinfo=None)))
    return len(ids)


async def labelled(engine: AsyncEngine) -> dict[str, list[str]]:
    """Labelled messages by training intent (``out_of_scope`` labels go to that intent)."""
    by_intent: dict[str, list[str]] = {}
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(t.inbox.c.text, t.inbox.c.label_kind, t.inbox.c.label_intent)
            .where(t.inbox.c.label_kind.in_(("intent", "out_of_scope"))).order_by(t.inbox.c.id))
        for text, kind, intent in rows:
            name = intent if kind == "intent" else "out_of_scope"
            line = " ".join(mask(text).split())
            if line and line not in by_intent.setdefault(name, []):
                by_intent[name].append(line)
    return by_intent


def nlu_yaml(by_intent: dict[str, list[str]]) -> str:
    """Rasa 3 NLU training data (``version: "3.1"``) for review before it joins ``data/``."""
    lines = ['version: "3.1"', "# Labelled in the insights inbox (personal data masked). Review before", "# copying any of it into data/.", "nlu:"]
    for intent in sorted(by_intent):
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {text}" for text in by_intent[intent]]
    return "\n".join(lines) + "\n"


async def export_nlu(engine: AsyncEngine, path: Path) -> int:
    """Write the labelled messages to ``path``; returns how many examples."""
    resolved = path.resolve()
    if (DOMAIN_DIR.parent / "data") in resolved.parents:
        raise InboxError("the export is for review: write it outside data/")
    by_intent = await labelled(engine)
    resolved.parent.mkdir(parents=True, exist_ok=True)
    resolved.write_text(nlu_yaml(by_intent), encoding="utf-8")
    return sum(len(v) for v in by_intent.values())
