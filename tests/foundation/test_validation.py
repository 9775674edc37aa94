from __future__ import annotations

import shutil
from pathlib import Path

from bot.settings import ROOT
from bot.validate import validate_project


def test_project_data_validates_without_warnings() -> None:
    assert validate_project(ROOT) == []


def test_an_unused_response_is_reported(tmp_path: Path) -> None:
    for name in ("config.yml", "domain", "data"):
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tmp_path / name)
    (tmp_path / "domain" / "extra.yml").write_text(
        'version: "3.1"\nresponses:\n  utter_never_said:\n    - text: "nobody hears this"\n'
    )
    problems = validate_project(tmp_path)
    assert any("utter_never_said" in problem for problem in problems)
