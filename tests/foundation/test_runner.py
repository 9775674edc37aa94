from __future__ import annotations

from pathlib import Path

from bot.rasa_server import rasa_argv
from bot.runner import Stack
from bot.settings import Settings


def test_the_token_is_not_on_the_command_line_and_reaches_rasa_intact(tmp_path: Path) -> None:
    settings = Settings.from_env({"TANDEM_VAR_DIR": str(tmp_path), "RASA_TOKEN": "-starts-with-a-dash"})
    stack = Stack(settings, model=tmp_path / "model.tar.gz", services=("rasa",))
    cmd = stack.services["rasa"].cmd
    assert not any("-starts-with-a-dash" in arg for arg in cmd)
    assert stack.env["RASA_TOKEN"] == "-starts-with-a-dash"
    assert "--auth-token=-starts-with-a-dash" in rasa_argv(cmd[2:], stack.env)  # after "python -m"


def test_jobs_run_on_their_schedule_one_at_a_time_while_the_stack_is_supervised(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    """The runner starts each job when due (at once, then every ``every_s``), never two runs of
    it at once, logs a failed run, and stops a running one with the stack."""
    import sys
    import threading
    import time

    from bot.runner import Job

    marks = tmp_path / "marks"
    # each run writes its start and end; a run takes 0.3 s, longer than the 0.2 s schedule
    script = (f"import time; f = open({str(marks)!r}, 'a'); f.write('start\\n'); f.flush(); "
              "time.sleep(0.3); f.write('end\\n'); f.close(); raise SystemExit(3)")
    job = Job("tick", [sys.executable, "-c", script], 0.2, tmp_path / "tick.log")
    stack = Stack(Settings.from_env({"TANDEM_VAR_DIR": str(tmp_path)}), services=(), jobs=[job])
    stop = threading.Event()
    watcher = threading.Thread(target=stack.supervise, args=(stop,), kwargs={"poll_s": 0.05})
    with caplog.at_level("ERROR", logger="bot.runner"):
        watcher.start()
        deadline = time.monotonic() + 60
        while job.runs < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        watcher.join(timeout=10)
    stack.stop()
    assert job.runs >= 3 and job.process is None
    lines = marks.read_text().split()
    assert lines[: 2 * job.runs] == ["start", "end"] * job.runs  # one run at a time, each to its end
    assert "tick exited with code 3; it runs again in 0 s" in caplog.text


def test_make_run_schedules_the_erasure_requests(tmp_path: Path) -> None:
    from bot.runner import erasure_job

    settings = Settings.from_env({"TANDEM_VAR_DIR": str(tmp_path), "TANDEM_ERASURE_EVERY_S": "120",
                                  "TANDEM_ERASURE_IDLE_S": "90"})
    job = erasure_job(settings)
    assert job.every_s == 120 and job.cmd[-5:] == ["bot", "privacy", "run", "--idle-minutes", "1.5"]
    stack = Stack(settings, services=(), jobs=[job])
    assert stack.env_for("erasure")["TANDEM_HANDOFF_DB_URL"] == settings.handoff_db_url  # it erases handoff records
