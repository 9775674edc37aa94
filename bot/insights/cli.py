"""``python -m bot insights ...``: consume, report, inbox, label, export-nlu, demo.

``consume`` fills the reporting tables from Rasa's event broker, the handoff queue and the
profile store's process requests (``--follow`` keeps polling); ``report`` consumes what is new
first, then prints the figures, writes the PNG plots (and ``--csv``/``--json`` if asked) under
``reports/``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from datetime import date
from pathlib import Path

logger = logging.getLogger(__name__)


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-03-02") from exc


def add_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("insights", help="supervisor reports and the not-understood inbox")
    sub = parser.add_subparsers(dest="insights_command", metavar="SUBCOMMAND")

    consume = sub.add_parser("consume", help="fill the reporting tables from the broker, queue and requests")
    consume.add_argument("--follow", action="store_true", help="keep polling until interrupted")
    consume.add_argument("--interval", type=float, default=2.0, help="seconds between polls with --follow")
    consume.set_defaults(func=_consume)

    report = sub.add_parser("report", help="print the figures and write the plots under reports/")
    report.add_argument("--since", type=_date, help="first day (UTC), e.g. 2026-03-02")
    report.add_argument("--until", type=_date, help="last day (UTC), inclusive")
    report.add_argument("--channel", help="only this input channel (rest, socketio, ...)")
    report.add_argument("--topic", help="only this queue topic (orders, refunds_billing, ...)")
    report.add_argument("--out", type=Path, help="directory for plots and exports (default: reports/)")
    report.add_argument("--csv", action="store_true", help="also write insights.csv")
    report.add_argument("--json", action="store_true", help="also write insights.json")
    report.add_argument("--no-consume", action="store_true", help="report on the tables as they are")
    report.set_defaults(func=_report)

    inbox = sub.add_parser("inbox", help="what the bot did not understand, grouped by similarity")
    inbox.add_argument("--limit", type=int, default=2000, help="newest unlabelled messages to group")
    inbox.add_argument("--groups", type=int, default=20, help="how many groups to print")
    inbox.set_defaults(func=_inbox)

    lab = sub.add_parser("label", help="label inbox entries with an intent, out-of-scope, or ignore")
    lab.add_argument("ids", nargs="+", type=int, help="inbox entry ids (from `insights inbox`)")
    what = lab.add_mutually_exclusive_group(required=True)
    what.add_argument("--intent", help="an intent of the domain")
    what.add_argument("--out-of-scope", action="store_true")
    what.add_argument("--ignore", action="store_true")
    lab.add_argument("--by", default="supervisor", help="who labels (recorded)")
    lab.set_defaults(func=_label)

    demo = sub.add_parser("demo", help="replay seeded demo conversations through the running stack (idempotent)")
    demo.add_argument("--count", type=int, default=None, help="how many conversations (default 300)")
    demo.add_argument("--seed", type=int, default=None, help="which set (default 14); a new seed adds new ones")
    demo.add_argument("--agent", action="append", default=[], metavar="NAME:PASSWORD",
                      help="agent accounts the demo logs in as (default: the development agents)")
    demo.add_argument("--concurrency", type=int, default=4, help="conversations at once")
    demo.set_defaults(func=_demo)

    export = sub.add_parser("export-nlu", help="write labelled messages as Rasa NLU YAML for review")
    export.add_argument("--out", type=Path, help="file to write (default: reports/inbox_nlu.yml)")
    export.set_defaults(func=_export)
    parser.set_defaults(func=lambda _args: (parser.print_help(), 2)[1])


def _demo(args: argparse.Namespace) -> int:
    from bot.insights.demo import DEFAULT_COUNT, SEED, DemoError, Replay, plans
    from bot.settings import apply_rasa_env

    agents = {}
    for item in args.agent:
        name, sep, password = item.partition(":")
        if not sep or not name or not password:
            print(f"--agent takes NAME:PASSWORD, not {item!r}", file=sys.stderr)
            return 2
        agents[name] = password
    count = DEFAULT_COUNT if args.count is None else args.count
    if count < 1 or args.concurrency < 1:
        print("--count and --concurrency must be at least 1", file=sys.stderr)
        return 2
    todo = plans(count, SEED if args.seed is None else args.seed)
    replay = Replay(apply_rasa_env(), agents=agents or None, concurrency=args.concurrency)
    started = time.monotonic()
    try:
        tally = asyncio.run(replay.run(todo))
    except DemoError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"demo: the stack is not reachable ({exc}); start it with `make run`", file=sys.stderr)
        return 1
    print(json.dumps({**tally.to_json(), "seconds": round(time.monotonic() - started, 1)}))
    return 1 if tally.failed else 0


def _settings():  # type: ignore[no-untyped-def]
    from bot.insights.db import InsightsSettings

    return InsightsSettings.from_env()


async def _consume_once(settings) -> dict[str, int]:  # type: ignore[no-untyped-def]
    from bot.insights.consumer import InsightsConsumer

    consumer = InsightsConsumer.from_settings(settings)
    try:
        await consumer.setup()
        done = await consumer.run_once()
        for problem in consumer.last_error.values():
            logger.info("%s", problem)
        return done
    finally:
        await consumer.dispose()


def _consume(args: argparse.Namespace) -> int:
    settings = _settings()
    if not args.follow:
        done = asyncio.run(_consume_once(settings))
        print(", ".join(f"{k}: {v}" for k, v in done.items()))
        return 0

    async def follow() -> None:
        from bot.insights.consumer import InsightsConsumer

        consumer = InsightsConsumer.from_settings(settings)
        try:
            await consumer.setup()
            await consumer.run_forever(asyncio.Event(), args.interval)
        finally:
            await consumer.dispose()

    try:
        asyncio.run(follow())
    except KeyboardInterrupt:
        pass
    return 0


def _report(args: argparse.Namespace) -> int:
    from bot.insights.db import create_schema, make_engine
    from bot.insights.render import as_csv, as_text, write_plots
    from bot.insights.report import Filters, build_report

    if args.since and args.until and args.until < args.since:
        print("--until is before --since", file=sys.stderr)
        return 2
    settings = _settings()
    out = args.out or settings.reports_dir

    async def run():  # type: ignore[no-untyped-def]
        if not args.no_consume:
            await _consume_once(settings)
        engine = make_engine(settings.db_url)
        try:
            await create_schema(engine)
            return await build_report(engine, Filters(args.since, args.until, args.channel, args.topic))
        finally:
            await engine.dispose()

    rep = asyncio.run(run())
    print(as_text(rep), end="")
    written = write_plots(rep, out)
    if args.csv:
        (out / "insights.csv").write_text(as_csv(rep), encoding="utf-8")
        written.append(out / "insights.csv")
    if args.json:
        (out / "insights.json").write_text(json.dumps(rep.to_json(), indent=2), encoding="utf-8")
        written.append(out / "insights.json")
    print("\nwritten: " + ", ".join(str(p) for p in written))
    return 0


def _inbox(args: argparse.Namespace) -> int:
    from bot.insights.db import create_schema, make_engine
    from bot.insights.inbox import group, open_entries

    settings = _settings()

    async def run():  # type: ignore[no-untyped-def]
        await _consume_once(settings)
        engine = make_engine(settings.db_url)
        try:
            await create_schema(engine)
            return await open_entries(engine, args.limit)
        finally:
            await engine.dispose()

    entries = asyncio.run(run())
    groups = group(entries)
    print(f"{len(entries)} messages to review in {len(groups)} groups")
    for g in groups[: args.groups]:
        print(f"\n[{g.size}] {g.representative.text!r}")
        for e in g.entries[:10]:
            conf = "-" if e.confidence is None else f"{e.confidence:.2f}"
            print(f"   #{e.id:<6} {e.kind:<15} {e.intent or '-'} ({conf})  {e.text}")
    return 0


def _label(args: argparse.Namespace) -> int:
    from bot.insights.db import create_schema, make_engine
    from bot.insights.inbox import InboxError, label

    kind = "intent" if args.intent else "out_of_scope" if args.out_of_scope else "ignore"

    async def run() -> int:
        engine = make_engine(_settings().db_url)
        try:
            await create_schema(engine)
            return await label(engine, args.ids, kind, args.intent, by=args.by)
        finally:
            await engine.dispose()

    try:
        n = asyncio.run(run())
    except InboxError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"labelled {n} as {args.intent or kind}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from bot.insights.db import create_schema, make_engine
    from bot.insights.inbox import InboxError, export_nlu

    settings = _settings()
    path = args.out or settings.reports_dir / "inbox_nlu.yml"

    async def run() -> int:
        engine = make_engine(settings.db_url)
        try:
            await create_schema(engine)
            return await export_nlu(engine, path)
        finally:
            await engine.dispose()

    try:
        n = asyncio.run(run())
    except InboxError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {n} examples to {path}")
    return 0
