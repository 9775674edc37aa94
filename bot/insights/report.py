"""The report: every figure for a period, optionally one channel and one topic, read from the
daily roll-ups only (a few aggregate queries, whatever the number of conversations).

Percentiles of the wait come from the wait histogram (nearest rank, reported as the upper edge of
the bucket holding that rank: exact to 5 s under a minute, 15 s under 5 minutes, 1 minute under
20 minutes). Averages are exact. Process requests and follow-ups have no topic: a topic filter
does not apply to them.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.insights import schema as t
from bot.insights.rollup import month_span, refresh


@dataclass(frozen=True)
class Filters:
    since: date | None = None
    until: date | None = None  # inclusive
    channel: str | None = None
    topic: str | None = None


#: a part of the period: (read the monthly roll-ups?, first day, last day), None = unbounded
Span = tuple[bool, "date | None", "date | None"]


def spans(f: Filters) -> list[Span]:
    """The period as whole calendar months (read from the monthly roll-ups) plus the days
    before the first and after the last whole month (read from the daily ones)."""
    lo, hi = f.since, f.until
    m_lo = None if lo is None else (lo if lo.day == 1 else month_span(lo)[1] + timedelta(days=1))
    m_hi = None if hi is None else (hi if hi == month_span(hi)[1] else hi.replace(day=1) - timedelta(days=1))
    if m_lo is not None and m_hi is not None and m_lo > m_hi:
        return [(False, lo, hi)]
    parts: list[Span] = [(True, m_lo, m_hi.replace(day=1) if m_hi else None)]
    if lo is not None and m_lo is not None and m_lo > lo:
        parts.append((False, lo, m_lo - timedelta(days=1)))
    if hi is not None and m_hi is not None and m_hi < hi:
        parts.append((False, m_hi + timedelta(days=1), hi))
    return parts


async def _sums(conn: AsyncConnection, daily: sa.Table, f: Filters, parts: list[Span], group: list[str], *,
                topic: bool = True, metrics: tuple[str, ...] = (),
                measures: list[str] | None = None) -> dict[tuple[Any, ...], list[float]]:
    """Summed ``measures`` (default: all) of ``daily`` (or its monthly twin, per part) grouped by
    ``group``."""
    result: dict[tuple[Any, ...], list[float]] = {}
    for monthly, lo, hi in parts:
        table = t.MONTHLY[daily] if monthly else daily
        keys = [table.c[g] for g in group]
        query = sa.select(*keys, *[sa.func.sum(table.c[m]) for m in measures or t.SUMMED[daily]]).group_by(*keys)
        if lo is not None:
            query = query.where(table.c.day >= lo)
        if hi is not None:
            query = query.where(table.c.day <= hi)
        if f.channel:
            query = query.where(table.c.channel == f.channel)
        if f.topic and topic:
            query = query.where(table.c.topic == f.topic)
        if metrics:
            query = query.where(table.c.metric.in_(metrics))
        for row in await conn.execute(query):
            key, values = tuple(row[:len(group)]), row[len(group):]
            acc = result.setdefault(key, [0] * len(values))
            for i, v in enumerate(values):
                acc[i] += v or 0
    return result


def _total(groups: dict[tuple[Any, ...], list[float]], width: int) -> list[float]:
    total = [0.0] * width
    for values in groups.values():
        total = [a + b for a, b in zip(total, values)]
    return total


def _by(groups: dict[tuple[Any, ...], list[float]], position: int) -> dict[Any, list[float]]:
    out: dict[Any, list[float]] = {}
    for key, values in groups.items():
        acc = out.setdefault(key[position], [0] * len(values))
        for i, v in enumerate(values):
            acc[i] += v
    return out


@dataclass
class Ratings:
    rated: int = 0
    with_comment: int = 0
    average: float | None = None
    distribution: dict[str, int] = field(default_factory=lambda: {str(i): 0 for i in range(1, 6)})
    #: rated conversations / conversations that reached a person (ratings follow an agent's close)
    share_rated: float | None = None


@dataclass
class Report:
    filters: dict[str, Any]
    conversations: int = 0
    contained: int = 0
    containment_rate: float | None = None
    handed_off_conversations: int = 0
    handoffs: int = 0
    handoff_rate: float | None = None
    handoffs_by_reason: dict[str, int] = field(default_factory=dict)
    handoffs_by_topic: dict[str, int] = field(default_factory=dict)
    explicit_requests: int = 0
    policy_decided: int = 0
    user_turns: int = 0
    fallback_rate: float | None = None
    out_of_scope_rate: float | None = None
    intents_before_handoff: dict[str, int] = field(default_factory=dict)
    accepted: int = 0
    abandoned: int = 0
    abandonment_rate: float | None = None
    still_waiting: int = 0
    handed_back: int = 0
    wait_p50_s: float | None = None
    wait_p90_s: float | None = None
    wait_avg_s: float | None = None
    wait_histogram: dict[str, int] = field(default_factory=dict)
    first_reply_avg_s: float | None = None
    handle_avg_s: float | None = None
    ratings: Ratings = field(default_factory=Ratings)
    ratings_by_reason: dict[str, dict[str, Any]] = field(default_factory=dict)
    ratings_by_topic: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests_by_type: dict[str, int] = field(default_factory=dict)
    followups_sent: int = 0
    followups_by_type: dict[str, int] = field(default_factory=dict)
    daily: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 4) if den else None


def percentile(histogram: dict[int, int], p: float) -> float | None:
    """Nearest-rank percentile of a histogram keyed by bucket upper edge."""
    total = sum(histogram.values())
    if not total:
        return None
    rank, seen = max(1, math.ceil(p * total)), 0
    for edge in sorted(histogram):
        seen += histogram[edge]
        if seen >= rank:
            return float(edge)
    return float(max(histogram))


async def build_report(engine: AsyncEngine, filters: Filters, *, refresh_first: bool = True) -> Report:
    """The report for ``filters``. Days still marked dirty are rolled up first (normally none:
    the consumer does it after each pass)."""
    if refresh_first:
        await refresh(engine)
    return await _build(engine, filters)


async def _build(engine: AsyncEngine, f: Filters) -> Report:
    """Six grouped queries, run at once on their own connections (each a round trip; a busy
    database server answers them in parallel). Each reads committed roll-ups; a pass of the
    consumer committing in between can make two sections differ by that pass."""
    rep = Report(filters={k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(f).items()})
    parts, whole = spans(f), [(False, f.since, f.until)]
    cm = {name: i for i, name in enumerate(t.SUMMED[t.day_conversation])}
    hm = {name: i for i, name in enumerate(t.SUMMED[t.day_handoff])}

    async def fetch(daily: sa.Table, part: list[Span], group: list[str], **kwargs: Any) -> dict[tuple[Any, ...], list[float]]:
        async with engine.connect() as conn:
            return await _sums(conn, daily, f, part, group, **kwargs)

    conv, hand, counts, uncounted, conv_daily, hand_daily = await asyncio.gather(
        fetch(t.day_conversation, parts, ["reason", "topic"]),
        fetch(t.day_handoff, parts, ["reason", "topic"]),
        fetch(t.day_count, parts, ["metric", "key"], metrics=("wait", "intent_before_handoff")),
        fetch(t.day_count, parts, ["metric", "key"], topic=False, metrics=("request", "followup")),
        fetch(t.day_conversation, whole, ["day"], measures=["conversations", "contained"]),
        fetch(t.day_handoff, whole, ["day", "reason"], measures=["handoffs"]),
    )
    c = _total(conv, len(cm))
    rep.conversations, rep.contained, rep.user_turns = int(c[cm["conversations"]]), int(c[cm["contained"]]), int(
        c[cm["user_turns"]])
    rep.handed_off_conversations = rep.conversations - rep.contained
    rep.containment_rate = _ratio(rep.contained, rep.conversations)
    rep.fallback_rate = _ratio(c[cm["fallback_turns"]], rep.user_turns)
    rep.out_of_scope_rate = _ratio(c[cm["oos_turns"]], rep.user_turns)
    rated = c[cm["rated"]]
    rep.ratings = Ratings(
        rated=int(rated), with_comment=int(c[cm["rated_with_comment"]]), average=_ratio(c[cm["rating_sum"]], rated),
        distribution={str(i): int(c[cm[f"r{i}"]]) for i in range(1, 6)},
        share_rated=_ratio(rated, rep.handed_off_conversations),
    )
    for position, target in ((0, rep.ratings_by_reason), (1, rep.ratings_by_topic)):
        for key, v in sorted(_by(conv, position).items()):
            if key:
                target[key] = {"conversations": int(v[cm["conversations"]]), "rated": int(v[cm["rated"]]),
                               "average": _ratio(v[cm["rating_sum"]], v[cm["rated"]])}

    h = _total(hand, len(hm))
    rep.handoffs, rep.explicit_requests, rep.accepted = int(h[hm["handoffs"]]), int(h[hm["explicit"]]), int(
        h[hm["accepted"]])
    rep.policy_decided = rep.handoffs - rep.explicit_requests
    rep.abandoned, rep.handed_back = int(h[hm["abandoned"]]), int(h[hm["handed_back"]])
    rep.still_waiting = int(h[hm["waiting"]])
    rep.handoff_rate = _ratio(rep.handed_off_conversations, rep.conversations)
    rep.abandonment_rate = _ratio(rep.abandoned, rep.handoffs - rep.still_waiting)
    rep.wait_avg_s = _ratio(h[hm["wait_sum"]], rep.accepted)
    rep.first_reply_avg_s = _ratio(h[hm["reply_sum"]], h[hm["reply_n"]])
    rep.handle_avg_s = _ratio(h[hm["handle_sum"]], h[hm["handle_n"]])
    for position, target in ((0, rep.handoffs_by_reason), (1, rep.handoffs_by_topic)):
        ranked = sorted(((k, int(v[hm["handoffs"]])) for k, v in _by(hand, position).items()), key=lambda kv: (-kv[1], kv[0]))
        target.update(ranked)

    counts.update(uncounted)
    per_metric: dict[str, dict[str, int]] = {"wait": {}, "intent_before_handoff": {}, "request": {}, "followup": {}}
    for (metric, key), (n,) in counts.items():
        per_metric[metric][key] = int(n)
    hist = {int(k): n for k, n in per_metric["wait"].items()}
    rep.wait_histogram = {str(k): hist[k] for k in sorted(hist)}
    rep.wait_p50_s, rep.wait_p90_s = percentile(hist, 0.5), percentile(hist, 0.9)
    rep.intents_before_handoff = dict(sorted(
        ((k or "(none)", n) for k, n in per_metric["intent_before_handoff"].items()), key=lambda kv: (-kv[1], kv[0]))[:10])
    rep.requests_by_type = dict(sorted(per_metric["request"].items()))
    rep.followups_by_type = dict(sorted(per_metric["followup"].items()))
    rep.followups_sent = sum(rep.followups_by_type.values())
    rep.daily = _daily(conv_daily, hand_daily)
    return rep


def _daily(conv: dict[tuple[Any, ...], list[float]], hand: dict[tuple[Any, ...], list[float]]) -> list[dict[str, Any]]:
    """One row per day: conversations, contained, containment, handoffs by reason."""
    days: dict[date, dict[str, Any]] = {}

    def entry(day: date) -> dict[str, Any]:
        return days.setdefault(day, {"day": day.isoformat(), "conversations": 0, "contained": 0,
                                     "containment_rate": None, "handoffs": 0, "handoffs_by_reason": {}})

    for (day,), v in conv.items():
        e = entry(day)
        e["conversations"], e["contained"] = int(v[0]), int(v[1])
        e["containment_rate"] = _ratio(e["contained"], e["conversations"])
    for (day, reason), v in sorted(hand.items()):
        e = entry(day)
        e["handoffs"] += int(v[0])
        e["handoffs_by_reason"][reason] = int(v[0])
    return [days[d] for d in sorted(days)]
