from __future__ import annotations

import shutil
from pathlib import Path

from bot.settings import ROOT
from bot.training import MODEL_INPUTS, model_fingerprint, model_path


def _copy_inputs(target: Path) -> None:
    for name in MODEL_INPUTS:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.is_file():
            shutil.copy(source, target / name)


def test_fingerprint_is_stable_and_follows_every_input(tmp_path: Path) -> None:
    _copy_inputs(tmp_path)
    before = model_fingerprint(tmp_path)
    assert model_fingerprint(tmp_path) == before

    nlu = next((tmp_path / "data" / "nlu").glob("*.yml"))
    nlu.write_text(nlu.read_text() + "\n")
    after_data = model_fingerprint(tmp_path)
    assert after_data != before

    config = tmp_path / "config.yml"
    config.write_text(config.read_text() + "\n# tuned\n")
    assert model_fingerprint(tmp_path) != after_data


def test_model_path_names_the_fingerprint(tmp_path: Path) -> None:
    _copy_inputs(tmp_path)
    path = model_path(tmp_path)
    assert path.parent == tmp_path / "models"
    assert path.name == f"tandem-{model_fingerprint(tmp_path)}.tar.gz"


def test_the_training_cache_follows_our_code_not_the_data(tmp_path: Path) -> None:
    """Rasa re-uses cached components when only data changed (an NLU-only change keeps the
    dialogue policies); a change to our components' code starts an empty cache."""
    from bot.training import cache_dir

    _copy_inputs(tmp_path)
    before = cache_dir(tmp_path)
    assert before.parent == tmp_path / ".rasa"
    nlu = next((tmp_path / "data" / "nlu").glob("*.yml"))
    nlu.write_text(nlu.read_text() + "\n")
    assert cache_dir(tmp_path) == before
    code = tmp_path / "bot" / "nlu" / "linear_classifier.py"
    code.write_text(code.read_text() + "\n# changed\n")
    assert cache_dir(tmp_path) != before
