"""Demo generator determinism and ground truth; the CLI commands."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path

import pytest

from bot.profile.cli import add_commands
from bot.profile.generator import DemoGenerator
from tests.profile.conftest import NOW


def _rows(customers: int, seed: int, now: datetime) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {}
    for chunk in DemoGenerator(customers, seed, now, chunk_people=50).chunks():
        for batch in chunk:
            out.setdefault(batch.table, []).extend(batch.rows)
    return out


def test_generator_is_deterministic_and_knows_its_ground_truth() -> None:
    a, b = _rows(300, 5, NOW), _rows(300, 5, NOW)
    assert a == b
    assert a != _rows(300, 6, NOW)
    truth = a["gt_record"]
    roots = sum(len(a[t]) for t in ("crm_contact", "mkt_contact", "com_account", "cc_conversation"))
    assert len(truth) == roots and {p for _, _, p in truth} <= set(range(1, 301))
    emails = [r[4] for r in a["crm_contact"] if r[4]]
    assert any(e != e.lower() for e in emails)  # noise is there
    assert len({r[10] for r in a["crm_contact"]}) < len(a["crm_contact"])  # households


def test_generator_needs_room_for_the_demo_customers() -> None:
    with pytest.raises(ValueError):
        DemoGenerator(5)


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_build_show_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--db", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"]
    assert _cli(["profile", "build", "--customers", "300", "--quiet", "--now", NOW.isoformat(), *db]) == 0
    assert "precision" in capsys.readouterr().out
    assert _cli(["profile", "show", "C1000001", *db]) == 0
    shown = capsys.readouterr().out
    assert "Amelia Hart" in shown and "[crm C1000001" in shown and "4000000101" in shown
    assert _cli(["profile", "show", "07700 900103", "--json", *db]) == 0
    assert json.loads(capsys.readouterr().out)["identity"]["full_name"] == "Chloe Martin"
    assert _cli(["profile", "report", *db]) == 0
    report = capsys.readouterr().out
    precision = float(report.split("pairwise precision")[1].split()[0])
    recall = float(report.split("pairwise recall")[1].split()[0])
    assert precision >= 0.995 and recall >= 0.96
    assert _cli(["profile", "show", "nobody@example.com", *db]) == 1
    assert _cli(["profile", "show", "jo@", *db]) == 2
    assert "invalid" in capsys.readouterr().err
    assert _cli(["profile", "resolve", *db]) == 0
    assert _cli(["profile", "show", "C1000001", *db]) == 0


def test_cli_report_without_a_build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(["profile", "report", "--db", f"sqlite+aiosqlite:///{tmp_path / 'none.db'}"]) == 3
    assert "profile build" in capsys.readouterr().err
