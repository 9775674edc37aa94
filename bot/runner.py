"""Start, watch and stop tandem's processes: ``python -m bot run|train|shell``.

The product is three processes that talk over HTTP on localhost:

- the action server (``rasa run actions``), our custom actions;
- the Rasa server (``rasa run``): channels (REST, socket.io), the HTTP API
  protected by a token, tracker store and event broker from ``endpoints.yml``;
- the handoff service (``python -m bot handoff serve``): agent queue and console.

:class:`Stack` starts any subset of them with the environment built from
:class:`bot.settings.Settings`, waits until each answers its health check, and
stops them all (children first asked politely, then killed). ``make run`` and
the end-to-end tests use the same code. While it supervises the children it
also starts its :class:`Job` s on their schedule: ``make run`` carries out due
erasure requests (``python -m bot privacy run``) every ``TANDEM_ERASURE_EVERY_S``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Iterable, Sequence

from sqlalchemy.engine import make_url

from bot.security import PRIVATE_UMASK, bind_host, cors_origins, open_private, secure_state_dir
from bot.settings import ROOT, Settings, apply_rasa_env

logger = logging.getLogger(__name__)

#: how long a process may take to become healthy. Rasa loads TensorFlow and the model first:
#: tens of seconds on a quiet machine, minutes on a loaded one. Waiting ends as soon as it is up.
START_TIMEOUT_S = float(os.environ.get("TANDEM_START_TIMEOUT_S") or 600)

ALL_SERVICES = ("actions", "rasa", "handoff")


def _terminate(process: subprocess.Popen | None, grace_s: float) -> None:
    """SIGTERM to the process group, SIGKILL after ``grace_s``; nothing if it already ended."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=grace_s)
    except ProcessLookupError:
        pass


class StackError(RuntimeError):
    """A process did not start or did not become healthy; the message says which and where its log is."""


