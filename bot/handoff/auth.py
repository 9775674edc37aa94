"""Agent login and signed session tokens (stdlib HMAC; tokens survive a service restart)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass

from bot.handoff.config import AgentAccount
from bot.handoff.errors import Unauthorized

TOKEN_TTL_S = 12 * 3600


@dataclass(frozen=True)
class AgentAuth:
    agents: dict[str, AgentAccount]
    secret: bytes

    def login(self, name: str, password: str) -> str:
        account = self.agents.get(name)
        # compare even for unknown names so timing does not reveal which names exist
        expected = account.password if account else "\x00" * 16
        if not hmac.compare_digest(expected.encode(), password.encode()) or account is None:
            raise Unauthorized("unknown agent or wrong password")
        return self.issue(name)

    def issue(self, name: str, now: float | None = None) -> str:
        expires = int((now or time.time()) + TOKEN_TTL_S)
        payload = f"{name}:{expires}"
        sig = hmac.new(self.secret, payload.encode(), hashlib.sha256).hexdigest()
        return base64.urlsafe_b64encode(f"{payload}:{sig}".encode()).decode().rstrip("=")

    def verify(self, token: str | None, now: float | None = None) -> AgentAccount:
        if not token:
            raise Unauthorized("log in first")
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            name, expires, sig = raw.rsplit(":", 2)
        except (ValueError, UnicodeDecodeError) as exc:
            raise Unauthorized("malformed session token") from exc
        good = hmac.new(self.secret, f"{name}:{expires}".encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(good, sig):
            raise Unauthorized("invalid session token")
        if int(expires) < (now or time.time()):
            raise Unauthorized("session expired, log in again")
        account = self.agents.get(name)
        if account is None:
            raise Unauthorized("this agent no longer exists")
        return account
