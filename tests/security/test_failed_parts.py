"""A failed part is never silence (issue 10, finding 5), with the faults injected on loopback.

Before: after SIGTERM to the action server, "where is my order?" and "I want to talk to a
human" both got ``200 []`` (no answer, nothing queued, the conversation not paused) and the
runner did not notice; after SIGKILL the runner stopped Rasa and the handoff service too.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from bot.settings import ROOT
from tests.conftest import isolated_settings
from tests.security.conftest import STARTUP_S

pytestmark = pytest.mark.slow


def domain_text(name: str) -> str:
    return yaml.safe_load((ROOT / "domain" / "guard.yml").read_text())["responses"][name][0]["text"]


@pytest.fixture(scope="module")
def supervised(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The whole stack, supervised as `make run` does, with short back-offs and action timeout."""
    from bot.runner import Stack, _prepare_demo_data

    settings = isolated_settings(tmp_path_factory.mktemp("faults"))
    _prepare_demo_data(settings, quiet=True)
    env = {"TANDEM_VAR_DIR": str(settings.var_dir), "TANDEM_ACTION_TIMEOUT_S": "3"}
    stop = threading.Event()
    stack = Stack(settings, trained_model, extra_env=env).start(timeout_s=STARTUP_S)
    watcher = threading.Thread(target=stack.supervise, args=(stop,),
                               kwargs={"poll_s": 0.2, "first_backoff_s": 0.5}, daemon=True)
    watcher.start()
    try:
        yield stack
    finally:
        stop.set()
        watcher.join(timeout=10)
        stack.stop()


def say(stack: Any, sender: str, text: str) -> list[str]:
    body = json.dumps({"sender": sender, "message": text}).encode()
    request = urllib.request.Request(f"{stack.settings.rasa_url}/webhooks/rest/webhook", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return [m.get("text") or "" for m in json.load(response)]


def tracker(stack: Any, sender: str) -> dict[str, Any]:
    url = f"{stack.settings.rasa_url}/conversations/{sender}/tracker?token={stack.settings.rasa_token}"
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


def wait_until(check: Any, timeout_s: float = 180.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise AssertionError("condition not reached in time")


def queued_in_handoff(stack: Any, sender: str) -> bool:
    with sqlite3.connect(stack.settings.var_dir / "handoff.db") as db:
        return db.execute("select count(*) from handoff_conversations where sender_id = ?", (sender,)).fetchone()[0] > 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_without_the_action_server_the_customer_is_answered_and_can_reach_a_person(
    supervised: Any, sig: signal.Signals
) -> None:
    actions, rasa, handoff = (supervised.services[n] for n in ("actions", "rasa", "handoff"))
    others = {rasa.process.pid, handoff.process.pid}
    wait_until(actions.healthy)
    os.killpg(actions.process.pid, sig)
    wait_until(lambda: actions.exited() is not None, 30)
    sender = f"fault-{uuid.uuid4().hex[:8]}"
    first = say(supervised, sender, "where is my order?")
    assert first == [domain_text("utter_action_unavailable")]
    second = say(supervised, sender, "I want to talk to a human")
    assert second == [domain_text("utter_handoff_without_estimate")]
    state = tracker(supervised, sender)
    assert state["paused"] and state["slots"]["handoff_request"]["handoff_id"]
    said = [e["text"] for e in state["events"] if e["event"] == "user"]
    assert said == ["where is my order?", "I want to talk to a human"]  # nothing lost
    wait_until(lambda: queued_in_handoff(supervised, sender), 60)  # an agent will see it
    # the runner restarts the action server; Rasa and the handoff service never stopped
    wait_until(lambda: actions.exited() is None and actions.healthy())
    assert {rasa.process.pid, handoff.process.pid} == others and rasa.exited() is None
    assert say(supervised, f"after-{uuid.uuid4().hex[:8]}", "what payment options can i use") != [
        domain_text("utter_action_unavailable")]


def test_a_hanging_action_server_gets_an_honest_answer_in_bounded_time(supervised: Any) -> None:
    actions = supervised.services["actions"]
    wait_until(lambda: actions.exited() is None and actions.healthy())
    os.killpg(actions.process.pid, signal.SIGSTOP)  # accepts connections, never answers
    try:
        sender = f"slow-{uuid.uuid4().hex[:8]}"
        assert say(supervised, sender, "where is my order?") == [domain_text("utter_action_unavailable")]
    finally:
        os.killpg(actions.process.pid, signal.SIGCONT)
    wait_until(actions.healthy, 30)


def test_the_runner_logs_each_exit_and_restart(supervised: Any, caplog: pytest.LogCaptureFixture) -> None:
    actions = supervised.services["actions"]
    wait_until(lambda: actions.exited() is None and actions.healthy())
    with caplog.at_level("WARNING", logger="bot.runner"):
        os.killpg(actions.process.pid, signal.SIGKILL)
        wait_until(lambda: "actions restarted" in caplog.text, 60)
    assert "actions exited with code -9; restarting it in" in caplog.text
    assert caplog.text.count("actions exited with code -9") == 1  # one exit, reported once
