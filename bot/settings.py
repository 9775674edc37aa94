"""Settings in one place, read from the environment and validated once.

Every host, port, URL and secret of tandem comes from an environment
variable; the defaults are the embedded set-up (SQLite files under ``var/``,
everything on localhost) so that ``make run`` needs nothing else started.

Rasa reads ``endpoints.yml``, which refers to environment variables with
``${NAME}``. Rasa has no defaults for those, so :meth:`Settings.rasa_env`
produces the full set of variables for the Rasa and action-server processes
and :func:`apply_rasa_env` puts the missing ones into ``os.environ``.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


def _sqlite_url(path: Path, driver: str = "aiosqlite") -> str:
    return f"sqlite+{driver}:///{path}"


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from exc


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number of seconds, got {raw!r}") from exc
    if not value > 0:
        raise SettingsError(f"{name} must be more than 0 seconds, got {raw!r}")
    return value


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name) or default
    parts = urlsplit(value)
    if not parts.scheme:
        raise SettingsError(f"{name} must be a URL with a scheme, got {value!r}")
    return value


@dataclass(frozen=True)
class Settings:
    """The product's settings. Build with :meth:`from_env`."""

    var_dir: Path
    #: async SQLAlchemy URL of the unified profile store
    profile_db_url: str
    #: async SQLAlchemy URL of the handoff queue
    handoff_db_url: str
    #: the Rasa server's base URL, used by the handoff service and the CLI
    rasa_url: str
    #: token protecting Rasa's HTTP API (``rasa run --auth-token``)
    rasa_token: str = field(repr=False)
    rasa_port: int
    action_server_url: str
    action_port: int
    handoff_url: str
    handoff_port: int
    #: SQLAlchemy (sync) URL of Rasa's tracker store and event broker
    tracker_db_url: str
    event_broker_db_url: str
    #: seconds an action waits for the profile store before it gives up honestly
    profile_timeout_s: float = 2.0
    #: HMAC secret the website widget signs verified identities with; unset = unsigned
    #: identities are trusted (keep the REST channel off the public internet then)
    identity_secret: str | None = field(default=None, repr=False)
    #: YAML list of public holidays for working-day arithmetic (default: the catalogue's)
    holidays_file: Path | None = None
    #: shared secret Rasa sends with every action call (endpoints.yml); the action server
    #: refuses calls without it (bot/action_server.py). Generated into var/ when unset.
    action_token: str = field(default="", repr=False)
    #: Redis URL of Rasa's lock store (TANDEM_REDIS_URL); unset = in-memory locks (one Rasa process)
    redis_url: str | None = None
    #: RabbitMQ exchange and queue of the event broker when EVENT_BROKER_DB_URL is amqp://
    event_exchange: str = "tandem-events"
    event_queue: str = "tandem_events"
    #: how long a claim proved with a one-time code stays verified before a new code is needed
    reverify_after_s: float = 30 * 60.0
    #: how often `make run` carries out due erasure requests (``python -m bot privacy run``)
    erasure_every_s: float = 5 * 60.0
    #: a conversation has ended (and its erasure may run) after this long without an event
    erasure_idle_s: float = 30 * 60.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        var_dir = Path(env.get("TANDEM_VAR_DIR") or ROOT / "var").resolve()
        rasa_port = _int(env, "RASA_PORT", 5005)
        action_port = _int(env, "ACTION_PORT", 5055)
        handoff_port = _int(env, "HANDOFF_PORT", 5080)
        timeout_raw = env.get("TANDEM_PROFILE_TIMEOUT_S") or "2.0"
        try:
            profile_timeout = float(timeout_raw)
        except ValueError as exc:
            raise SettingsError(f"TANDEM_PROFILE_TIMEOUT_S must be a number, got {timeout_raw!r}") from exc
        production = _production_defaults(env)
        return cls(
            var_dir=var_dir,
            profile_db_url=_url(env, "TANDEM_PROFILE_DB_URL",
                                production.get("async_db") or _sqlite_url(var_dir / "profiles.db")),
            handoff_db_url=_url(env, "TANDEM_HANDOFF_DB_URL",
                                production.get("async_db") or _sqlite_url(var_dir / "handoff.db")),
            rasa_url=_url(env, "RASA_URL", f"http://127.0.0.1:{rasa_port}"),
            rasa_token=env.get("RASA_TOKEN") or _dev_token(var_dir),
            rasa_port=rasa_port,
            action_server_url=_url(env, "ACTION_SERVER_URL", f"http://127.0.0.1:{action_port}/webhook"),
            action_port=action_port,
            handoff_url=_url(env, "HANDOFF_URL", f"http://127.0.0.1:{handoff_port}"),
            handoff_port=handoff_port,
            # SQLite: wait up to 30 s for a lock instead of failing at once; the handoff
            # service reads the broker's table while Rasa writes to it
            tracker_db_url=_url(env, "TRACKER_DB_URL",
                                production.get("db") or f"sqlite:///{var_dir / 'tracker.db'}?timeout=30"),
            event_broker_db_url=_url(env, "EVENT_BROKER_DB_URL",
                                     production.get("broker") or f"sqlite:///{var_dir / 'events.db'}?timeout=30"),
            profile_timeout_s=profile_timeout,
            identity_secret=env.get("TANDEM_IDENTITY_SECRET") or None,
            holidays_file=Path(env["TANDEM_HOLIDAYS_FILE"]) if env.get("TANDEM_HOLIDAYS_FILE") else None,
            action_token=env.get("ACTION_SERVER_TOKEN") or _dev_token(var_dir, "action_token"),
            redis_url=_url(env, "TANDEM_REDIS_URL", "redis://") if env.get("TANDEM_REDIS_URL") else None,
            event_exchange=env.get("TANDEM_EVENT_EXCHANGE") or "tandem-events",
            event_queue=env.get("TANDEM_EVENT_QUEUE") or "tandem_events",
            reverify_after_s=_seconds(env, "TANDEM_REVERIFY_AFTER_S", 30 * 60.0),
            erasure_every_s=_seconds(env, "TANDEM_ERASURE_EVERY_S", 5 * 60.0),
            erasure_idle_s=_seconds(env, "TANDEM_ERASURE_IDLE_S", 30 * 60.0),
        )

    def rasa_env(self) -> dict[str, str]:
        """Environment variables of the Rasa and action-server processes (``endpoints.yml``
        refers to some). The handoff queue's database is not among them: only the handoff
        service opens it (:meth:`handoff_env`); the action server talks to the service."""
        env = {
            "ACTION_SERVER_URL": self.action_server_url,
            "RASA_TOKEN": self.rasa_token,
            "ACTION_SERVER_TOKEN": self.action_token,
            "TANDEM_VAR_DIR": str(self.var_dir),
            "TANDEM_PROFILE_DB_URL": self.profile_db_url,
            "RASA_URL": self.rasa_url,
            "HANDOFF_URL": self.handoff_url,
            "RASA_PORT": str(self.rasa_port),
            "ACTION_PORT": str(self.action_port),
            "HANDOFF_PORT": str(self.handoff_port),
        }
        if self.identity_secret:
            env["TANDEM_IDENTITY_SECRET"] = self.identity_secret
        if self.holidays_file:
            env["TANDEM_HOLIDAYS_FILE"] = str(self.holidays_file)
        # Rasa's SQL stores take a full SQLAlchemy URL in ``url`` and read
        # ``dialect`` only for PostgreSQL-specific set-up.
        env["TRACKER_DB_URL"] = self.tracker_db_url
        env["TRACKER_DIALECT"] = _dialect(self.tracker_db_url)
        env["EVENT_BROKER_DB_URL"] = self.event_broker_db_url
        env["EVENT_BROKER_DIALECT"] = _dialect(self.event_broker_db_url)
        # Sanic (the action server's and Rasa's web server) closes a new connection that sends
        # nothing for KEEP_ALIVE_TIMEOUT (5 s): Rasa connects to the action server, and when its
        # event loop is busy for longer before writing the request, the action fails ("Cannot
        # write to closing transport") and its events are lost (seen at 20 concurrent senders).
        env["SANIC_KEEP_ALIVE_TIMEOUT"] = "75"
        env["TANDEM_EVENT_EXCHANGE"] = self.event_exchange
        env["TANDEM_EVENT_QUEUE"] = self.event_queue
        env.update(_lock_store_env(self.redis_url))
        if self.redis_url:  # socket.io rooms and console updates across replicas (bot/redis_bus.py)
            env["TANDEM_REDIS_URL"] = self.redis_url
        return env

    def handoff_env(self) -> dict[str, str]:
        """What the handoff service's process needs on top of :meth:`rasa_env`."""
        return {"TANDEM_HANDOFF_DB_URL": self.handoff_db_url}


