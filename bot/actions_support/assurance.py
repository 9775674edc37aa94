"""Levels of assurance: knowing an order number is not being the customer.

A signed widget token or a messaging channel's own sender id *verifies* who
the conversation is with; an e-mail address or order number the customer
types only *claims* an identity. Until a claim is verified with a second
factor (a one-time code sent to the e-mail address or phone number on file),
the bot answers in general terms and changes nothing.

Everything here is decided by the action server and kept in slots it sets
itself, sealed with an HMAC only it can compute:

* ``customer_id`` + ``identity_level`` are trusted only with a valid
  ``identity_seal`` over (conversation, customer id, level, and for a claim
  proved with a one-time code the ``identity_verified_until`` it holds). A customer id
  planted through Rasa's HTTP API, a forged tracker or a copied slot from
  another conversation fails the check and is ignored (:func:`trusted_customer`).
  A level proved with a one-time code lasts ``VERIFIED_FOR_S`` (configurable,
  ``TANDEM_REVERIFY_AFTER_S``): after it the conversation is back to the claim,
  and anything personal needs a new code. A signed widget token or a channel's
  sender id is checked again with every message, so it needs no expiry here.
* a pending verification lives in the ``identity_challenge`` slot: the
  claimed customer, an HMAC of the code (never the code), its expiry, the
  attempts left and how many codes this conversation was sent, sealed as a
  whole. It needs no database, so any action-server replica can check it.

No Rasa imports: the actions call these functions.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import asdict, dataclass, replace
from typing import Any, Mapping

__all__ = [
    "CLAIMED",
    "VERIFIED",
    "CODE_TTL_S",
    "VERIFIED_FOR_S",
    "VERIFIED_UNTIL_SLOT",
    "MAX_ATTEMPTS",
    "MAX_CODES",
    "Challenge",
    "CheckResult",
    "check_code",
    "code_in",
    "new_challenge",
    "open_challenge",
    "seal_identity",
    "seal_key",
    "trusted_customer",
]

VERIFIED = "verified"
CLAIMED = "claimed"

#: how long a one-time code is valid
CODE_TTL_S = 10 * 60
#: how long a claim proved with a one-time code stays verified (Settings.reverify_after_s)
VERIFIED_FOR_S = 30 * 60
#: the slot holding when that proof runs out (sealed with the identity)
VERIFIED_UNTIL_SLOT = "identity_verified_until"
#: wrong codes accepted for one challenge before it is spent
MAX_ATTEMPTS = 3
#: codes one conversation may be sent (a new claim or an expired code asks for another)
MAX_CODES = 3
CODE_DIGITS = 6

_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def seal_key(identity_secret: str | None) -> bytes:
    """The action server's sealing key, derived from the identity secret (never the secret itself)."""
    if not identity_secret:
        raise ValueError("sealing identity slots needs the identity secret")
    return hmac.new(identity_secret.encode(), b"tandem identity seal v1", hashlib.sha256).digest()


def _mac(key: bytes, *parts: Any) -> str:
    message = json.dumps([str(p) if p is not None else None for p in parts], separators=(",", ":"))
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def seal_identity(key: bytes, conversation_id: str, customer_id: str, level: str, until: float | None = None) -> str:
    """The ``identity_seal`` for ``customer_id`` at ``level`` in this conversation (valid ``until``
    a moment when the level came from a one-time code)."""
    if until is None:
        return _mac(key, "identity", conversation_id, customer_id, level)
    return _mac(key, "identity", conversation_id, customer_id, level, repr(float(until)))


def trusted_customer(
    slots: Mapping[str, Any], conversation_id: str, key: bytes, now: float | None = None
) -> tuple[str | None, str | None]:
    """``(customer_id, level)`` from the slots if the action server sealed them, else ``(None, None)``.

    A verification whose time ran out comes back as ``CLAIMED``: the customer said who they
    are and proved it once, but must prove it again before anything personal.
    """
    customer_id = slots.get("customer_id")
    level = slots.get("identity_level")
    seal = slots.get("identity_seal")
    until = slots.get(VERIFIED_UNTIL_SLOT)
    if not (isinstance(customer_id, str) and customer_id and isinstance(level, str) and isinstance(seal, str)):
        return None, None
    if until is not None and (isinstance(until, bool) or not isinstance(until, (int, float))):
        return None, None
    expected = seal_identity(key, conversation_id, customer_id, level, until)
    if not hmac.compare_digest(expected, seal):
        return None, None
    if until is not None and (time.time() if now is None else now) >= until:
        return customer_id, CLAIMED
    return customer_id, level