@dataclass
class Service:
    name: str
    cmd: list[str]
    health_url: str
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    def start(self, env: dict[str, str], cwd: Path) -> None:
        self._log = open_private(self.log_path, "ab")
        self.process = subprocess.Popen(
            self.cmd, cwd=cwd, env=env, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True, umask=PRIVATE_UMASK,  # its state files: owner only
        )

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.health_url, timeout=2) as response:
                return 200 <= response.status < 300
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return False

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def stop(self, grace_s: float = 10.0) -> None:
        _terminate(self.process, grace_s)
        if self._log is not None:
            self._log.close()
            self._log = None

    def kill(self) -> None:
        """Stop abruptly, as a crash would (used by the fault-tolerance tests)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


@dataclass
class Job:
    """A command the runner starts every ``every_s`` seconds, first at once; never two runs at
    the same time (a slow run delays the next). A failed run is logged with the end of its log."""

    name: str
    cmd: list[str]
    every_s: float
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    next_at: float = 0.0
    runs: int = 0
    _log: IO[bytes] | None = field(default=None, repr=False)

    def tick(self, now: float, env: dict[str, str], cwd: Path) -> None:
        if self.process is not None:
            code = self.process.poll()
            if code is None:
                return
            self._finished(code)
        if now >= self.next_at:
            self.next_at = now + self.every_s
            self._log = open_private(self.log_path, "ab")
            self.process = subprocess.Popen(
                self.cmd, cwd=cwd, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                start_new_session=True, umask=PRIVATE_UMASK,
            )

    def _finished(self, code: int) -> None:
        self.process = None
        self.runs += 1
        if self._log is not None:
            self._log.close()
            self._log = None
        if code != 0:
            lines = self.log_path.read_text(errors="replace").splitlines()[-10:]
            logger.error("%s exited with code %s; it runs again in %.0f s. End of %s:\n%s",
                         self.name, code, self.every_s, self.log_path, "\n".join(lines))

    def stop(self, grace_s: float = 10.0) -> None:
        _terminate(self.process, grace_s)
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None


def erasure_job(settings: Settings) -> Job:
    """``python -m bot privacy run`` every ``settings.erasure_every_s``: the erasure requests
    customers confirmed in a conversation are carried out once that conversation has been idle
    ``settings.erasure_idle_s``, without anyone typing a command."""
    return Job(
        "erasure",
        [sys.executable, "-m", "bot", "privacy", "run", "--idle-minutes", f"{settings.erasure_idle_s / 60:g}"],
        settings.erasure_every_s,
        settings.var_dir / "logs" / "erasure.log",
    )


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def prepare_sqlite(*urls: str) -> None:
    """Put Rasa's SQLite tracker store in WAL mode before Rasa opens it.

    WAL is a property of the file, so Rasa uses it without knowing: a commit costs one sync
    instead of a rollback journal's several. Done here, while no process has the file open.
    The broker file is left as Rasa makes it: the handoff service reads it with a fresh
    connection per read, and in WAL mode each close of the last connection checkpoints the log
    (measured: customer message -> console p99 287 ms became 814 ms). PostgreSQL is left alone.
    """
    for url in urls:
        parsed = make_url(url)
        if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
            continue
        path = Path(parsed.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))  # private from the start
        with contextlib.closing(sqlite3.connect(path, timeout=30)) as db:
            db.execute("PRAGMA journal_mode=WAL")


class Stack:
    """A set of tandem processes configured from one :class:`Settings`."""

    def __init__(
        self,
        settings: Settings,
        model: Path | None = None,
        services: Iterable[str] = ALL_SERVICES,
        root: Path = ROOT,
        extra_env: dict[str, str] | None = None,
        jobs: Iterable[Job] = (),
    ) -> None:
        self.settings = settings
        self.root = root
        self.model = model
        #: started on their schedule while :meth:`supervise` runs
        self.jobs = list(jobs)
        wanted = list(services)
        unknown = set(wanted) - set(ALL_SERVICES)
        if unknown:
            raise ValueError(f"unknown services: {sorted(unknown)}")
        if "rasa" in wanted and model is None:
            raise ValueError("the rasa service needs a model")
        self.env = {**os.environ, **settings.rasa_env(), **(extra_env or {})}
        self.env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))
        self.env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        # where Rasa's callback channel (credentials.yml) posts replies; a deployment sets its own
        self.env.setdefault("TANDEM_CALLBACK_URL", "http://127.0.0.1:5034/bot")
        logs = settings.var_dir / "logs"
        self.services: dict[str, Service] = {}
        builders = {
            "actions": lambda: Service(
                "actions",
                # rasa_sdk's server on 127.0.0.1, answering only calls with the shared token
                [sys.executable, "-m", "bot.action_server", "--actions", "actions",
                 "--port", str(settings.action_port)],
                f"http://127.0.0.1:{settings.action_port}/health",
                logs / "actions.log",
            ),
            "rasa": lambda: Service(
                "rasa",
                # Rasa's own command, with its events endpoint's schema checked once; the API
                # token reaches it through RASA_TOKEN in its environment (bot/rasa_server.py)
                [sys.executable, "-m", "bot.rasa_server", "run", "--enable-api",
                 "--model", str(model), "--endpoints", str(root / "endpoints.yml"),
                 "--credentials", str(root / "credentials.yml"),
                 "--interface", bind_host(self.env), "--port", str(settings.rasa_port),
                 "--cors", *cors_origins(settings.handoff_url, self.env)],
                # /status answers only once a model is loaded (409 without one), unlike /
                f"http://127.0.0.1:{settings.rasa_port}/status?token={settings.rasa_token}",
                logs / "rasa.log",
            ),
            "handoff": lambda: Service(
                "handoff",
                [sys.executable, "-m", "bot", "handoff", "serve"],
                f"{settings.handoff_url.rstrip('/')}/health",
                logs / "handoff.log",
            ),
        }
        for name in ALL_SERVICES:
            if name in wanted:
                self.services[name] = builders[name]()

    def start(self, timeout_s: float | None = None) -> "Stack":
        secure_state_dir(self.settings.var_dir)
        if "rasa" in self.services:
            prepare_sqlite(self.settings.tracker_db_url)
        for name, service in self.services.items():
            service.start(self.env_for(name), self.root)
        try:
            for service in self.services.values():
                self.wait_healthy(service, timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def env_for(self, name: str) -> dict[str, str]:
        """The process environment of service or job ``name``: the queue database only for the
        handoff service and the erasure job, which deletes a person's handoff records (the action
        server reaches the queue through the service's intake)."""
        if name in ("handoff", "erasure"):
            return {**self.settings.handoff_env(), **self.env}
        return {k: v for k, v in self.env.items() if k != "TANDEM_HANDOFF_DB_URL"}

    def wait_healthy(self, service: Service, timeout_s: float | None = None) -> None:
        timeout_s = START_TIMEOUT_S if timeout_s is None else timeout_s
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if service.healthy():
                return
            code = service.exited()
            if code is not None:
                raise StackError(
                    f"{service.name} exited with code {code}; log {service.log_path}:\n{service.tail()}"
                )
            time.sleep(0.5)
        raise StackError(f"{service.name} not healthy after {timeout_s:.0f} s; log {service.log_path}:\n{service.tail()}")

    def supervise(self, stop: threading.Event, poll_s: float = 1.0, first_backoff_s: float = 1.0,
                  max_backoff_s: float = 60.0, stable_s: float = 60.0) -> None:
        """Until ``stop`` is set: restart any child that exits, the others keep running.

        Each restart waits twice as long as the one before (``first_backoff_s`` up to
        ``max_backoff_s``), so a child that cannot start does not spin; one that then ran for
        ``stable_s`` starts again from the shortest wait. Every exit and restart is logged
        with the end of the child's own log. The stack's jobs start when they are due.
        """
        failures = {name: 0 for name in self.services}
        started = {name: time.monotonic() for name in self.services}
        due: dict[str, float] = {}
        while not stop.is_set():
            now = time.monotonic()
            for name, service in self.services.items():
                code = service.exited()
                if code is None:
                    continue
                if name not in due:
                    failures[name] = 1 if now - started[name] >= stable_s else failures[name] + 1
                    delay = min(max_backoff_s, first_backoff_s * 2 ** (failures[name] - 1))
                    due[name] = now + delay
                    logger.error("%s exited with code %s; restarting it in %.1f s (the others keep running). "
                                 "End of %s:\n%s", name, code, delay, service.log_path, service.tail(10))
                elif now >= due[name]:
                    del due[name]
                    service.stop()  # closes the old log handle
                    service.start(self.env, self.root)
                    started[name] = now
                    logger.warning("%s restarted (restart %d in a row)", name, failures[name])
            for job in self.jobs:
                job.tick(now, self.env_for(job.name), self.root)
            stop.wait(poll_s)

    def restart(self, name: str, timeout_s: float | None = None) -> None:
        service = self.services[name]
        service.stop()
        service.process = None
        service.start(self.env_for(name), self.root)
        self.wait_healthy(service, timeout_s)

    def stop(self) -> None:
        for job in self.jobs:
            job.stop()
        for service in reversed(list(self.services.values())):
            service.stop()

    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _banner(settings: Settings, stack: Stack) -> str:
    lines = [
        "",
        "tandem is running (everything on this machine; Ctrl-C stops it). Talk to the bot:",
        f"  curl -s -X POST {settings.rasa_url}/webhooks/rest/webhook \\",
        "       -H 'Content-Type: application/json' -d '{\"sender\": \"me\", \"message\": \"hi\"}'",
        "  or `make shell` for a terminal chat (in another terminal, after stopping this one).",
        f"Rasa HTTP API: {settings.rasa_url} (token in RASA_TOKEN or {settings.var_dir / 'rasa_token'})",
    ]
    if "handoff" in stack.services:
        lines += _customer_banner(settings, stack)
    lines += [f"Logs: {settings.var_dir / 'logs'}", "Ctrl-C stops everything.", ""]
    return "\n".join(lines)


