"""``python -m bot processes ...``."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main


def test_list_prints_every_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["processes", "list"]) == 0
    out = capsys.readouterr().out
    for key in ("refund:", "order_cancellation:", "delivery:", "erasure:", "handoff:"):
        assert key in out
    assert "card (default): card refund" in out
    assert "calendar: Europe/London" in out


def test_list_one_process_and_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["processes", "list", "handoff"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("handoff:") and "refund:" not in out
    assert main(["processes", "list", "teleport"]) == 2
    assert "no process 'teleport'" in capsys.readouterr().err


def test_explain(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "processes", "explain", "refund", "--variant", "card", "--stage", "approved",
            "--since", "2026-11-20", "--now", "2026-11-23T10:00", "--fact", "amount=£20",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "How long: The money should be back on your card by Friday 27 November" in out


def test_explain_bad_input(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["processes", "explain", "refund", "--stage", "lost"]) == 2
    assert "no step 'lost'" in capsys.readouterr().err
    assert main(["processes", "explain", "refund", "--since", "yesterday"]) == 2
    assert main(["processes", "list", "--catalogue", str(tmp_path / "none.yml")]) == 2
    assert "not found" in capsys.readouterr().err
