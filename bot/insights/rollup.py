"""Daily roll-ups: the facts of one day summed by channel, topic (and reason), recomputed whole.

Recomputing a day from its facts (rather than adding deltas) keeps the roll-up exactly equal to
the facts whatever order events arrive in: a conversation that becomes a handoff an hour later,
a queue row that closes a day after its request. Only days in ``ins_dirty_day`` are recomputed,
in the same transaction that removes them from it, so a report always reads complete days.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.insights import schema as t


def _count_if(cond: Any) -> Any:
    return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)


def _conversation_select(day: date) -> sa.Select:
    c = t.conversation.c
    rating_buckets = [
        _count_if(sa.and_(c.rating.is_not(None), c.rating >= i - 0.5, c.rating < i + 0.5)) for i in range(1, 5)
    ] + [_count_if(c.rating >= 4.5)]
    return (
        sa.select(
            c.day, c.channel, c.topic, c.reason, sa.func.count(), _count_if(c.handoffs == 0),
            sa.func.coalesce(sa.func.sum(c.user_turns), 0), sa.func.coalesce(sa.func.sum(c.fallback_turns), 0),
            sa.func.coalesce(sa.func.sum(c.oos_turns), 0), sa.func.count(c.rating),
            _count_if(sa.and_(c.rating.is_not(None), c.rating_comment.is_(True))),
            sa.func.coalesce(sa.func.sum(c.rating), 0.0), *rating_buckets,
        )
        .where(c.day == day, sa.or_(c.user_turns > 0, c.handoffs > 0))
        .group_by(c.day, c.channel, c.topic, c.reason)
    )


def _handoff_select(day: date) -> sa.Select:
    h = t.handoff.c
    return (
        sa.select(
            h.day, h.channel, h.topic, h.reason, sa.func.count(), _count_if(h.explicit.is_(True)),
            _count_if(h.accepted_at.is_not(None)), _count_if(h.outcome == "abandoned"),
            _count_if(h.outcome == "handed_back"), _count_if(h.outcome == "waiting"),
            sa.func.coalesce(sa.func.sum(h.wait_s), 0.0), sa.func.count(h.reply_s),
            sa.func.coalesce(sa.func.sum(h.reply_s), 0.0), sa.func.count(h.handle_s),
            sa.func.coalesce(sa.func.sum(h.handle_s), 0.0),
        )
        .where(h.day == day)
        .group_by(h.day, h.channel, h.topic, h.reason)
    )


def _count_selects(day: date) -> list[sa.Select]:
    h, r, f = t.handoff.c, t.request.c, t.followup.c
    no_topic = sa.literal(t.NO_TOPIC, sa.String)
    return [
        sa.select(h.day, h.channel, h.topic, sa.literal("wait", sa.String), sa.cast(h.wait_bucket, sa.String),
                  sa.func.count())
        .where(h.day == day, h.wait_bucket.is_not(None)).group_by(h.day, h.channel, h.topic, h.wait_bucket),
        sa.select(h.day, h.channel, h.topic, sa.literal("intent_before_handoff", sa.String), h.intent_before,
                  sa.func.count())
        .where(h.day == day).group_by(h.day, h.channel, h.topic, h.intent_before),
        sa.select(r.day, r.channel, no_topic, sa.literal("request", sa.String), r.kind, sa.func.count())
        .where(r.day == day).group_by(r.day, r.channel, r.kind),
        sa.select(f.day, f.channel, no_topic, sa.literal("followup", sa.String), f.kind, sa.func.count())
        .where(f.day == day).group_by(f.day, f.channel, f.kind),
    ]


async def refresh_day(conn: AsyncConnection, day: date) -> None:
    for table in t.ROLLUPS:
        await conn.execute(table.delete().where(table.c.day == day))
    conv_cols = [c.name for c in t.day_conversation.c]
    await conn.execute(t.day_conversation.insert().from_select(conv_cols, _conversation_select(day)))
    await conn.execute(t.day_handoff.insert().from_select([c.name for c in t.day_handoff.c], _handoff_select(day)))
    for select in _count_selects(day):
        await conn.execute(t.day_count.insert().from_select([c.name for c in t.day_count.c], select))
    await conn.execute(t.dirty_day.delete().where(t.dirty_day.c.day == day))


def month_span(day: date) -> tuple[date, date]:
    """First and last day of ``day``'s month."""
    first = day.replace(day=1)
    return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


async def refresh_month(conn: AsyncConnection, month: date) -> None:
    """Sum the month's daily roll-ups into the monthly ones (about 30 times fewer rows to read
    for a long period)."""
    first, last = month_span(month)
    for daily, monthly in t.MONTHLY.items():
        await conn.execute(monthly.delete().where(monthly.c.day == first))
        keys = [c for c in daily.c if c.name not in t.SUMMED[daily] and c.name != "day"]
        sums = [sa.func.sum(daily.c[name]) for name in t.SUMMED[daily]]
        select = (sa.select(sa.literal(first, sa.Date), *keys, *sums)
                  .where(daily.c.day >= first, daily.c.day <= last).group_by(*keys))
        names = ["day"] + [c.name for c in keys] + t.SUMMED[daily]
        await conn.execute(monthly.insert().from_select(names, select))


async def refresh(engine: AsyncEngine, *, chunk: int = 50) -> int:
    """Recompute every dirty day, then their months; returns how many days. ``chunk`` days per
    transaction, each with its months, so a report never sees a month behind its days."""
    async with engine.connect() as conn:  # the usual case, nothing dirty: one read, no transaction
        if (await conn.execute(sa.select(t.dirty_day.c.day).limit(1))).first() is None:
            return 0
    done = 0
    while True:
        async with engine.begin() as conn:
            days = list((await conn.execute(
                sa.select(t.dirty_day.c.day).order_by(t.dirty_day.c.day).limit(chunk))).scalars())
            for day in days:
                await refresh_day(conn, day)
            for month in sorted({d.replace(day=1) for d in days}):
                await refresh_month(conn, month)
        done += len(days)
        if len(days) < chunk:
            return done