def _customer_banner(settings: Settings, stack: Stack) -> list[str]:
    """The demo shop (the widget, as a customer sees it) and the agent console, with how to log in."""
    agents = stack.env.get("TANDEM_AGENTS")
    login = "agents from TANDEM_AGENTS" if agents else "demo agents alice / alice and bob / bob"
    lines = []
    if stack.env.get("TANDEM_DEMO_SHOP", "1") != "0":
        built = (ROOT / "widget" / "dist" / "tandem-widget.js").exists()
        lines.append(f"Demo shop (the chat widget, as a customer): {settings.handoff_url}/shop"
                     + ("" if built else "  [widget not built: needs npm, see scripts/install.sh]"))
    lines.append(f"Agent console: {settings.handoff_url}/console  ({login})")
    return lines


def _build_widget() -> None:
    """Build the website widget if its sources changed (scripts/install.sh skips it otherwise)."""
    script = ROOT / "scripts" / "install.sh"
    if script.exists():
        subprocess.run([str(script), "--widget"], cwd=ROOT, check=False)


def cmd_train(args: argparse.Namespace) -> int:
    from bot.training import ensure_model

    print(ensure_model(force=args.force, validate=not args.skip_validation))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from bot.training import ensure_model

    settings = apply_rasa_env()
    _prepare_demo_data(settings)
    model = ensure_model()
    _build_widget()
    services = args.services or ALL_SERVICES
    # erasure requests are carried out on a schedule, where their conversations are kept
    jobs = [erasure_job(settings)] if "rasa" in services else []
    stack = Stack(settings, model, services=services, jobs=jobs)
    print(f"starting {', '.join(stack.services)} (logs in {settings.var_dir / 'logs'}) ...", flush=True)
    stack.start()
    print(_banner(settings, stack), flush=True)
    demo = _start_insights_demo(settings, stack)
    stopping = threading.Event()

    def _stop(*_: object) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    try:
        stack.supervise(stopping)  # a crashed child is restarted with back-off, the others keep running
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping ...", flush=True)
        if demo is not None and demo.poll() is None:
            os.killpg(demo.pid, signal.SIGTERM)
            demo.wait(timeout=10)
        stack.stop()
    return 0


