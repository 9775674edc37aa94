"""``python -m bot eval-nlu``: measure the trained NLU model on the evaluation sets.

Loads a trained Rasa model in-process (``rasa.core.agent.Agent``), parses every
utterance of the given files one at a time, prints a table and writes
``nlu_eval.json`` and ``nlu_confusion.png`` under ``--out``. Without
``--model`` the newest model in ``models/`` is used, and one is trained
(``rasa train``) when there is none.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from bot.nlu.evaluation import (
    EvalDataError,
    LabelledUtterance,
    Parser,
    Prediction,
    compute_report,
    format_table,
    read_eval_file,
    run_parser,
    write_report,
)
from bot.settings import ROOT

logger = logging.getLogger(__name__)

DEFAULT_EVAL_DIR = ROOT.parent / "shared" / "eval"
DEFAULT_DATA = (DEFAULT_EVAL_DIR / "bitext_dev.csv", DEFAULT_EVAL_DIR / "oos_dev.json")


def add_commands(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "eval-nlu",
        help="measure intent accuracy, out-of-scope rejection and parse speed",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--model", type=Path, default=None,
        help="model .tar.gz, or a folder holding them (newest wins); default: newest in models/",
    )
    parser.add_argument(
        "--data", type=Path, action="append", default=None, metavar="FILE",
        help="Bitext CSV (text,intent,...) or JSON list of {text, source} out-of-scope queries; "
        "repeatable; default: both dev files in ../shared/eval",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "reports", help="report folder (default reports/)")
    parser.add_argument(
        "--limit", type=int, default=None, metavar="N",
        help="use only every k-th utterance so that about N remain per file (quick checks)",
    )
    parser.add_argument(
        "--show-errors", type=int, default=0, metavar="N",
        help="print up to N misclassified utterances per file to the terminal (never written to a file)",
    )
    parser.add_argument(
        "--no-server-rss", dest="server_rss", action="store_false",
        help="skip starting a Rasa server to measure its resident memory with the model loaded",
    )
    parser.add_argument(
        "--no-measure-training", dest="measure_training", action="store_false",
        help="skip timing a full `rasa train` from scratch and a retrain after an NLU-only change "
        "(each in a temporary folder with its own empty Rasa cache; several minutes)",
    )
    parser.set_defaults(func=handle_eval_nlu)


def resolve_model(model: Path | None, models_dir: Path = ROOT / "models") -> Path | None:
    """The model to evaluate: the given file, the newest ``*.tar.gz`` in a folder, or ``None``."""
    candidate = model if model is not None else models_dir
    if candidate.is_file():
        return candidate
    if candidate.is_dir():
        archives = sorted(candidate.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
        return archives[-1] if archives else None
    if model is not None:
        raise FileNotFoundError(f"model {model} does not exist")
    return None


def train_model(models_dir: Path = ROOT / "models") -> Path:
    """Train a full model (NLU + dialogue) from the project files into ``models_dir``."""
    from rasa.api import train

    logger.info("no trained model found: training one into %s", models_dir)
    result = train(
        domain=str(ROOT / "domain"),
        config=str(ROOT / "config.yml"),
        training_files=[str(ROOT / "data")],
        output=str(models_dir),
    )
    if result.code != 0 or not result.model:
        raise RuntimeError(f"rasa train failed with code {result.code}")
    return Path(result.model)


def agent_parser(model_path: Path) -> tuple[Parser, asyncio.AbstractEventLoop]:
    """Load ``model_path`` and return a synchronous parse function plus its event loop."""
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    # Rasa logs every parse at debug level through structlog: thousands of lines here
    configure_structlog(logging.WARNING)
    loop = asyncio.new_event_loop()
    agent = Agent.load(str(model_path))
    if not agent.is_ready():
        loop.close()
        raise RuntimeError(f"model {model_path} could not be loaded")

    def parse(text: str) -> Prediction:
        result = loop.run_until_complete(agent.parse_message(text))
        intent = result.get("intent") or {}
        entities = tuple(
            (str(e.get("entity")), str(e.get("value"))) for e in result.get("entities") or () if e.get("entity")
        )
        return Prediction(intent.get("name"), float(intent.get("confidence") or 0.0), entities)

    parse.agent = agent  # type: ignore[attr-defined]  # for benchmarks that inspect the model
    return parse, loop


def _thin(rows: list[LabelledUtterance], limit: int | None) -> list[LabelledUtterance]:
    if not limit or limit >= len(rows):
        return rows
    step = max(1, len(rows) // limit)
    return rows[::step]


def handle_eval_nlu(args: argparse.Namespace) -> int:
    files = args.data or list(DEFAULT_DATA)
    try:
        per_file = {path: _thin(read_eval_file(path), args.limit) for path in files}
    except EvalDataError as exc:
        print(f"eval-nlu: {exc}", file=sys.stderr)
        return 2
    try:
        model_path = resolve_model(args.model)
        if model_path is None:
            model_path = train_model()
    except (FileNotFoundError, RuntimeError) as exc:
        print(f"eval-nlu: {exc}", file=sys.stderr)
        return 2

    logger.info("evaluating %s", model_path)
    parse, loop = agent_parser(model_path)
    try:
        cpu_start = time.process_time()
        outcomes = run_parser([u for rows in per_file.values() for u in rows], parse)
        cpu_seconds = time.process_time() - cpu_start
    finally:
        loop.close()
    report = compute_report(outcomes)
    print(format_table(report))
    cpu_ms = 1000 * cpu_seconds / max(1, len(outcomes))
    print(f"cpu time per parse     {cpu_ms:6.2f} ms "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(f"parses/s single stream {1000 / max(cpu_ms, 1e-9):7.1f} per CPU second, "
          f"{report.throughput_per_s:.1f} wall (in-process, one at a time)")

    if args.show_errors:
        start = 0
        for path, rows in per_file.items():
            chunk = outcomes[start : start + len(rows)]
            start += len(rows)
            wrong = [o for o in chunk if not o.correct]
            print(f"\n{path.name}: {len(wrong)} wrong, first {args.show_errors}:")
            for outcome in wrong[: args.show_errors]:
                label = outcome.utterance.intent or outcome.utterance.source
                print(f"  [{label}] -> {outcome.prediction.intent} "
                      f"({outcome.prediction.confidence:.2f}): {outcome.utterance.text}")

    measured: dict[str, Any] = {}
    if args.server_rss:
        from bot.nlu.measure import server_rss_mb

        try:
            measured["rasa_server_rss_mb"] = round(server_rss_mb(model_path), 1)
            print(f"rasa server RSS         {measured['rasa_server_rss_mb']:7.1f} MB (model loaded, one parse done)")
        except RuntimeError as exc:
            print(f"eval-nlu: server RSS not measured: {exc}", file=sys.stderr)
    if args.measure_training:
        from bot.nlu.measure import training_seconds

        measured["training_seconds"] = training_seconds()
        for label, seconds in measured["training_seconds"].items():
            print(f"rasa train {label:<22} {seconds:7.1f} s")

    meta = {
        **measured,
        "model": str(model_path),
        "data": [str(p) for p in files],
        "limit": args.limit,
        "cpu_count": os.cpu_count(),
        # CPU time per parse: less sensitive than wall time to other work on a shared machine
        "cpu_ms_per_parse": round(1000 * cpu_seconds / max(1, len(outcomes)), 3),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
    }
    json_path, png_path = write_report(report, args.out, meta)
    print(f"\nwrote {json_path} and {png_path}")
    return 0
