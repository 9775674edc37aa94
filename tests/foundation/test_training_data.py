"""The training data is the team's own: no sentence of the evaluation sets, no contradictions."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from bot.settings import ROOT

EVAL = ROOT.parent / "shared" / "eval"


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def _training_lines() -> list[tuple[Path, str]]:
    lines = []
    for path in sorted((ROOT / "data").rglob("*.yml")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if re.match(r"^\s*- (?!intent:)", line):
                text = re.sub(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}", r"\1\2", line)
                lines.append((path, _norm(re.sub(r"^\s*-\s*", "", text))))
    return lines


@pytest.mark.skipif(not EVAL.is_dir(), reason="the evaluation sets live in ../shared/eval beside the clone")
def test_no_evaluation_sentence_is_trained_on() -> None:
    with open(EVAL / "bitext_dev.csv", encoding="utf-8") as handle:
        held_out = {_norm(row["text"]) for row in csv.DictReader(handle)}
    held_out |= {_norm(row["text"]) for row in json.loads((EVAL / "oos_dev.json").read_text())}
    leaked = [(path.name, text) for path, text in _training_lines() if text in held_out]
    assert leaked == []


def test_generated_examples_never_repeat_hand_written_ones(tmp_path: Path) -> None:
    from bot.nlu.extra_data import SPECS, generate, hand_written_keys

    exclude = frozenset(hand_written_keys(ROOT / "data" / "nlu"))
    for intent in SPECS:
        generated = generate(intent, 100, 7, exclude)
        assert generated, intent
        assert not {re.sub(r"\[([^\]]*)\]\([a-z_]+\)", "#", g.lower()) for g in generated} & exclude
