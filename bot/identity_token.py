"""Signed customer identity: the token a host website gives the chat widget.

The host site's back end knows who is signed in; it issues a short-lived JWT
(HS256, PyJWT, which Rasa already depends on) naming the customer, and the
widget passes it along with every message as the metadata key
:data:`METADATA_KEY`. The action server trusts an identity only when
:func:`verify` accepts the token: a valid signature, the expected audience and
an expiry in the future. Anything else (no token, a forged or expired one, a
bare ``customer_id`` in the metadata) is no identity at all.

Claims: ``sub`` (the site's own id for the person, required), and any of
``customer_number``, ``email``, ``phone`` (E.164) and ``name`` that the
profile can resolve; ``exp``/``iat`` as usual. The secret is
``TANDEM_IDENTITY_SECRET``, else one generated once into ``var/identity_secret``
(mode 0600) and shared by the processes of ``make run``.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import jwt

__all__ = [
    "AUDIENCE",
    "METADATA_KEY",
    "IdentityClaims",
    "InvalidIdentityToken",
    "identity_secret",
    "issue",
    "verify",
]

#: the metadata key (and socket.io ``customData`` key) that carries the token
METADATA_KEY = "identity_token"
AUDIENCE = "tandem"
ALGORITHM = "HS256"
#: a token is meant for one page view's connection, not to be kept
DEFAULT_TTL_S = 15 * 60
#: identifying claims the profile can resolve, in the order they are tried
IDENTIFYING_CLAIMS = ("customer_number", "email", "phone")
_MAX_TOKEN_CHARS = 4096


class InvalidIdentityToken(ValueError):
    """The token is missing, malformed, forged, for another audience or expired."""


@dataclass(frozen=True)
class IdentityClaims:
    subject: str
    customer_number: str | None = None
    email: str | None = None
    phone: str | None = None
    name: str | None = None
    expires_at: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)

    def identifiers(self) -> list[tuple[str, str]]:
        """``(kind, value)`` pairs to resolve, strongest first."""
        return [(kind, value) for kind in IDENTIFYING_CLAIMS if (value := getattr(self, kind))]


def issue(
    secret: str,
    subject: str,
    *,
    ttl_s: int = DEFAULT_TTL_S,
    now: float | None = None,
    **claims: Any,
) -> str:
    """A signed token for ``subject`` (what the host site's back end does)."""
    if not secret:
        raise ValueError("an identity token needs a secret")
    if not subject:
        raise ValueError("an identity token needs a subject")
    issued = int(time.time() if now is None else now)
    payload = {k: v for k, v in claims.items() if v is not None}
    payload.update({"sub": str(subject), "aud": AUDIENCE, "iat": issued, "exp": issued + int(ttl_s)})
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def verify(token: Any, secret: str | None, *, now: float | None = None) -> IdentityClaims:
    """The claims of a valid token; :class:`InvalidIdentityToken` for anything else."""
    if not secret:
        raise InvalidIdentityToken("no identity secret is configured")
    if not isinstance(token, str) or not token or len(token) > _MAX_TOKEN_CHARS:
        raise InvalidIdentityToken("no token")
    options = {"require": ["exp", "iat", "sub", "aud"]}
    try:
        if now is None:
            payload = jwt.decode(token, secret, algorithms=[ALGORITHM], audience=AUDIENCE, options=options)
        else:
            # PyJWT checks exp against the wall clock; with a pinned clock check it here instead
            payload = jwt.decode(
                token, secret, algorithms=[ALGORITHM], audience=AUDIENCE,
                options={**options, "verify_exp": False, "verify_iat": False},
            )
            if int(payload["exp"]) <= now:
                raise InvalidIdentityToken("the token has expired")
    except jwt.PyJWTError as exc:
        raise InvalidIdentityToken(str(exc)) from exc
    known = {"sub", "aud", "iat", "exp", "name", *IDENTIFYING_CLAIMS}
    return IdentityClaims(
        subject=str(payload["sub"]),
        customer_number=_text(payload.get("customer_number")),
        email=_text(payload.get("email")),
        phone=_text(payload.get("phone")),
        name=_text(payload.get("name")),
        expires_at=int(payload["exp"]),
        extra={k: v for k, v in payload.items() if k not in known},
    )


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, (str, int)) and str(value).strip() else None


def identity_secret(var_dir: Path, env: Mapping[str, str] | None = None) -> str:
    """``TANDEM_IDENTITY_SECRET``, else the one kept in ``var/identity_secret`` (made on first use)."""
    env = os.environ if env is None else env
    configured = env.get("TANDEM_IDENTITY_SECRET")
    if configured:
        return configured
    path = var_dir / "identity_secret"
    try:
        existing = path.read_text().strip()
        if existing:
            return existing
    except FileNotFoundError:
        pass
    var_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".identity_secret.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(32) + "\n")
    try:
        os.link(tmp, path)  # first writer wins; a concurrent process reads the winner's secret
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_text().strip()
