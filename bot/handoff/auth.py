"""Agent login, server-side sessions and login throttling.

A session token is ``base64(name:session_id:hmac)``: the HMAC proves the service issued it, and
the session's row in the handoff database (``handoff_sessions``, shared by every instance of the
service and kept across restarts) says whether it still holds. A session ends when the agent
logs out (revoked at once), when it was idle for ``session_idle_s`` or when it is older than
``session_max_s``, whichever comes first. Only a hash of the session id is stored.

Failed logins are counted per agent name and per client address in a sliding window: past the
limit, logins from that name or address are refused with :class:`TooManyAttempts` (HTTP 429 with
``Retry-After``) for the rest of the window, even with the right password, so a password cannot
be guessed by trying. The counters live in the process (a restart forgets them; several
instances each count their own).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

import sqlalchemy as sa

from bot.handoff.config import AgentAccount
from bot.handoff.errors import TooManyAttempts, Unauthorized
from bot.handoff.store import QueueStore, sessions


@dataclass
class LoginThrottle:
    """Sliding-window failure counters; ``retry_after(key)`` > 0 while a key is locked out."""

    max_failures: int
    window_s: float
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def _recent(self, key: str) -> deque[float]:
        now = self.clock()
        stamps = self._failures.get(key)
        if stamps is None:
            return deque()
        while stamps and now - stamps[0] >= self.window_s:
            stamps.popleft()
        if not stamps:
            del self._failures[key]
        return stamps

    def retry_after(self, key: str) -> float:
        stamps = self._recent(key)
        if len(stamps) < self.max_failures:
            return 0.0
        return max(0.0, self.window_s - (self.clock() - stamps[0]))

    def failed(self, key: str) -> None:
        self._recent(key)
        self._failures.setdefault(key, deque()).append(self.clock())
        if len(self._failures) > 100_000:  # bounded memory under a spray of names or addresses
            self._failures.pop(next(iter(self._failures)))

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)


@dataclass
class AgentAuth:
    agents: dict[str, AgentAccount]
    secret: bytes
    store: QueueStore
    session_idle_s: float = 30 * 60
    session_max_s: float = 12 * 3600
    by_name: LoginThrottle = field(default_factory=lambda: LoginThrottle(5, 15 * 60))
    by_address: LoginThrottle = field(default_factory=lambda: LoginThrottle(20, 15 * 60))
    #: wall clock (naive UTC, like the store's columns); tests pass a moving one
    now: Callable[[], datetime] = datetime.utcnow

    # -- logging in and out -----------------------------------------------------------------------

    async def login(self, name: str, password: str, address: str | None = None) -> str:
        keys = [(self.by_name, f"name:{name}")] + ([(self.by_address, f"addr:{address}")] if address else [])
        wait = max(throttle.retry_after(key) for throttle, key in keys)
        if wait > 0:
            raise TooManyAttempts("too many failed logins: try again later", retry_after_s=math.ceil(wait))
        account = self.agents.get(name)
        # compare even for unknown names so timing does not reveal which names exist
        expected = account.password if account else "\x00" * 16
        if not hmac.compare_digest(expected.encode(), password.encode()) or account is None:
            for throttle, key in keys:
                throttle.failed(key)
            raise Unauthorized("unknown agent or wrong password")
        self.by_name.succeeded(f"name:{name}")
        return await self.issue(name)

    async def issue(self, name: str) -> str:
        session_id = secrets.token_hex(16)
        now = self.now()
        async with self.store.begin() as conn:  # sessions past their lifetime go as new ones come
            await conn.execute(sessions.delete().where(
                sessions.c.created_at < now - timedelta(seconds=self.session_max_s)))
            await conn.execute(sessions.insert().values(
                id=_hash(session_id), agent=name, created_at=now, last_seen=now, revoked_at=None))
        payload = f"{name}:{session_id}"
        return base64.urlsafe_b64encode(f"{payload}:{self._sign(payload)}".encode()).decode().rstrip("=")

    async def logout(self, token: str | None) -> AgentAccount:
        account, session_id = self._parse(token)
        async with self.store.begin() as conn:
            await conn.execute(sessions.update().where(sessions.c.id == _hash(session_id))
                               .values(revoked_at=self.now()))
        return account

    # -- checking a token -------------------------------------------------------------------------

    async def verify(self, token: str | None) -> AgentAccount:
        account, session_id = self._parse(token)
        now = self.now()
        async with self.store.begin() as conn:
            row = (await conn.execute(sa.select(sessions).where(sessions.c.id == _hash(session_id)))).first()
            if row is None or row.agent != account.name:
                raise Unauthorized("unknown session, log in again")
            if row.revoked_at is not None:
                raise Unauthorized("you logged out; log in again")
            if now - row.created_at > timedelta(seconds=self.session_max_s):
                raise Unauthorized("session expired, log in again")
            if now - row.last_seen > timedelta(seconds=self.session_idle_s):
                raise Unauthorized("session expired after inactivity, log in again")
            if now - row.last_seen > timedelta(seconds=min(60.0, self.session_idle_s / 10)):
                await conn.execute(sessions.update().where(sessions.c.id == row.id).values(last_seen=now))
        return account

    def _parse(self, token: str | None) -> tuple[AgentAccount, str]:
        if not token:
            raise Unauthorized("log in first")
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            name, session_id, sig = raw.rsplit(":", 2)
        except (ValueError, UnicodeDecodeError) as exc:
            raise Unauthorized("malformed session token") from exc
        if not hmac.compare_digest(self._sign(f"{name}:{session_id}"), sig):
            raise Unauthorized("invalid session token")
        account = self.agents.get(name)
        if account is None:
            raise Unauthorized("this agent no longer exists")
        return account, session_id

    def _sign(self, payload: str) -> str:
        return hmac.new(self.secret, payload.encode(), hashlib.sha256).hexdigest()


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()
