"""The widget's conversation token: proof that a browser owns a socket.io conversation.

When the socket.io channel (:mod:`bot.channels.socketio`) grants a connection a conversation it
gives the browser a signed token naming the conversation and its owner (``sub:<subject>`` of a
verified identity, or ``anon``). The browser keeps it with the session id; it is what lets the
same browser resume the conversation after a reload, and what the handoff service's customer
endpoints (missed messages, status, rating) accept instead of Rasa's API token, which never
leaves the servers. A JWT (PyJWT, HS256) signed with the handoff service's secret, shared by
the processes of ``make run``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Mapping

import jwt

AUDIENCE = "tandem-widget-session"
ALGORITHM = "HS256"
#: a conversation can be resumed for this long after it was granted
TTL_S = 30 * 24 * 3600
ANONYMOUS = "anon"


class InvalidSessionToken(ValueError):
    """Missing, forged, expired, or for another conversation."""


def session_secret(env: Mapping[str, str] | None = None, var_dir: Path | None = None) -> bytes:
    """The handoff service's secret (``TANDEM_HANDOFF_SECRET`` or ``var/handoff_secret``)."""
    from bot.handoff.config import service_secret
    from bot.settings import Settings

    env = os.environ if env is None else env
    return service_secret(env, var_dir or Settings.from_env(env).var_dir)


def issue(secret: bytes, session_id: str, owner: str, *, now: float | None = None) -> str:
    issued = int(time.time() if now is None else now)
    claims = {"sid": session_id, "own": owner, "aud": AUDIENCE, "iat": issued, "exp": issued + TTL_S}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify(token: object, secret: bytes, session_id: str) -> str:
    """The owner the token names for ``session_id``; :class:`InvalidSessionToken` otherwise."""
    if not isinstance(token, str) or not token or len(token) > 2048:
        raise InvalidSessionToken("no conversation token")
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], audience=AUDIENCE,
                            options={"require": ["sid", "own", "exp", "aud"]})
    except jwt.PyJWTError as exc:
        raise InvalidSessionToken(str(exc)) from exc
    if claims["sid"] != session_id:
        raise InvalidSessionToken("the token is for another conversation")
    return str(claims["own"])