def _start_insights_demo(settings: Settings, stack: Stack) -> subprocess.Popen[bytes] | None:
    """Replay the supervisor view's demo conversations in the background (``python -m bot
    insights demo``: through Rasa and the agent API, about five minutes on first start), so the view
    is not empty. Only with the development agents and the whole stack. The replay skips what
    ``var/insights_demo.json`` says it did: a later start finishes an interrupted one or adds
    nothing. ``TANDEM_INSIGHTS_DEMO=0`` turns it off."""
    env = stack.env
    if env.get("TANDEM_INSIGHTS_DEMO", "1") == "0" or env.get("TANDEM_AGENTS") or set(stack.services) != set(ALL_SERVICES):
        return None
    log = settings.var_dir / "logs" / "insights-demo.log"
    if not (settings.var_dir / "insights_demo.json").exists():
        print(f"Replaying demo conversations for the supervisor view in the background (log {log}; "
              "they pass through the agent console as alice and bob; TANDEM_INSIGHTS_DEMO=0 skips it).", flush=True)
    with open_private(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "insights", "demo"], cwd=stack.root, env=env,
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True, umask=PRIVATE_UMASK,
        )


def cmd_shell(args: argparse.Namespace) -> int:
    from bot.training import ensure_model

    settings = apply_rasa_env()
    _prepare_demo_data(settings)
    model = ensure_model()
    with Stack(settings, model, services=("actions",)) as stack:
        del stack
        return subprocess.call(
            [_bin("rasa"), "shell", "--model", str(model), "--endpoints", str(ROOT / "endpoints.yml")],
            cwd=ROOT, env={**os.environ, **settings.rasa_env()}, umask=PRIVATE_UMASK,
        )


