"""Handoff-specific settings, read from the environment next to :class:`bot.settings.Settings`.

Variables (all optional; the defaults are the development set-up of ``make run``):

``TANDEM_AGENTS``
    ``name:password[:skill+skill...]`` entries separated by commas, e.g.
    ``alice:s3cret:orders+refunds_billing,bob:pa55``. No skills = every queue.
    Unset: the development agents ``alice:alice`` and ``bob:bob`` (a warning is logged);
    production must set it.
``TANDEM_BUSINESS_HOURS``
    ``mon-fri 08:00-20:00; sat 09:00-14:00`` (days ``mon``..``sun``, ranges allowed, ``24:00``
    allowed as an end). Default: always open.
``TANDEM_TIMEZONE``
    IANA zone of the business hours, default ``UTC``.
``TANDEM_HANDOFF_POLL_S``
    How often the event-broker consumer looks for new events (default 0.02 s). On SQLite a look
    is two ``stat`` calls (the table is read only when its files changed); on PostgreSQL it is a
    query, so 0.05 s or more suits there.
``TANDEM_HANDOFF_HANDLE_S``
    Assumed handle time of one conversation before there is history (default 300 s).
``TANDEM_HANDOFF_POSITION_UPDATE_S``
    Minimum seconds between two queue-position messages to one customer (default 30).
``TANDEM_HANDOFF_SECRET``
    Key that signs agent session tokens (default: a random key kept in ``var/handoff_secret``).
``TANDEM_HANDOFF_RASA_TIMEOUT_S`` / ``TANDEM_HANDOFF_RASA_RETRIES``
    Per-request timeout and retries of calls to Rasa's HTTP API (default 5 s, 2 retries).
``TANDEM_SUPERVISORS``
    Agent names with the supervisor role (comma-separated): they see every conversation, and
    the supervisor view. Unset: ``alice`` with the development agents, nobody otherwise.
``TANDEM_HANDOFF_SESSION_IDLE_S`` / ``TANDEM_HANDOFF_SESSION_MAX_S``
    A console session ends after this long without a request (default 1800 s) and this long
    after login whatever happens (default 43200 s, 12 hours).
``TANDEM_HANDOFF_LOGIN_FAILURES`` / ``TANDEM_HANDOFF_LOGIN_WINDOW_S``
    Failed logins allowed per agent name within the window (default 5 in 900 s; per client
    address four times as many); past that, logins are refused until the window has passed.
``TANDEM_HANDOFF_AGENT_AWAY_S``
    When an agent's console connection is gone this long without coming back, their assigned
    conversations go back to the front of their queues and the customers are told (default 60 s).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from typing import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.handoff.models import Topic
from bot.settings import SettingsError

logger = logging.getLogger(__name__)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEV_AGENTS = "alice:alice,bob:bob"


@dataclass(frozen=True)
class AgentAccount:
    name: str
    password: str
    skills: frozenset[Topic]
    #: sees every conversation (``TANDEM_SUPERVISORS``)
    supervisor: bool = False

    def serves(self, topic: Topic) -> bool:
        return topic in self.skills


def supervisors_from_env(env: Mapping[str, str] | None = None) -> frozenset[str]:
    """``TANDEM_SUPERVISORS``; unset: ``alice`` with the development agents, else nobody."""
    env = os.environ if env is None else env
    raw = env.get("TANDEM_SUPERVISORS")
    if raw is None:
        if env.get("TANDEM_AGENTS"):
            logger.warning("TANDEM_SUPERVISORS is unset: no agent has the supervisor role")
            return frozenset()
        return frozenset({"alice"})
    return frozenset(n.strip() for n in raw.split(",") if n.strip())


def with_supervisors(agents: dict[str, AgentAccount], supervisors: frozenset[str]) -> dict[str, AgentAccount]:
    return {name: replace(acc, supervisor=name in supervisors) for name, acc in agents.items()}


def parse_agents(raw: str) -> dict[str, AgentAccount]:
    agents: dict[str, AgentAccount] = {}
    for entry in (e.strip() for e in raw.split(",")):
        if not entry:
            continue
        parts = entry.split(":")
        if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
            raise SettingsError(
                f"TANDEM_AGENTS entry {entry!r} must be name:password or name:password:skill+skill"
            )
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", parts[0]):
            raise SettingsError(f"TANDEM_AGENTS: agent name {parts[0]!r} may use letters, digits, _ . -")
        if len(parts) == 3 and parts[2]:
            try:
                skills = frozenset(Topic(s.strip()) for s in parts[2].split("+") if s.strip())
            except ValueError as exc:
                raise SettingsError(
                    f"TANDEM_AGENTS: unknown skill in {entry!r}; use {', '.join(t.value for t in Topic)}"
                ) from exc
        else:
            skills = frozenset(Topic)
        agents[parts[0]] = AgentAccount(parts[0], parts[1], skills)
    if not agents:
        raise SettingsError("TANDEM_AGENTS lists no agent")
    return agents


@dataclass(frozen=True)
class BusinessHours:
    """Weekly opening hours in one time zone. ``windows[d]`` = list of (start, end) minutes."""

    windows: tuple[tuple[tuple[int, int], ...], ...]
    tz: ZoneInfo | timezone

    @classmethod
    def always(cls) -> "BusinessHours":
        return cls(tuple(((0, 1440),) for _ in DAYS), timezone.utc)

    @classmethod
    def parse(cls, spec: str, tz_name: str = "UTC") -> "BusinessHours":
        try:
            tz: ZoneInfo | timezone = timezone.utc if tz_name.upper() == "UTC" else ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SettingsError(f"TANDEM_TIMEZONE {tz_name!r} is not a known IANA time zone") from exc
        days: list[list[tuple[int, int]]] = [[] for _ in DAYS]
        for part in (p.strip().lower() for p in spec.split(";")):
            if not part:
                continue
            m = re.fullmatch(r"([a-z]{3})(?:-([a-z]{3}))?\s+(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})", part)
            if not m or m.group(1) not in DAYS or (m.group(2) and m.group(2) not in DAYS):
                raise SettingsError(
                    f"TANDEM_BUSINESS_HOURS part {part!r} must look like 'mon-fri 08:00-20:00'"
                )
            start = int(m.group(3)) * 60 + int(m.group(4))
            end = int(m.group(5)) * 60 + int(m.group(6))
            if not (0 <= start < end <= 1440):
                raise SettingsError(f"TANDEM_BUSINESS_HOURS part {part!r}: start must be before end")
            first = DAYS.index(m.group(1))
            last = DAYS.index(m.group(2)) if m.group(2) else first
            for d in range(first, last + 1) if first <= last else [*range(first, 7), *range(0, last + 1)]:
                days[d].append((start, end))
        return cls(tuple(tuple(sorted(w)) for w in days), tz)

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(self.tz)
        minute = local.hour * 60 + local.minute
        return any(s <= minute < e for s, e in self.windows[local.weekday()])

    def next_opening(self, at: datetime) -> datetime | None:
        """The next moment the contact centre opens (``at`` itself if open); None if never."""
        if self.is_open(at):
            return at
        local = at.astimezone(self.tz)
        for offset in range(8):
            day = (local + timedelta(days=offset)).date()
            for start, _end in self.windows[day.weekday()]:
                candidate = datetime.combine(day, time(start // 60, start % 60), self.tz)
                if candidate > local:
                    return candidate.astimezone(timezone.utc)
        return None

    def describe(self) -> str:
        """Human wording, e.g. 'Mon-Fri 08:00-20:00, Sat 09:00-14:00 (Europe/Berlin)'."""
        groups: list[tuple[int, int, tuple[tuple[int, int], ...]]] = []
        for d, w in enumerate(self.windows):
            if groups and groups[-1][2] == w and groups[-1][1] == d - 1:
                groups[-1] = (groups[-1][0], d, w)
            else:
                groups.append((d, d, w))
        parts = []
        for first, last, w in groups:
            if not w:
                continue
            label = DAYS[first].title() if first == last else f"{DAYS[first].title()}-{DAYS[last].title()}"
            spans = ", ".join(f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}" for s, e in w)
            parts.append(f"{label} {spans}")
        return ", ".join(parts) + f" ({self.tz})"


def business_hours_from_env(env: Mapping[str, str] | None = None) -> BusinessHours:
    env = os.environ if env is None else env
    spec = env.get("TANDEM_BUSINESS_HOURS")
    return BusinessHours.parse(spec, env.get("TANDEM_TIMEZONE") or "UTC") if spec else BusinessHours.always()


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from exc


@dataclass(frozen=True)
class HandoffConfig:
    agents: dict[str, AgentAccount]
    hours: BusinessHours
    secret: bytes
    poll_interval_s: float = 0.02
    default_handle_s: float = 300.0
    position_update_s: float = 30.0
    rasa_timeout_s: float = 5.0
    rasa_retries: int = 2
    #: an agent counts as available while their console was seen within this many seconds
    presence_ttl_s: float = 60.0
    #: WebSocket heartbeat (ping) interval
    heartbeat_s: float = 15.0
    #: largest accepted request body / message text
    max_text_chars: int = 4000
    dev_agents: bool = False
    session_idle_s: float = 30 * 60
    session_max_s: float = 12 * 3600
    login_failures: int = 5
    login_window_s: float = 15 * 60
    #: an agent whose console is gone this long loses their assigned conversations to the queue
    agent_away_s: float = 60.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, var_dir: Path | None = None) -> "HandoffConfig":
        env = os.environ if env is None else env
        raw_agents = env.get("TANDEM_AGENTS")
        dev = not raw_agents
        if dev:
            logger.warning("TANDEM_AGENTS is unset: using the development agents alice/alice and bob/bob")
        hours = business_hours_from_env(env)
        secret = service_secret(env, var_dir)
        return cls(
            agents=with_supervisors(parse_agents(raw_agents or DEV_AGENTS), supervisors_from_env(env)),
            hours=hours,
            secret=secret,
            poll_interval_s=_float(env, "TANDEM_HANDOFF_POLL_S", 0.02),
            default_handle_s=_float(env, "TANDEM_HANDOFF_HANDLE_S", 300.0),
            position_update_s=_float(env, "TANDEM_HANDOFF_POSITION_UPDATE_S", 30.0),
            rasa_timeout_s=_float(env, "TANDEM_HANDOFF_RASA_TIMEOUT_S", 5.0),
            rasa_retries=int(_float(env, "TANDEM_HANDOFF_RASA_RETRIES", 2)),
            dev_agents=dev,
            session_idle_s=_float(env, "TANDEM_HANDOFF_SESSION_IDLE_S", 30 * 60),
            session_max_s=_float(env, "TANDEM_HANDOFF_SESSION_MAX_S", 12 * 3600),
            login_failures=int(_float(env, "TANDEM_HANDOFF_LOGIN_FAILURES", 5)),
            login_window_s=_float(env, "TANDEM_HANDOFF_LOGIN_WINDOW_S", 15 * 60),
            agent_away_s=_float(env, "TANDEM_HANDOFF_AGENT_AWAY_S", 60.0),
        )


def service_secret(env: Mapping[str, str] | None = None, var_dir: Path | None = None) -> bytes:
    """The key that signs agent tokens and the action server's handoff requests (intake calls):
    ``TANDEM_HANDOFF_SECRET``, else one kept in ``var/handoff_secret`` (shared by the processes
    of ``make run``)."""
    env = os.environ if env is None else env
    raw = env.get("TANDEM_HANDOFF_SECRET")
    return raw.encode() if raw else _dev_secret(var_dir)


def _dev_secret(var_dir: Path | None) -> bytes:
    if var_dir is None:
        return secrets.token_bytes(32)
    path = var_dir / "handoff_secret"
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        corrupt = False
    except ValueError:
        corrupt = True
    var_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".handoff_secret.{os.getpid()}.{secrets.token_hex(4)}")
    tmp.write_text(secrets.token_bytes(32).hex() + "\n")
    tmp.chmod(0o600)
    try:
        if corrupt:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # atomic: when two processes start at once, the first key wins
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return bytes.fromhex(path.read_text().strip())
