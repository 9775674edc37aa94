"""The assistants a benchmark compares, each started as real processes on free ports.

- :class:`Embedded`: tandem as ``make run`` starts it (SQLite tracker store and broker, action
  server, handoff service), in its own var dir.
- :class:`Stock`: a stock ``rasa init`` assistant (in-memory tracker, no action server), trained
  once into a cache dir with the same venv.
- :class:`Production`: tandem on the production services (PostgreSQL, Redis lock store, RabbitMQ
  broker) with N replicas of Rasa, the action server and the handoff service, in a schema and
  queue of its own that :meth:`Production.stop` drops.

Everything binds 127.0.0.1. The processes' ids are exposed for RSS and py-spy.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bot.runner import Service, Stack, StackError, _prepare_demo_data
from bot.settings import ROOT, Settings

STOCK_DIR = Path(os.environ.get("TANDEM_BENCH_STOCK_DIR", ROOT / "var" / "bench" / "stock"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


#: the bench drives each sender closed-loop with no think time: lift the per-sender rate limit
#: (bot/channels/guard.py) that would otherwise answer most of its turns with utter_rate_limited
LOAD_TEST_ENV = {"TANDEM_RATE_LIMIT_BURST": "100000", "TANDEM_RATE_LIMIT_PER_S": "100000"}


def isolated_settings(var_dir: Path, **overrides: str) -> Settings:
    env = {
        "TANDEM_VAR_DIR": str(var_dir),
        "RASA_PORT": str(free_port()),
        "ACTION_PORT": str(free_port()),
        "HANDOFF_PORT": str(free_port()),
        "RASA_TOKEN": "bench-token",
        **overrides,
    }
    return Settings.from_env(env)


def rss_mib(pid: int) -> float:
    """Resident memory of a process, from /proc (MiB)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return float("nan")


@dataclass
class Target:
    """A running assistant: where to send messages and which processes to watch."""

    name: str
    urls: list[str] = field(default_factory=list)
    processes: dict[str, int] = field(default_factory=dict)

    def rss(self) -> dict[str, float]:
        return {name: round(rss_mib(pid), 1) for name, pid in self.processes.items()}

    def stop(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class Embedded(Target):
    def __init__(self, model: Path, var_dir: Path, name: str = "tandem embedded",
                 services: tuple[str, ...] = ("actions", "rasa", "handoff"), extra_env: dict[str, str] | None = None,
                 endpoints: Path | None = None, **overrides: str):
        super().__init__(name)
        self.settings = isolated_settings(var_dir, **overrides)
        _prepare_demo_data(self.settings, quiet=True)
        self.stack = Stack(self.settings, model, services=services,
                           extra_env={"TANDEM_VAR_DIR": str(var_dir), **LOAD_TEST_ENV, **(extra_env or {})})
        if endpoints is not None:  # another endpoints file (the measured baseline)
            cmd = self.stack.services["rasa"].cmd
            cmd[cmd.index("--endpoints") + 1] = str(endpoints)

    def start(self) -> "Embedded":
        self.stack.start(timeout_s=900)
        self.urls = [self.settings.rasa_url]
        self.processes = {name: svc.process.pid for name, svc in self.stack.services.items() if svc.process}
        return self

    def stop(self) -> None:
        self.stack.stop()


def stock_model(project: Path = STOCK_DIR) -> Path:
    """A trained stock ``rasa init`` project, created and trained once (about 5 minutes)."""
    models = sorted((project / "models").glob("*.tar.gz")) if (project / "models").exists() else []
    if models:
        return models[-1]
    if project.exists():
        shutil.rmtree(project)
    project.mkdir(parents=True)
    subprocess.run([str(Path(sys.executable).with_name("rasa")), "init", "--no-prompt", "--init-dir", str(project)],
                   cwd=project, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return sorted((project / "models").glob("*.tar.gz"))[-1]


class Stock(Target):
    def __init__(self, log_dir: Path, project: Path = STOCK_DIR):
        super().__init__("stock rasa init")
        self.project = project
        self.model = stock_model(project)
        self.port = free_port()
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
        self.env = env
        self.service = Service(
            "stock",
            [str(Path(sys.executable).with_name("rasa")), "run", "--model", str(self.model),
             "--port", str(self.port), "--interface", "127.0.0.1", "--enable-api", "--credentials", str(project / "credentials.yml")],
            f"http://127.0.0.1:{self.port}/status",
            log_dir / "stock.log",
        )

    def start(self) -> "Stock":
        return self.launch().wait()

    def launch(self) -> "Stock":
        """Start the process without waiting (its model loads while other things start)."""
        self.service.start(self.env, self.project)
        return self

    def wait(self, timeout_s: float = 900) -> "Stock":
        deadline = time.monotonic() + timeout_s
        while not self.service.healthy():
            if self.service.exited() is not None or time.monotonic() > deadline:
                raise StackError(f"stock rasa did not start:\n{self.service.tail()}")
            time.sleep(0.5)
        self.urls = [f"http://127.0.0.1:{self.port}"]
        self.processes = {"rasa": self.service.process.pid}  # type: ignore[union-attr]
        return self

    def stop(self) -> None:
        self.service.stop()


def wait_http(url: str, timeout_s: float = 240) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise StackError(f"{url} did not answer")


def temp_dir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))


class Production(Target):
    """tandem on PostgreSQL, Redis and RabbitMQ with ``replicas`` copies of each process, in a
    database, lock prefix and queue of its own (removed by :meth:`stop`)."""

    def __init__(self, model: Path, replicas: int = 2, name: str = "tandem production",
                 extra_env: dict[str, str] | None = None):
        super().__init__(name)
        from tests.production.conftest import build_profiles, production_services

        self._services = production_services()
        self.env = self._services.__enter__()
        try:
            build_profiles(self.env, temp_dir("bench-profiles-"))
            self.replicas = [Embedded(model, temp_dir(f"bench-prod-{i}-"), name=f"{name} {i}",
                                      extra_env={**self.env, **(extra_env or {})}, **self.env)
                             for i in range(replicas)]
        except BaseException:
            self._services.__exit__(None, None, None)
            raise

    def start(self) -> "Production":
        import threading

        errors: list[BaseException] = []

        def start(replica: Embedded) -> None:
            try:
                replica.start()
            except BaseException as exc:  # noqa: BLE001 - re-raised below
                errors.append(exc)

        threads = [threading.Thread(target=start, args=(r,)) for r in self.replicas]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            self.stop()
            raise errors[0]
        self.urls = [r.settings.rasa_url for r in self.replicas]
        self.processes = {f"{svc} {i}": pid for i, r in enumerate(self.replicas) for svc, pid in r.processes.items()}
        return self

    def stop(self) -> None:
        for replica in self.replicas:
            replica.stop()
        self._services.__exit__(None, None, None)
