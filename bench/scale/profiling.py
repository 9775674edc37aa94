"""Sampling profiles of running processes with py-spy, summarised by where a turn's time goes.

``py-spy record --format raw`` writes collapsed stacks (``frame;frame;... count``); each
category below counts the samples whose stack passes through one of its frames (inclusive, so
categories nest: the broker write is part of the tracker store's save).
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

#: (label, substrings of a frame "function (file:line)"); the first frame that matches counts
CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("handle one message (processor)", ("handle_message (rasa/core/processor.py",)),
    ("  tracker read (retrieve)", ("fetch_tracker_and_update_session (rasa/core/processor.py",
                                  "get_tracker (rasa/core/processor.py")),
    ("  NLU parse", ("parse_message (rasa/core/processor.py",)),
    ("  policies predict (all)", ("predict_next_with_tracker_if_should (rasa/core/processor.py",
                                 "_predict_next_with_tracker (rasa/core/processor.py")),
    ("    TED policy", ("ted_policy.py",)),
    ("  action server call", ("_run_action (rasa/core/processor.py",)),
    ("  tracker save (all)", ("save_tracker (rasa/core/processor.py",)),
    ("    stream_events (re-read + broker)", ("stream_events (rasa/core/tracker_store.py",)),
    ("    broker write", ("publish (rasa/core/brokers/sql.py", "publish (rasa/core/brokers/pika.py")),
    ("  lock store", ("lock_store.py",)),
    ("tracker rebuild from events (from_dict)", ("from_dict (rasa/shared/core/trackers.py",)),
    ("json loads/dumps", ("loads (json/", "dumps (json/", "encode (json/", "decode (json/")),
    ("jsonschema", ("jsonschema/",)),
    ("SQLAlchemy", ("sqlalchemy/",)),
    ("tensorflow", ("tensorflow/",)),
    ("action server: run action", ("run (rasa_sdk/executor.py",)),
    ("action server: profile store", ("bot/profile/",)),
)


def py_spy() -> str | None:
    return shutil.which("py-spy") or (str(Path(sys.executable).with_name("py-spy"))
                                      if Path(sys.executable).with_name("py-spy").exists() else None)


class Recorder:
    """``with Recorder(pid, out):`` samples ``pid`` while the block runs."""

    def __init__(self, pid: int, out: Path, rate: int = 200) -> None:
        self.pid, self.out, self.rate = pid, out, rate
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "Recorder":
        exe = py_spy()
        if exe is None:
            return self
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [exe, "record", "--pid", str(self.pid), "--format", "raw", "--rate", str(self.rate),
             "--output", str(self.out), "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def load_stacks(path: Path) -> Counter[str]:
    stacks: Counter[str] = Counter()
    if not path.exists():
        return stacks
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks[stack] += int(count)
    return stacks


def breakdown(stacks: Counter[str]) -> list[tuple[str, int, float]]:
    """(category, samples, share of all samples) for each category."""
    total = sum(stacks.values()) or 1
    rows = []
    for label, needles in CATEGORIES:
        n = sum(count for stack, count in stacks.items() if any(needle in stack for needle in needles))
        rows.append((label, n, n / total))
    return rows


def top_functions(stacks: Counter[str], limit: int = 25) -> list[tuple[str, float]]:
    """Functions by inclusive share of samples (each stack counted once per function)."""
    total = sum(stacks.values()) or 1
    inclusive: Counter[str] = Counter()
    for stack, count in stacks.items():
        for frame in set(stack.split(";")):
            inclusive[frame] += count
    return [(frame, n / total) for frame, n in inclusive.most_common(limit)]