def _production_defaults(env: Mapping[str, str]) -> dict[str, str]:
    """The production switch: TANDEM_POSTGRES_URL puts the tracker store, profile store and
    handoff queue on PostgreSQL (and the event broker there too, unless TANDEM_RABBITMQ_URL puts
    it on RabbitMQ). Each store's own variable still wins."""
    out: dict[str, str] = {}
    pg = env.get("TANDEM_POSTGRES_URL")
    if pg:
        parts = urlsplit(pg)
        if parts.scheme.split("+", 1)[0] not in ("postgresql", "postgres"):
            raise SettingsError(f"TANDEM_POSTGRES_URL must be a postgresql:// URL, got {pg!r}")
        rest = pg.split("://", 1)[1]
        out["db"] = out["broker"] = f"postgresql://{rest}"
        out["async_db"] = f"postgresql+asyncpg://{rest}"
    amqp = env.get("TANDEM_RABBITMQ_URL")
    if amqp:
        if urlsplit(amqp).scheme not in ("amqp", "amqps"):
            raise SettingsError(f"TANDEM_RABBITMQ_URL must be an amqp:// URL, got {amqp!r}")
        out["broker"] = amqp
    return out


def _lock_store_env(redis_url: str | None) -> dict[str, str]:
    """endpoints.yml's lock store: Rasa's in-memory one, or its Redis one for several replicas."""
    if not redis_url:
        return {"LOCK_STORE_TYPE": "in_memory", "REDIS_HOST": "", "REDIS_PORT": "6379", "REDIS_DB": "0",
                "REDIS_KEY_PREFIX": ""}
    parts = urlsplit(redis_url)
    return {
        "LOCK_STORE_TYPE": "redis",
        "REDIS_HOST": parts.hostname or "127.0.0.1",
        "REDIS_PORT": str(parts.port or 6379),
        "REDIS_DB": (parts.path or "/0").strip("/") or "0",
        # Rasa prefixes it to every lock key: replicas of one assistant share it
        "REDIS_KEY_PREFIX": parse_qs(parts.query).get("key_prefix", ["tandem"])[0],
    }


def _dialect(url: str) -> str:
    return urlsplit(url).scheme.split("+", 1)[0]


def _dev_token(var_dir: Path, name: str = "rasa_token") -> str:
    """A per-installation random token kept in ``var/<name>`` when its variable is unset.

    Production sets RASA_TOKEN / ACTION_SERVER_TOKEN; on a developer machine each token is
    generated once so that every local process (Rasa, action server, handoff service, CLI)
    agrees. The file is created 0600 from the start (never briefly world-readable).
    """
    path = var_dir / name
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        var_dir.mkdir(parents=True, exist_ok=True)
        token = secrets.token_urlsafe(24)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return path.read_text().strip()
        with os.fdopen(fd, "w") as out:
            out.write(token + "\n")
        return token


def apply_rasa_env(settings: Settings | None = None) -> Settings:
    """Fill ``os.environ`` with the variables ``endpoints.yml`` needs (existing ones win)."""
    settings = settings or Settings.from_env()
    for key, value in settings.rasa_env().items():
        os.environ.setdefault(key, value)
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    return settings
