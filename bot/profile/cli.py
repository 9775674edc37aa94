"""``python -m bot profile ...``: build the demo store, show a profile, report quality.

* ``build [--customers 2000] [--db URL] [--seed 7] [--now ISO]``: generate the
  silos, load them, resolve identities (progress bars), print a summary.
* ``show IDENTIFIER [--kind KIND] [--json]``: the profile with provenance.
* ``report``: pairwise precision/recall of resolution against ground truth.
* ``resolve``: re-run resolution over the silo data already in the store.

Exit codes: 0 ok, 1 customer not found, 2 invalid input, 3 store unavailable.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import datetime
from typing import Any

from bot.settings import Settings


def add_commands(subparsers: Any) -> None:
    parser = subparsers.add_parser("profile", help="unified customer profile: build demo data, show, report")
    sub = parser.add_subparsers(dest="profile_command", metavar="SUBCOMMAND")
    parser.set_defaults(func=lambda args: (parser.print_help(sys.stderr), 2)[1])

    build = sub.add_parser("build", help="generate, load and resolve demo silo data")
    build.add_argument("--customers", type=int, default=2000, help="people to generate (default 2000)")
    build.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    build.add_argument("--now", help="reference time, ISO 8601 (default: today 12:00 UTC)")
    _db(build)
    build.add_argument("--quiet", action="store_true", help="no progress bars")
    build.set_defaults(func=_build)

    show = sub.add_parser("show", help="print the profile of a customer")
    show.add_argument("identifier", help="e-mail, phone, customer number, order number, invoice or channel id")
    show.add_argument("--kind", choices=("email", "phone", "customer_number", "order_id", "channel_id", "invoice_id"))
    show.add_argument("--json", action="store_true", help="print to_summary() as JSON")
    _db(show)
    show.set_defaults(func=_show)

    report = sub.add_parser("report", help="resolution quality against the generator's ground truth")
    _db(report)
    report.set_defaults(func=_report)

    resolve = sub.add_parser("resolve", help="re-run identity resolution over the stored silo data")
    _db(resolve)
    resolve.set_defaults(func=_resolve)


def _db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="SQLAlchemy URL (default: TANDEM_PROFILE_DB_URL / var/profiles.db)")


def _url(args: argparse.Namespace) -> str:
    url = args.db or Settings.from_env().profile_db_url
    if url.startswith("sqlite") and ":///" in url:
        from pathlib import Path

        path = url.split(":///", 1)[1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    return url


def _build(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from bot.profile.build import build_demo, sync_engine
    from bot.profile.quality import measure

    if args.customers < 10:
        print("--customers must be at least 10 (the well-known demo customers)", file=sys.stderr)
        return 2
    now = datetime.fromisoformat(args.now) if args.now else None
    engine = sync_engine(_url(args))
    progress = None if args.quiet else (lambda it=None, **kw: tqdm(it, mininterval=1.0, **kw))
    try:
        stats = build_demo(engine, args.customers, args.seed, now, progress=progress)
        with engine.connect() as conn:
            quality = measure(conn)
    finally:
        engine.dispose()
    print(f"built {stats.customers:,} customers ({stats.silo_rows:,} silo rows) in {stats.seconds['total']:.1f}s; now = {stats.now.isoformat()}")
    print(f"resolved {stats.resolution.records:,} records into {stats.resolution.people:,} profiles; "
          f"pairwise precision {quality.precision:.4f}, recall {quality.recall:.4f}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from bot.profile import InvalidIdentifier, ProfileNotFound, ProfileRepository, ProfileStoreUnavailable
    from bot.profile.errors import InvalidProfileInput

    async def run() -> Any:
        repo = ProfileRepository.from_url(_url(args))
        try:
            return await repo.find(args.identifier, args.kind)
        finally:
            await repo.close()

    try:
        profile = asyncio.run(run())
    except (InvalidIdentifier, InvalidProfileInput) as exc:
        print(f"invalid: {exc}", file=sys.stderr)
        return 2
    except ProfileNotFound as exc:
        print(f"not found: {exc}", file=sys.stderr)
        return 1
    except ProfileStoreUnavailable as exc:
        print(f"unavailable: {exc}", file=sys.stderr)
        return 3
    summary = profile.to_summary()
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        print(render(summary))
    return 0


def render(summary: dict[str, Any]) -> str:
    """Human-readable text of ``to_summary()``, provenance next to each field."""
    prov = summary.get("provenance", {})
    out: list[str] = []

    def src(name: str) -> str:
        p = prov.get(name)
        if not p:
            return ""
        stale = " STALE" if p.get("stale") == "yes" else ""
        rid = f" {p['record_id']}" if p.get("record_id") else ""
        when = f", {p['updated_at']}" if p.get("updated_at") else ""
        return f"  [{p['system']}{rid}{when}{stale}]"

    ident = summary["identity"]
    out.append(f"{ident.get('full_name') or ident.get('given_name') or '(no name)'}  {ident['customer_id']}{src('full_name')}")
    if "given_name" in ident:
        out.append(f"  given name: {ident['given_name']}{src('given_name')}")
    contact = summary["contact"]
    for key, field in (("emails", "email"), ("phones", "phone"), ("customer_numbers", "customer_number"), ("channel_ids", "channel_ids")):
        if contact.get(key):
            out.append(f"  {key.replace('_', ' ')}: {', '.join(contact[key])}{src(field)}")
    if contact.get("address"):
        out.append(f"  address: {', '.join(contact['address'].values())}{src('address')}")
    acct = summary["account"]
    if acct:
        out.append(f"  account: {', '.join(f'{k} {v}' for k, v in acct.items())}{src('account.type')}")
    for kind, items in summary["open_items"].items():
        out.append(f"  open {kind}:{src(kind) if kind != 'complaints' else ''}")
        for item in items:
            out.append("    - " + ", ".join(f"{k} {v}" for k, v in item.items()))
    if summary["recent_categories"]:
        out.append(f"  recent categories: {', '.join(summary['recent_categories'])}")
    out.append(f"  segments: {', '.join(summary['segments']) or '-'}")
    for key, reason in summary["suppressions"].items():
        out.append(f"  suppress {key}: {reason}")
    for flag in summary["flags"]:
        out.append(f"  flag {flag['name']}: {flag.get('kind', '')} ({flag.get('recorded_at', '')}, {flag.get('source', '')})")
    consent = summary["consent"]
    out.append(
        f"  consent: personalisation {consent['personalisation_allowed']}{src('consent.personalisation_allowed')}; "
        f"marketing consent {consent['marketing_consent']}{src('consent.marketing_allowed')}, "
        f"marketing sent {consent['marketing_allowed']}"
    )
    return "\n".join(out)


def _report(args: argparse.Namespace) -> int:
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from bot.profile import schema
    from bot.profile.build import sync_engine
    from bot.profile.quality import measure

    engine = sync_engine(_url(args))
    try:
        with engine.connect() as conn:
            quality = measure(conn)
            meta = {k: json.loads(v) for k, v in conn.execute(select(schema.tp_meta.c.key, schema.tp_meta.c.value))}
    except SQLAlchemyError as exc:
        print(f"unavailable: the profile store has no demo build ({exc.__class__.__name__}); run `python -m bot profile build`", file=sys.stderr)
        return 3
    finally:
        engine.dispose()
    print(f"demo build: {meta.get('customers', '?')} customers, seed {meta.get('seed', '?')}, now {meta.get('now', '?')}")
    print(f"records            {quality.records:>12,}")
    print(f"true people        {quality.true_people:>12,}")
    print(f"profiles           {quality.profiles:>12,}")
    print(f"true pairs         {quality.true_pairs:>12,}")
    print(f"predicted pairs    {quality.predicted_pairs:>12,}")
    print(f"correct pairs      {quality.correct_pairs:>12,}")
    print(f"pairwise precision {quality.precision:>12.4f}  (target >= 0.995)")
    print(f"pairwise recall    {quality.recall:>12.4f}  (target >= 0.98)")
    print(f"F1                 {quality.f1:>12.4f}")
    return 0


def _resolve(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from bot.profile.build import resolve_only, sync_engine

    engine = sync_engine(_url(args))
    started = time.perf_counter()
    try:
        stats = resolve_only(engine, progress=lambda it=None, **kw: tqdm(it, mininterval=1.0, **kw))
    finally:
        engine.dispose()
    print(f"resolved {stats.records:,} records into {stats.people:,} profiles in {time.perf_counter() - started:.1f}s")
    return 0
