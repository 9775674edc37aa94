"""The eval-nlu command line: argument wiring, model resolution and error exits (no model loaded)."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import pytest

from bot.nlu import cli


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.add_commands(parser.add_subparsers())
    return parser.parse_args(["eval-nlu", *argv])


def test_defaults_point_at_the_shared_dev_sets() -> None:
    args = parse([])
    assert args.func is cli.handle_eval_nlu
    assert args.data is None and args.model is None
    assert [p.name for p in cli.DEFAULT_DATA] == ["bitext_dev.csv", "oos_dev.json"]
    assert args.out.name == "reports"


def test_data_is_repeatable(tmp_path: Path) -> None:
    args = parse(["--data", "a.csv", "--data", "b.json", "--out", str(tmp_path), "--limit", "5"])
    assert args.data == [Path("a.csv"), Path("b.json")]
    assert args.limit == 5


def test_resolve_model_picks_the_newest_archive(tmp_path: Path) -> None:
    old, new = tmp_path / "old.tar.gz", tmp_path / "new.tar.gz"
    old.write_bytes(b"x")
    new.write_bytes(b"x")
    past = time.time() - 100
    os.utime(old, (past, past))
    assert cli.resolve_model(None, models_dir=tmp_path) == new
    assert cli.resolve_model(old) == old
    assert cli.resolve_model(tmp_path) == new
    assert cli.resolve_model(None, models_dir=tmp_path / "none") is None
    with pytest.raises(FileNotFoundError):
        cli.resolve_model(tmp_path / "missing.tar.gz")


def test_bad_data_file_exits_2_with_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nhi,greet\n")
    assert cli.handle_eval_nlu(parse(["--data", str(bad), "--out", str(tmp_path)])) == 2
    assert "missing column" in capsys.readouterr().err


def test_missing_model_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "d.json"
    data.write_text('[{"text": "what time is it", "source": "t"}]')
    args = parse(["--data", str(data), "--model", str(tmp_path / "nope.tar.gz"), "--out", str(tmp_path)])
    assert cli.handle_eval_nlu(args) == 2
    assert "does not exist" in capsys.readouterr().err


def test_thinning_keeps_about_limit_rows() -> None:
    from bot.nlu.evaluation import LabelledUtterance

    rows = [LabelledUtterance(f"t{i}", None, "s") for i in range(100)]
    assert len(cli._thin(rows, 10)) == 10
    assert cli._thin(rows, None) == rows
    assert cli._thin(rows, 500) == rows


@pytest.mark.slow
def test_eval_nlu_end_to_end_on_the_project_model(
    trained_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The real command: load the project's model, parse a tiny fixture, write the report files."""
    import json

    in_scope = tmp_path / "tiny.csv"
    in_scope.write_text("text,intent\nwhere is my parcel right now,track_order\nI want my money back,get_refund\n")
    oos = tmp_path / "tiny_oos.json"
    oos.write_text('[{"text": "what is the capital of peru", "source": "trivia"}]')
    out = tmp_path / "reports"
    args = parse(["--model", str(trained_model), "--data", str(in_scope), "--data", str(oos), "--out", str(out)])
    assert cli.handle_eval_nlu(args) == 0
    payload = json.loads((out / "nlu_eval.json").read_text())
    assert payload["n_in_scope"] == 2 and payload["n_out_of_scope"] == 1
    assert payload["throughput_per_s"] > 0
    assert payload["meta"]["model"] == str(trained_model)
    assert (out / "nlu_confusion.png").stat().st_size > 0
    assert "in-scope accuracy" in capsys.readouterr().out
