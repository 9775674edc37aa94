"""``python -m bot insights report`` and the CSV: same figures as the report, plots written."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from bot.cli import main
from tests.insights.helpers import Sources
from tests.insights.test_metrics import _mixed_traffic, _served


@pytest.fixture
def var_env(sources: Sources, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The CLI's settings point at the test's source databases (the default file names)."""
    monkeypatch.setenv("TANDEM_VAR_DIR", str(sources.tmp))
    monkeypatch.setenv("RASA_TOKEN", "test-token")
    monkeypatch.setenv("TANDEM_REPORTS_DIR", str(sources.tmp / "reports"))
    monkeypatch.delenv("TANDEM_INSIGHTS_DB_URL", raising=False)
    monkeypatch.delenv("EVENT_BROKER_DB_URL", raising=False)
    monkeypatch.delenv("TANDEM_HANDOFF_DB_URL", raising=False)
    monkeypatch.delenv("TANDEM_PROFILE_DB_URL", raising=False)
    return sources.tmp


def test_report_prints_figures_and_writes_plots_csv_json(sources: Sources, var_env: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    _mixed_traffic(sources)
    _served(sources, "k", "h-k", wait=240, reply=30, handle=600, rating=1, channel="socketio")
    out = var_env / "reports"
    assert main(["insights", "report", "--since", "2026-03-01", "--out", str(out), "--csv", "--json"]) == 0
    text = capsys.readouterr().out
    assert "Conversations            4" in text
    assert "Contained (no person)    1 (25.0%)" in text
    assert "explicit_request 2, repeated_fallback 1" in text
    assert "p50 30 s, p90 4.0 min" in text
    for name in ("daily_containment.png", "handoffs_by_reason.png", "wait_distribution.png", "ratings.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads((out / "insights.json").read_text())
    assert data["conversations"] == 4 and data["ratings"]["average"] == 3.0
    table = list(csv.DictReader(io.StringIO((out / "insights.csv").read_text())))
    figures = {(r["section"], r["key"]): r["value"] for r in table}
    assert figures[("total", "conversations")] == "4"
    assert figures[("handoffs_by_reason", "explicit_request")] == "2"
    assert figures[("ratings", "distribution.1")] == "1"
    assert figures[("daily.2026-03-02", "handoffs")] == "3"
    # a second report consumes nothing new and prints the same figures
    assert main(["insights", "report", "--out", str(out), "--since", "2026-03-01"]) == 0
    assert capsys.readouterr().out.split("\nwritten:")[0] == text.split("\nwritten:")[0]


def test_report_refuses_a_bad_period(var_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["insights", "report", "--since", "2026-03-05", "--until", "2026-03-01"]) == 2
    assert "--until is before --since" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["insights", "report", "--since", "last tuesday"])