def cmd_conversation_test(args: argparse.Namespace) -> int:
    """Run the conversation tests (``tests/conversations/test_*.yml``) with the real action server.

    Every user message is parsed by the model (``--e2e``) and any story whose understood
    intents or entities, or predicted actions, differ fails the run; the
    failed stories are written to ``results/failed_test_stories.yml``.
    """
    import tempfile

    from bot.training import ensure_model

    model = Path(args.model) if args.model else ensure_model()
    with tempfile.TemporaryDirectory(prefix="tandem-conv-") as tmp:
        port = args.action_port or _free_port()  # two runs at once must not share a port
        env = dict(os.environ, TANDEM_VAR_DIR=tmp, ACTION_PORT=str(port))
        env.pop("ACTION_SERVER_URL", None)
        settings = Settings.from_env(env)
        _prepare_demo_data(settings, quiet=True)
        with Stack(settings, model, services=("actions",), extra_env={"TANDEM_VAR_DIR": tmp}):
            return subprocess.call(
                [_bin("rasa"), "test", "core", "--model", str(model),
                 "--stories", str(ROOT / "tests" / "conversations"),
                 "--endpoints", str(ROOT / "endpoints.yml"),
                 "--out", str(ROOT / "results"), "--fail-on-prediction-errors",
                 # --e2e: every user message goes through the model, so a story also checks the
                 # intent and entities understood in that place of the conversation
                 "--e2e"],
                cwd=ROOT, env={**os.environ, **settings.rasa_env(), "TANDEM_VAR_DIR": tmp}, umask=PRIVATE_UMASK,
            )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _prepare_demo_data(settings: Settings, quiet: bool = False) -> None:
    """Build the demo profile store on first run so the bot has customers to serve."""
    if importlib.util.find_spec("bot.profile.cli") is None:
        return
    db_url = settings.profile_db_url
    if db_url.startswith("sqlite") and (settings.var_dir / "profiles.db").exists():
        return
    if not db_url.startswith("sqlite"):
        return  # a real store is managed by its owners, not by `make run`
    if not quiet:
        print("building the demo customer profiles (first run only) ...", flush=True)
    subprocess.run(
        [sys.executable, "-m", "bot", "profile", "build"], cwd=ROOT, check=True,
        env={**os.environ, **settings.rasa_env()},
        stdout=subprocess.DEVNULL if quiet else None, umask=PRIVATE_UMASK,
    )


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    train = subparsers.add_parser("train", help="train the assistant if its inputs changed")
    train.add_argument("--force", action="store_true", help="train even if a model for these inputs exists")
    train.add_argument("--skip-validation", action="store_true",
                       help="skip Rasa's data validation (after `python -m bot validate`, which is stricter)")
    train.set_defaults(func=cmd_train)

    run = subparsers.add_parser("run", help="start the action server, Rasa and the handoff service")
    run.add_argument("--only", dest="services", action="append", choices=ALL_SERVICES,
                     help="start only this service (repeatable; default: all)")
    run.set_defaults(func=cmd_run)

    conv = subparsers.add_parser("conversation-test", help="run tests/conversations through the assistant")
    conv.add_argument("--model", help="model file (default: train or reuse the cached one)")
    conv.add_argument("--action-port", type=int, default=0,
                      help="port for the temporary action server (default: a free one)")
    conv.set_defaults(func=cmd_conversation_test)

    shell = subparsers.add_parser("shell", help="chat with the bot in this terminal")
    shell.set_defaults(func=cmd_shell)


def main(argv: Sequence[str] | None = None) -> int:  # pragma: no cover - convenience
    from bot.cli import main as cli_main

    return cli_main(argv)
