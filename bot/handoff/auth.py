"""Agent login, server-side sessions and login throttling.

A session token is ``base64(name:session_id:hmac)``: the HMAC proves the service issued it, and
the session's row in the handoff database (``handoff_sessions``, shared by every instance of the
service and kept across restarts) says whether it still holds. A session ends when the agent
logs out (revoked at once), when it was idle for ``session_idle_s`` or when it is older than
``session_max_s``, whichever comes first. Only a hash of the session id is stored.

Failed logins are counted per agent name and per client address in a sliding window: past the
limit, logins from that name or address are refused with :class:`TooManyAttempts` (HTTP 429 with
``Retry-After``) for the rest of the window, even with the right password, so a password cannot
be guessed by trying. The failures are rows of the handoff database (``handoff_login_failures``,
a hash of the name or address and the time), so every instance of the service counts the same
ones and a restart forgets nothing: guesses spread over several instances add up.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.handoff.config import AgentAccount
from bot.handoff.errors import TooManyAttempts, Unauthorized
from bot.handoff.store import QueueStore, login_failures, sessions


@dataclass(frozen=True)
class LoginThrottle:
    """Sliding-window failure counts kept in the shared store; ``retry_after`` > 0 while a key is
    locked out. ``scope`` keeps the name and address counts apart."""

    max_failures: int
    window_s: float
    scope: str = "name"

    def _key(self, value: str) -> str:
        return hashlib.sha256(f"{self.scope}:{value}".encode()).hexdigest()

    async def retry_after(self, conn: AsyncConnection, value: str, now: datetime) -> float:
        since = now - timedelta(seconds=self.window_s)
        count, oldest = (await conn.execute(
            sa.select(sa.func.count(), sa.func.min(login_failures.c.at))
            .where(login_failures.c.key == self._key(value), login_failures.c.at > since)
        )).one()
        if count < self.max_failures or oldest is None:
            return 0.0
        return max(0.0, self.window_s - (now - oldest).total_seconds())

    async def failed(self, conn: AsyncConnection, value: str, now: datetime) -> None:
        # what has left every window goes as new failures come: the table stays small
        await conn.execute(login_failures.delete().where(
            login_failures.c.at <= now - timedelta(seconds=self.window_s)))
        await conn.execute(login_failures.insert().values(key=self._key(value), at=now))

    async def succeeded(self, conn: AsyncConnection, value: str) -> None:
        await conn.execute(login_failures.delete().where(login_failures.c.key == self._key(value)))


@dataclass
class AgentAuth:
    agents: dict[str, AgentAccount]
    secret: bytes
    store: QueueStore
    session_idle_s: float = 30 * 60
    session_max_s: float = 12 * 3600
    by_name: LoginThrottle = field(default_factory=lambda: LoginThrottle(5, 15 * 60, "name"))
    by_address: LoginThrottle = field(default_factory=lambda: LoginThrottle(20, 15 * 60, "address"))
    #: wall clock (naive UTC, like the store's columns); tests pass a moving one
    now: Callable[[], datetime] = datetime.utcnow

    # -- logging in and out -----------------------------------------------------------------------

    async def login(self, name: str, password: str, address: str | None = None) -> str:
        keys = [(self.by_name, name)] + ([(self.by_address, address)] if address else [])
        now = self.now()
        async with self.store.begin() as conn:
            wait = max([await throttle.retry_after(conn, key, now) for throttle, key in keys])
        if wait > 0:
            raise TooManyAttempts("too many failed logins: try again later", retry_after_s=math.ceil(wait))
        account = self.agents.get(name)
        # compare even for unknown names so timing does not reveal which names exist
        expected = account.password if account else "\x00" * 16
        if not hmac.compare_digest(expected.encode(), password.encode()) or account is None:
            async with self.store.begin() as conn:
                for throttle, key in keys:
                    await throttle.failed(conn, key, now)
            raise Unauthorized("unknown agent or wrong password")
        async with self.store.begin() as conn:
            await self.by_name.succeeded(conn, name)
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
        """End the session; only a live one (a revoked or expired token cannot log its agent's
        newer session out, nor put its conversations back in the queue)."""
        await self.verify(token)
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
