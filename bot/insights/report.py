"""The report: every figure for a period, optionally one channel and one topic, read from the
daily roll-ups only (a few aggregate queries, whatever the number of conversations).

Percentiles of the wait come from the wait histogram (nearest rank, reported as the upper edge of
the bucket holding that rank: exact to 5 s under a minute, 15 s under 5 minutes, 1 minute under
20 minutes). Averages are exact. Process requests and follow-ups have no topic: a topic filter
does not apply to them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.insights import schema as t
from bot.insights.rollup import refresh


@dataclass(frozen=True)
class Filters:
    since: date | None = None
    until: date | None = None  # inclusive
    channel: str | None = None
    topic: str | None = None

    def apply(self, table: sa.Table, query: sa.Select, *, topic: bool = True) -> sa.Select:
        if self.since is not None:
            query = query.where(table.c.day >= self.since)
        if self.until is not None:
            query = query.where(table.c.day <= self.until)
        if self.channel:
            query = query.where(table.c.channel == self.channel)
        if self.topic and topic:
            query = query.where(table.c.topic == self.topic)
        return query


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
    async with engine.connect() as conn:
        return await _build(conn, filters)


async def _build(conn: AsyncConnection, f: Filters) -> Report:
    rep = Report(filters={k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(f).items()})
    dc, dh, cnt = t.day_conversation, t.day_handoff, t.day_count
    s = sa.func.sum

    conv_sums = [s(dc.c.conversations), s(dc.c.contained), s(dc.c.user_turns), s(dc.c.fallback_turns),
                 s(dc.c.oos_turns), s(dc.c.rated), s(dc.c.rated_with_comment), s(dc.c.rating_sum),
                 *[s(dc.c[f"r{i}"]) for i in range(1, 6)]]
    row = (await conn.execute(f.apply(dc, sa.select(*conv_sums)))).one()
    vals = [v or 0 for v in row]
    rep.conversations, rep.contained, rep.user_turns = int(vals[0]), int(vals[1]), int(vals[2])
    rep.handed_off_conversations = rep.conversations - rep.contained
    rep.containment_rate = _ratio(rep.contained, rep.conversations)
    rep.fallback_rate = _ratio(vals[3], rep.user_turns)
    rep.out_of_scope_rate = _ratio(vals[4], rep.user_turns)
    rep.ratings = Ratings(
        rated=int(vals[5]), with_comment=int(vals[6]), average=_ratio(vals[7], vals[5]),
        distribution={str(i): int(vals[7 + i]) for i in range(1, 6)},
        share_rated=_ratio(vals[5], rep.handed_off_conversations),
    )
    for dim, target in ((dc.c.reason, rep.ratings_by_reason), (dc.c.topic, rep.ratings_by_topic)):
        q = f.apply(dc, sa.select(dim, s(dc.c.conversations), s(dc.c.rated), s(dc.c.rating_sum))
                    .where(dim != "").group_by(dim))
        for key, convs, rated, total in await conn.execute(q):
            target[key] = {"conversations": int(convs), "rated": int(rated or 0), "average": _ratio(total or 0, rated or 0)}

    hsums = [s(dh.c.handoffs), s(dh.c.explicit), s(dh.c.accepted), s(dh.c.abandoned), s(dh.c.handed_back),
             s(dh.c.waiting), s(dh.c.wait_sum), s(dh.c.reply_n), s(dh.c.reply_sum), s(dh.c.handle_n), s(dh.c.handle_sum)]
    hv = [v or 0 for v in (await conn.execute(f.apply(dh, sa.select(*hsums)))).one()]
    rep.handoffs, rep.explicit_requests, rep.accepted = int(hv[0]), int(hv[1]), int(hv[2])
    rep.policy_decided = rep.handoffs - rep.explicit_requests
    rep.abandoned, rep.handed_back, rep.still_waiting = int(hv[3]), int(hv[4]), int(hv[5])
    rep.handoff_rate = _ratio(rep.handed_off_conversations, rep.conversations)
    rep.abandonment_rate = _ratio(rep.abandoned, rep.handoffs - rep.still_waiting)
    rep.wait_avg_s = _ratio(hv[6], rep.accepted)
    rep.first_reply_avg_s = _ratio(hv[8], hv[7])
    rep.handle_avg_s = _ratio(hv[10], hv[9])
    for dim, target in ((dh.c.reason, rep.handoffs_by_reason), (dh.c.topic, rep.handoffs_by_topic)):
        q = f.apply(dh, sa.select(dim, s(dh.c.handoffs)).group_by(dim).order_by(s(dh.c.handoffs).desc(), dim))
        target.update({k: int(n) for k, n in await conn.execute(q)})

    counts: dict[str, dict[str, int]] = {"wait": {}, "intent_before_handoff": {}, "request": {}, "followup": {}}
    for metric, table_topic in (("wait", True), ("intent_before_handoff", True), ("request", False), ("followup", False)):
        q = f.apply(cnt, sa.select(cnt.c.key, s(cnt.c.n)).where(cnt.c.metric == metric).group_by(cnt.c.key),
                    topic=table_topic)
        counts[metric] = {k: int(n) for k, n in await conn.execute(q)}
    hist = {int(k): n for k, n in counts["wait"].items()}
    rep.wait_histogram = {str(k): hist[k] for k in sorted(hist)}
    rep.wait_p50_s, rep.wait_p90_s = percentile(hist, 0.5), percentile(hist, 0.9)
    rep.intents_before_handoff = dict(sorted(
        ((k or "(none)", n) for k, n in counts["intent_before_handoff"].items()), key=lambda kv: (-kv[1], kv[0]))[:10])
    rep.requests_by_type = dict(sorted(counts["request"].items()))
    rep.followups_by_type = dict(sorted(counts["followup"].items()))
    rep.followups_sent = sum(rep.followups_by_type.values())
    rep.daily = await _daily(conn, f)
    return rep


async def _daily(conn: AsyncConnection, f: Filters) -> list[dict[str, Any]]:
    """One row per day: conversations, contained, containment, handoffs by reason."""
    dc, dh, s = t.day_conversation, t.day_handoff, sa.func.sum
    days: dict[date, dict[str, Any]] = {}
    q = f.apply(dc, sa.select(dc.c.day, s(dc.c.conversations), s(dc.c.contained)).group_by(dc.c.day))
    for day, convs, contained in await conn.execute(q):
        days[day] = {"day": day.isoformat(), "conversations": int(convs), "contained": int(contained),
                     "containment_rate": _ratio(contained, convs), "handoffs": 0, "handoffs_by_reason": {}}
    q = f.apply(dh, sa.select(dh.c.day, dh.c.reason, s(dh.c.handoffs)).group_by(dh.c.day, dh.c.reason))
    for day, reason, n in await conn.execute(q):
        entry = days.setdefault(day, {"day": day.isoformat(), "conversations": 0, "contained": 0,
                                      "containment_rate": None, "handoffs": 0, "handoffs_by_reason": {}})
        entry["handoffs"] += int(n)
        entry["handoffs_by_reason"][reason] = int(n)
    return [days[d] for d in sorted(days)]
