"""``python -m bot processes ...``: look at the catalogue and the statements it produces.

``list`` prints every process, variant, step and service level; ``explain``
prints the three-part statement for a case, which is what the bot would say.
Proactive follow-ups (``notify``, ``remind``) are added by
:mod:`bot.actions_support.followups` when it is importable.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import sys
from pathlib import Path

from bot.processes.catalogue import CATALOGUE_PATH, Catalogue, CatalogueError, load_catalogue
from bot.processes.statement import Case, UnknownStage, build_statement, statement_text


def _load(args: argparse.Namespace) -> Catalogue:
    return load_catalogue(Path(args.catalogue), holidays_path=args.holidays)


def format_catalogue(catalogue: Catalogue) -> str:
    """The catalogue as indented plain text."""
    lines: list[str] = []
    for process in catalogue:
        lines.append(f"{process.key}: {process.title} - {process.summary}")
        for variant in process.variants.values():
            default = " (default)" if variant.key == process.default_variant else ""
            fee = f", fee: {variant.fee}" if variant.fee else ""
            lines.append(f"  {variant.key}{default}: {variant.label}{fee}")
            for step in variant.steps:
                takes = step.takes.describe() if step is not variant.final_step else "final"
                lines.append(f"    - {step.id} [{takes}] {step.text}")
            for mode in variant.failure_modes:
                stages = f" at {','.join(sorted(mode.stages))}" if mode.stages else ""
                lines.append(f"    ! {mode.when.value}{stages}: {mode.risk} -> {mode.remedy}")
    cal = catalogue.calendar
    lines.append(
        f"calendar: {cal.timezone}, open {cal.opening:%H:%M}-{cal.closing:%H:%M}, "
        f"{len(cal.holidays)} holidays"
    )
    return "\n".join(lines)


def _cmd_list(args: argparse.Namespace) -> int:
    try:
        catalogue = _load(args)
    except CatalogueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.process:
        try:
            catalogue = Catalogue(
                {args.process: catalogue.process(args.process)}, catalogue.calendar, catalogue.policies
            )
        except KeyError as exc:
            print(f"error: {exc.args[0]}", file=sys.stderr)
            return 2
    print(format_catalogue(catalogue))
    return 0


def _parse_when(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    return dt.datetime.fromisoformat(text)


def _cmd_explain(args: argparse.Namespace) -> int:
    try:
        catalogue = _load(args)
        facts = dict(item.split("=", 1) for item in args.fact)
        case = Case(args.process, args.variant, args.stage, _parse_when(args.since), facts)
        now = _parse_when(args.now) or dt.datetime.now(dt.timezone.utc)
        statement = build_statement(case, now, catalogue)
    except (CatalogueError, KeyError, UnknownStage, ValueError) as exc:
        message = exc.args[0] if exc.args else str(exc)
        print(f"error: {message}", file=sys.stderr)
        return 2
    print(statement_text(statement))
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("processes", help="the process catalogue and proactive follow-ups")
    commands = parser.add_subparsers(dest="processes_command", metavar="SUBCOMMAND", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--catalogue", default=str(CATALOGUE_PATH), help="catalogue YAML file")
        p.add_argument("--holidays", default=None, help="YAML list of ISO dates replacing the catalogue's")

    list_parser = commands.add_parser("list", help="print the process catalogue")
    common(list_parser)
    list_parser.add_argument("process", nargs="?", help="only this process")
    list_parser.set_defaults(func=_cmd_list)

    explain = commands.add_parser("explain", help="print the three-part statement for a case")
    common(explain)
    explain.add_argument("process")
    explain.add_argument("--variant")
    explain.add_argument("--stage", help="step id the case is in (default: the first)")
    explain.add_argument("--since", help="ISO date/time the case entered that step (default: now)")
    explain.add_argument("--now", help="ISO date/time to compute from (default: now)")
    explain.add_argument("--fact", action="append", default=[], metavar="KEY=VALUE", help="template value")
    explain.set_defaults(func=_cmd_explain)

    try:  # the follow-up commands need the action-side services
        followups = importlib.import_module("bot.actions_support.followups")
    except ModuleNotFoundError as exc:
        if exc.name not in ("bot.actions_support", "bot.actions_support.followups"):
            raise
    else:
        followups.add_commands(commands)