@dataclass(frozen=True)
class Challenge:
    """A pending verification, as kept (sealed) in the ``identity_challenge`` slot."""

    #: the customer the claim resolved to; None when it matched nobody (the code then never fits)
    customer_id: str | None
    #: what was claimed ("email", "order_id", "invoice_id"), for the wording
    kind: str
    code_mac: str
    expires_at: float
    attempts_left: int = MAX_ATTEMPTS
    #: codes sent to this conversation so far, this one included
    codes_sent: int = 1
    #: the order the customer asked about when they claimed with an order number
    order_id: str | None = None
    #: an HMAC of what was claimed (kind and value), so a new claim gets a new code
    claim: str = ""

    @property
    def spent(self) -> bool:
        return self.attempts_left <= 0

    def expired(self, now: float) -> bool:
        return now >= self.expires_at

    def to_slot(self, key: bytes, conversation_id: str) -> dict[str, Any]:
        body = asdict(self)
        return {**body, "seal": _mac(key, "challenge", conversation_id, json.dumps(body, sort_keys=True))}


def open_challenge(value: Any, conversation_id: str, key: bytes) -> Challenge | None:
    """The challenge in the slot if the action server sealed it for this conversation, else None."""
    if not isinstance(value, Mapping):
        return None
    body = {k: v for k, v in value.items() if k != "seal"}
    seal = value.get("seal")
    if not isinstance(seal, str):
        return None
    expected = _mac(key, "challenge", conversation_id, json.dumps(body, sort_keys=True))
    if not hmac.compare_digest(expected, seal):
        return None
    try:
        return Challenge(**body)
    except TypeError:
        return None


def _code_mac(key: bytes, conversation_id: str, customer_id: str | None, code: str) -> str:
    return _mac(key, "code", conversation_id, customer_id, code)


def new_challenge(
    key: bytes,
    conversation_id: str,
    customer_id: str | None,
    kind: str,
    now: float,
    *,
    previous: Challenge | None = None,
    order_id: str | None = None,
    claim: str = "",
) -> tuple[Challenge, str]:
    """A fresh challenge and its code (send the code; keep only the challenge).

    For a claim that matched nobody a code is made all the same (and sent to
    nobody), so the customer's side looks the same either way.
    """
    code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
    sent = (previous.codes_sent + 1) if previous is not None else 1
    challenge = Challenge(
        customer_id=customer_id,
        kind=kind,
        code_mac=_code_mac(key, conversation_id, customer_id, code),
        expires_at=now + CODE_TTL_S,
        codes_sent=sent,
        order_id=order_id,
        claim=claim,
    )
    return challenge, code


def claim_mac(key: bytes, conversation_id: str, kind: str, value: str | None) -> str:
    """What was claimed, as kept in a challenge (never the identifier itself)."""
    return _mac(key, "claim", conversation_id, kind, (value or "").strip().lower())


@dataclass(frozen=True)
class CheckResult:
    #: "verified", "wrong", "spent" (no attempts left) or "expired"
    outcome: str
    challenge: Challenge


def check_code(key: bytes, conversation_id: str, challenge: Challenge, code: str, now: float) -> CheckResult:
    """Compare ``code`` with the challenge's, in constant time; count a wrong one."""
    if challenge.spent:
        return CheckResult("spent", challenge)
    if challenge.expired(now):
        return CheckResult("expired", challenge)
    expected = _code_mac(key, conversation_id, challenge.customer_id, code)
    if challenge.customer_id is not None and hmac.compare_digest(expected, challenge.code_mac):
        return CheckResult(VERIFIED, challenge)
    left = replace(challenge, attempts_left=challenge.attempts_left - 1)
    return CheckResult("spent" if left.spent else "wrong", left)


def code_in(text: str | None, entity: Any = None) -> str | None:
    """The 6-digit code in a message (the ``one_time_code`` entity, else the first 6-digit run)."""
    for candidate in (entity, text):
        if isinstance(candidate, (str, int)):
            match = _CODE.search(str(candidate))
            if match:
                return match.group(1)
    return None
