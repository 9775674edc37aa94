"""Issue 10, "forget me forgets" and "a failed part is never silence", on the whole stack as
``make run`` runs it (real processes, supervised, with the runner's erasure job):

* an erasure a customer confirms in a conversation is carried out by the runner's schedule,
  without anyone typing ``python -m bot privacy run`` (before, nothing ran it);
* the Rasa server process dies mid-conversation and comes back: the conversation continues with
  its events, slots and sealed identity, and nothing said before is lost.

Turns use Rasa's ``/intent`` payloads (what the widget's buttons send), so these tests exercise
the stack and not the NLU model's accuracy.
"""

from __future__ import annotations

import json
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
from tests.actions.helpers import signed
from tests.conftest import isolated_settings
from tests.security.conftest import STARTUP_S

pytestmark = pytest.mark.slow

#: how often the runner's erasure job runs here, and how long a conversation must be quiet first
ERASURE_EVERY_S = "2"
ERASURE_IDLE_S = "10"


@pytest.fixture(scope="module")
def running(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The whole stack with the erasure job, supervised as ``make run`` does."""
    from bot.runner import Stack, _prepare_demo_data, erasure_job
    from tests.actions.helpers import IDENTITY_SECRET

    schedule = {"TANDEM_ERASURE_EVERY_S": ERASURE_EVERY_S, "TANDEM_ERASURE_IDLE_S": ERASURE_IDLE_S}
    settings = isolated_settings(tmp_path_factory.mktemp("erasure"), TANDEM_IDENTITY_SECRET=IDENTITY_SECRET,
                                 **schedule)
    _prepare_demo_data(settings, quiet=True)
    env = {"TANDEM_VAR_DIR": str(settings.var_dir), "TANDEM_IDENTITY_SECRET": IDENTITY_SECRET, **schedule}
    stack = Stack(settings, trained_model, extra_env=env, jobs=[erasure_job(settings)]).start(timeout_s=STARTUP_S)
    stop = threading.Event()
    watcher = threading.Thread(target=stack.supervise, args=(stop,),
                               kwargs={"poll_s": 0.2, "first_backoff_s": 0.5}, daemon=True)
    watcher.start()
    try:
        yield stack
    finally:
        stop.set()
        watcher.join(timeout=10)
        stack.stop()


def response_text(file: str, name: str) -> str:
    return yaml.safe_load((ROOT / "domain" / file).read_text())["responses"][name][0]["text"]


def say(stack: Any, sender: str, text: str, metadata: dict[str, Any] | None = None) -> list[str]:
    body: dict[str, Any] = {"sender": sender, "message": text}
    if metadata:
        body["metadata"] = metadata
    request = urllib.request.Request(f"{stack.settings.rasa_url}/webhooks/rest/webhook",
                                     data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return [m.get("text") or "" for m in json.load(response)]


def tracker(stack: Any, sender: str) -> dict[str, Any]:
    url = f"{stack.settings.rasa_url}/conversations/{sender}/tracker?token={stack.settings.rasa_token}"
    with urllib.request.urlopen(url, timeout=60) as response:
        return json.load(response)


def wait_until(check: Any, timeout_s: float = 180.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise AssertionError(f"{what} not reached in {timeout_s:.0f} s")


def query(path: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path, timeout=30) as db:
        return db.execute(sql, args).fetchall()


def test_an_erasure_confirmed_in_a_conversation_is_carried_out_by_itself(running: Any) -> None:
    var = running.settings.var_dir
    sender = f"forget-{uuid.uuid4().hex[:8]}"
    emma = signed("emma.wilson@example.org")
    assert say(running, sender, "/forget_me", emma) == [response_text("privacy.yml", "utter_confirm_erasure")]
    assert response_text("privacy.yml", "utter_erasure_started") in say(running, sender, "/affirm", emma)
    ((customer_id,),) = query(var / "profiles.db", "SELECT customer_id FROM tp_event WHERE type = 'erasure_request' "
                              "AND conversation_id = ?", sender)
    assert query(var / "tracker.db", "SELECT count(*) FROM events WHERE sender_id = ?", sender)[0][0] > 0

    # nobody types a command: the runner's job erases her once the conversation has been quiet
    def erased() -> bool:
        rows = query(var / "profiles.db", "SELECT status FROM tp_event WHERE type = 'erasure_request' "
                     "AND customer_id = ?", customer_id)
        return rows == [("done",)]

    wait_until(erased, what="the erasure carried out")
    assert query(var / "profiles.db", "SELECT count(*) FROM tp_person WHERE customer_id = ?", customer_id) == [(0,)]
    assert query(var / "profiles.db", "SELECT count(*) FROM crm_contact WHERE email = ?",
                 "emma.wilson@example.org") == [(0,)]
    assert query(var / "tracker.db", "SELECT count(*) FROM events WHERE sender_id = ?", sender) == [(0,)]
    assert query(var / "events.db", "SELECT count(*) FROM events WHERE sender_id = ?", sender) == [(0,)]
    assert (var / "logs" / "erasure.log").exists()


def test_a_rasa_restart_mid_conversation_keeps_the_conversation(running: Any) -> None:
    rasa = running.services["rasa"]
    sender = f"restart-{uuid.uuid4().hex[:8]}"
    # Amelia, signed in on the first message only: later turns rely on the sealed identity slots
    first = say(running, sender, "/track_order", signed("amelia.hart@example.com"))
    assert any("DPD" in line for line in first), first
    before = tracker(running, sender)
    identity = {k: before["slots"][k] for k in ("customer_id", "identity_level", "identity_seal", "order_id")}
    assert identity["customer_id"] and identity["identity_level"] == "verified"

    old_pid = rasa.process.pid
    rasa.kill()  # a crash mid-conversation: SIGKILL, nothing flushed on the way out
    wait_until(lambda: rasa.process is not None and rasa.process.pid != old_pid and rasa.healthy(),
               STARTUP_S, "Rasa restarted by the runner")

    after = tracker(running, sender)
    assert after["events"][: len(before["events"])] == before["events"]  # nothing lost
    assert {k: after["slots"][k] for k in identity} == identity
    again = say(running, sender, "/track_order")  # no metadata: the sealed identity still holds
    assert any("DPD" in line for line in again), again
    assert not any("6-digit code" in line for line in again)  # not asked to prove it again
    said = [e["text"] for e in tracker(running, sender)["events"] if e["event"] == "user"]
    assert said == ["/track_order", "/track_order"]
