"""The runner restarts a crashed child with back-off and leaves the others alone (finding 5).

Before: any child's exit stopped `make run` altogether (Rasa and the handoff service too)."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from bot.runner import Stack
from bot.settings import Settings


def wait_until(check, timeout_s: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def test_a_crashed_child_is_restarted_with_back_off_while_the_others_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings.from_env({"TANDEM_VAR_DIR": str(tmp_path), "RASA_TOKEN": "t"})
    stack = Stack(settings, model=tmp_path / "model.tar.gz", services=("actions", "rasa"))
    for service in stack.services.values():  # stand-ins: the supervision is what is tested here
        service.cmd = [sys.executable, "-c", "import time; time.sleep(300)"]
        service.start(stack.env, stack.root)
    actions, rasa = stack.services["actions"], stack.services["rasa"]
    rasa_pid = rasa.process.pid
    stop = threading.Event()
    watcher = threading.Thread(target=stack.supervise, args=(stop,),
                               kwargs={"poll_s": 0.05, "first_backoff_s": 0.3}, daemon=True)
    try:
        with caplog.at_level(logging.WARNING, logger="bot.runner"):
            watcher.start()
            for restart in (1, 2):
                crashed = actions.process.pid
                os.killpg(crashed, signal.SIGKILL)
                wait_until(lambda pid=crashed: actions.process.pid != pid and actions.exited() is None)
                assert f"actions restarted (restart {restart} in a row)" in caplog.text
        assert caplog.text.count("actions exited with code -9") == 2  # each exit reported once
        assert "restarting it in 0.3 s" in caplog.text and "restarting it in 0.6 s" in caplog.text
        assert rasa.process.pid == rasa_pid and rasa.exited() is None  # never touched
    finally:
        stop.set()
        watcher.join(timeout=5)
        stack.stop()
