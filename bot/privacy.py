"""``python -m bot privacy ...``: carry out right-to-erasure requests across every store.

* ``erase CUSTOMER_ID``: erase that person now (``bot/profile/erasure.py`` says what goes and
  what the law keeps); prints what was deleted and kept, as JSON.
* ``run [--idle-minutes 30]``: carry out every erasure request ``action_forget_me`` recorded
  (``tp_event`` rows of type ``erasure_request`` not yet done) whose conversation has ended: no
  event in Rasa's tracker store for ``--idle-minutes`` (default ``TANDEM_ERASURE_IDLE_S``) and
  no handoff still open. ``make run`` runs it every ``TANDEM_ERASURE_EVERY_S`` (5 minutes;
  ``bot/runner.py``); a deployment without the runner runs it from cron or its scheduler. It is
  safe to run again (a done request is skipped).

Exit codes: 0 done, 1 customer not found, 3 a store unavailable.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from datetime import timezone
from typing import Any

import sqlalchemy as sa

from bot.settings import Settings

logger = logging.getLogger(__name__)


async def erase(settings: Settings, customer_id: str, *, insights_url: str | None = None) -> Any:
    """Erase ``customer_id`` from the profile store, then their conversations from Rasa's
    tracker store, the event broker's table, the insights database and the handoff records."""
    from bot.handoff.store import QueueStore
    from bot.profile import ProfileRepository
    from bot.profile.build import sync_engine
    from bot.profile.erasure import erase_profile, erase_sender_rows

    handoff = QueueStore.from_url(settings.handoff_db_url)
    repo = ProfileRepository.from_url(settings.profile_db_url)
    try:
        await handoff.create_schema()
        async with handoff.begin() as conn:
            handoff_senders = await handoff.senders_of_customer(conn, customer_id)
        result = await erase_profile(repo.engine, customer_id)
        result.senders |= handoff_senders
        result.identifiers |= handoff_senders
        async with handoff.begin() as conn:
            for table, n in (await handoff.erase(conn, result.senders, customer_id)).items():
                result.count(table, n)
    finally:
        await repo.close()
        await handoff.dispose()
    urls = [settings.tracker_db_url, settings.event_broker_db_url, insights_url or _insights_url(settings)]
    for url in dict.fromkeys(urls):
        engine = sync_engine(url)
        try:
            for table, n in (await asyncio.to_thread(erase_sender_rows, engine, result.senders)).items():
                result.count(f"{engine.url.database or url}:{table}", n)
        finally:
            engine.dispose()
    logger.info("erased customer %s: %s", customer_id, json.dumps(result.to_json()))
    return result


def _insights_url(settings: Settings) -> str:
    from bot.insights.db import InsightsSettings

    return InsightsSettings.from_settings(settings).db_url


async def pending(settings: Settings, idle_s: float) -> list[str]:
    """Customers with an erasure request not yet carried out whose conversation has ended."""
    from bot.handoff.models import ACTIVE_STATUSES
    from bot.handoff.store import QueueStore, conversations
    from bot.profile import ProfileRepository
    from bot.profile.build import sync_engine
    from bot.profile.schema import tp_event

    repo = ProfileRepository.from_url(settings.profile_db_url)
    try:
        async with repo.engine.connect() as conn:
            rows = (await conn.execute(sa.select(tp_event.c.customer_id, tp_event.c.conversation_id,
                                                 tp_event.c.created_at).where(
                tp_event.c.type == "erasure_request", sa.or_(tp_event.c.status.is_(None), tp_event.c.status != "done"),
            ))).all()
    finally:
        await repo.close()
    handoff = QueueStore.from_url(settings.handoff_db_url)
    try:
        await handoff.create_schema()
        async with handoff.begin() as conn:
            open_senders = {r.sender_id for r in await conn.execute(
                sa.select(conversations.c.sender_id).where(conversations.c.status.in_(list(ACTIVE_STATUSES))))}
    finally:
        await handoff.dispose()
    tracker = sync_engine(settings.tracker_db_url)
    try:
        last_event = await asyncio.to_thread(_last_events, tracker, {r.conversation_id for r in rows if r.conversation_id})
    finally:
        tracker.dispose()
    now = time.time()
    due = []
    for customer_id, sender, requested_at in rows:
        # the request is written by an action in the middle of a turn, and the turn's events reach the
        # tracker store only when it ends: until an event as late as the request is stored, the turn is
        # still in flight (erasing then would let Rasa write the whole tracker back), and only then
        # does the quiet time start
        requested = requested_at.replace(tzinfo=timezone.utc).timestamp() if requested_at else 0.0
        last = last_event.get(sender) if sender else None
        if sender in open_senders or (last is not None and (last < requested or now - max(last, requested) < idle_s)):
            continue  # still talking to us: the erasure waits until the conversation has ended
        due.append(customer_id)
    return sorted(set(due))


def _last_events(engine: sa.engine.Engine, senders: set[str]) -> dict[str, float]:
    if not senders:
        return {}
    meta = sa.MetaData()
    meta.reflect(bind=engine, only=lambda name, _meta: name == "events")
    events = meta.tables.get("events")
    if events is None:
        return {}
    with engine.connect() as conn:
        return {r.sender_id: float(r.last or 0) for r in conn.execute(
            sa.select(events.c.sender_id, sa.func.max(events.c.timestamp).label("last"))
            .where(events.c.sender_id.in_(sorted(senders))).group_by(events.c.sender_id))}


# -- command line -----------------------------------------------------------------------------------


def add_commands(subparsers: Any) -> None:
    parser = subparsers.add_parser("privacy", help="carry out right-to-erasure requests")
    sub = parser.add_subparsers(dest="privacy_command", metavar="SUBCOMMAND")
    parser.set_defaults(func=lambda args: (parser.print_help(sys.stderr), 2)[1])
    one = sub.add_parser("erase", help="erase one customer from every store now")
    one.add_argument("customer_id")
    one.set_defaults(func=_erase)
    run = sub.add_parser("run", help="carry out the recorded requests whose conversation has ended")
    run.add_argument("--idle-minutes", type=float, default=None,
                     help="a conversation has ended after this long without an event "
                          "(default: TANDEM_ERASURE_IDLE_S, 30 minutes)")
    run.set_defaults(func=_run)


def _erase(args: argparse.Namespace) -> int:
    from bot.profile.erasure import NotFound

    try:
        result = asyncio.run(erase(Settings.from_env(), args.customer_id))
    except NotFound as exc:
        print(f"not found: {exc}", file=sys.stderr)
        return 1
    except (sa.exc.OperationalError, OSError) as exc:
        print(f"a store is unavailable: {exc}", file=sys.stderr)
        return 3
    print(json.dumps(result.to_json(), indent=2))
    return 0


def _run(args: argparse.Namespace) -> int:
    from bot.profile.erasure import NotFound

    settings = Settings.from_env()
    idle_s = settings.erasure_idle_s if args.idle_minutes is None else args.idle_minutes * 60
    try:
        due = asyncio.run(pending(settings, idle_s))
        done = []
        for customer_id in due:
            try:
                done.append(asyncio.run(erase(settings, customer_id)).to_json())
            except NotFound:
                logger.warning("erasure request for %s: already erased", customer_id)
    except (sa.exc.OperationalError, OSError) as exc:
        print(f"a store is unavailable: {exc}", file=sys.stderr)
        return 3
    print(json.dumps({"erased": done}, indent=2))
    return 0
