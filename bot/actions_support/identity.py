"""Who is this? Identify the customer in one place, without asking twice.

:func:`identify` is the one function that decides who a conversation is
with; ``action_session_start`` calls it once per session with the session's
metadata, and every business action calls it with its turn. In order, the
first that yields a profile wins:

1. new signed identity in the metadata: the website widget's JWT under
   ``identity_token`` (:mod:`bot.identity_token`), verified with the identity
   secret. Unsigned identity metadata (``{"customer": {...}}``) is ignored
   unless ``TANDEM_TRUST_UNSIGNED_IDENTITY=1`` (development only);
2. the ``customer_id`` slot (identified earlier in this conversation), only
   when the action server sealed it itself (``identity_seal``, see
   :mod:`bot.actions_support.assurance`): one profile read by id. A customer
   id planted through Rasa's HTTP API or a forged tracker is ignored;
3. the sender of a messaging channel (WhatsApp, SMS, Messenger): its phone
   number or messaging id is a channel identifier the contact-centre silo
   knows. The REST channel's sender id is chosen by the caller, so it is
   *not* trusted as an identity;
4. what the customer said: an e-mail address, an order number or an invoice
   number (entity slots). Knowing one is not being the customer: it only
   *claims* an identity (level :data:`~bot.actions_support.assurance.CLAIMED`),
   which the actions verify with a one-time code before they show or change
   anything. Once the conversation knows who it is with, a number the
   customer gives is checked against their own profile instead (forms,
   ``choose_order``).

1-3 are *verified* (:data:`~bot.actions_support.assurance.VERIFIED`).
Only when all of that yields nothing does an action ask, once, for an
e-mail address or order number (``utter_ask_identifier``).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any, Mapping

from bot import identity_token
from bot.actions_support.assurance import (
    CLAIMED,
    VERIFIED,
    VERIFIED_UNTIL_SLOT,
    seal_identity,
    seal_key,
    trusted_customer,
)
from bot.actions_support.conversation import Turn
from bot.actions_support.gateway import Lookup, Outcome, ProfileGateway
from bot.profile.model import CustomerProfile

__all__ = [
    "TRUST_UNSIGNED_ENV",
    "Identification",
    "channel_identifier",
    "customer_slots",
    "identify",
    "verified_slots",
]

logger = logging.getLogger(__name__)

#: development only: accept unsigned ``{"customer": {...}}`` identity metadata
TRUST_UNSIGNED_ENV = "TANDEM_TRUST_UNSIGNED_IDENTITY"

#: Rasa input channel name -> prefix of the contact-centre channel id
MESSAGING_CHANNELS: Mapping[str, str] = {
    "whatsapp": "whatsapp",
    "twilio": "sms",
    "sms": "sms",
    "facebook": "messenger",
    "messenger": "messenger",
}


#: channels whose sender id is an E.164 phone number
PHONE_CHANNELS = frozenset({"sms", "whatsapp"})


@dataclass(frozen=True)
class Identification:
    lookup: Lookup
    #: how the customer was identified ("conversation", "widget", "channel", "email", "order_id"...)
    via: str | None = None
    #: identifiers tried (kinds only, never values)
    tried: tuple[str, ...] = ()
    #: VERIFIED (signed token, channel, sealed slot) or CLAIMED (typed identifier); None: nobody
    level: str | None = None

    @property
    def verified(self) -> bool:
        return self.level == VERIFIED and self.lookup.found

    @property
    def claimed(self) -> bool:
        """A typed identifier was given (whether or not it matched anyone) and nothing verified."""
        return self.level == CLAIMED

    @property
    def asked_nothing_known(self) -> bool:
        """Nothing to identify with at all: the action may ask (once)."""
        return not self.tried


def channel_identifier(input_channel: str | None, sender_id: str) -> str | None:
    """The contact-centre channel id for a messaging sender, or None for untrusted channels."""
    if not input_channel or not sender_id:
        return None
    prefix = MESSAGING_CHANNELS.get(input_channel.lower())
    if prefix is None:
        return None
    if ":" in sender_id:  # Twilio's WhatsApp senders are already "whatsapp:+44..."
        return sender_id
    return f"{prefix}:{sender_id}"


def _trust_unsigned() -> bool:
    return os.environ.get(TRUST_UNSIGNED_ENV) == "1"


def _signed_candidates(metadata: Mapping[str, Any], secret: str | None) -> list[tuple[str, str | None, str]]:
    """Identifiers from a valid widget token in ``metadata`` (none for a missing or invalid one)."""
    token = metadata.get(identity_token.METADATA_KEY) if isinstance(metadata, Mapping) else None
    if token is None:
        return []
    try:
        claims = identity_token.verify(token, secret)
    except identity_token.InvalidIdentityToken as exc:
        logger.warning("ignoring an invalid identity token: %s", exc)
        return []
    return [(value, kind, "widget") for kind, value in claims.identifiers()]


def _unsigned_candidates(metadata: Mapping[str, Any]) -> list[tuple[str, str | None, str]]:
    """``{"customer": {...}}`` metadata: trusted only in development (:data:`TRUST_UNSIGNED_ENV`)."""
    customer = metadata.get("customer") if isinstance(metadata, Mapping) else None
    if not isinstance(customer, Mapping):
        return []
    if not _trust_unsigned():
        logger.warning("ignoring unsigned identity metadata (set %s=1 only in development)", TRUST_UNSIGNED_ENV)
        return []
    out: list[tuple[str, str | None, str]] = []
    for key, kind in (
        ("customer_id", None),
        ("customer_number", "customer_number"),
        ("verified_email", "email"),
        ("verified_phone", "phone"),
    ):
        value = customer.get(key)
        if isinstance(value, str) and value.strip():
            out.append((value.strip(), kind, "widget"))
    return out


#: how each candidate's source counts
_TYPED = ("email", "order_id", "invoice_id")


async def _resolve(
    candidates: list[tuple[str, str | None, str]], gateway: ProfileGateway, tried: list[str]
) -> tuple[Identification | None, Lookup | None]:
    """The first candidate that finds a profile (or reports the store unavailable)."""
    last: Lookup | None = None
    for value, kind, via in candidates:
        tried.append(kind or "customer_id")
        lookup = await (gateway.get(value) if kind is None else gateway.find(value, kind=kind))
        if lookup.found or lookup.outcome is Outcome.UNAVAILABLE:
            return Identification(lookup, via, tuple(tried), CLAIMED if via in _TYPED else VERIFIED), last
        last = lookup
    return None, last


async def identify(turn: Turn, gateway: ProfileGateway, identity_secret: str | None = None) -> Identification:
    """Find the customer from what the conversation holds; see the module docstring.

    The one place identification happens: typically one profile read.
    """
    tried: list[str] = []
    last_failure: Lookup | None = None

    # 1. new signed (or, in development, unsigned) identity in this turn's metadata
    found, failure = await _resolve(
        _signed_candidates(turn.metadata, identity_secret) + _unsigned_candidates(turn.metadata), gateway, tried
    )
    if found is not None:
        return found
    last_failure = failure or last_failure

    # 2. identified earlier in this conversation, sealed by the action server itself
    customer_id, level = (None, None)
    if identity_secret:
        customer_id, level = trusted_customer(turn.slots, turn.conversation_id, seal_key(identity_secret))
    elif turn.slot("customer_id"):
        logger.warning("no identity secret to check the customer_id slot with: ignoring it")
    if customer_id is None and turn.slot("customer_id"):
        logger.warning("ignoring a customer_id slot the action server did not seal (%s)", turn.conversation_id)
    if customer_id is not None and level == VERIFIED:
        found, failure = await _resolve([(customer_id, None, "conversation")], gateway, tried)
        if found is not None:
            return found
        last_failure = failure or last_failure

    # 3. the messaging channel's sender (verified), 4. what the customer said (a claim)
    channel_id = channel_identifier(turn.input_channel, turn.conversation_id)
    if channel_id:
        channel_candidates: list[tuple[str, str | None, str]] = [(channel_id, "channel_id", "channel")]
        prefix, _, number = channel_id.partition(":")
        if prefix in PHONE_CHANNELS:
            # an SMS or WhatsApp sender is a phone number the carrier vouches for, as good as the
            # channel id: found too where the profile holds the number but no conversation yet
            channel_candidates.append((number, "phone", "channel"))
        found, failure = await _resolve(channel_candidates, gateway, tried)
        if found is not None:
            return found
        last_failure = failure or last_failure
    candidates: list[tuple[str, str | None, str]] = []
    for slot, kind in (("email", "email"), ("order_id", "order_id"), ("invoice_id", "invoice_id")):
        value = turn.slot(slot)
        if isinstance(value, str) and value.strip():
            candidates.append((value.strip(), kind, kind))
    found, failure = await _resolve(candidates, gateway, tried)
    if found is not None:
        return found
    last_failure = failure or last_failure
    lookup = last_failure or Lookup(Outcome.NOT_FOUND, detail="no identifier")
    if candidates:  # a typed identifier that matched nobody is still a claim (answered the same way)
        return Identification(lookup, candidates[0][1], tuple(tried), CLAIMED)
    return Identification(lookup, None, tuple(tried))


def customer_slots(profile: CustomerProfile, personalise: bool) -> dict[str, Any]:
    """The slots that keep the identification for the rest of the conversation.

    ``customer_name`` holds the given name only where it may be used (not
    stale, personalisation allowed); otherwise it is cleared, so no response
    can greet with it.
    """
    allowed = personalise and profile.consent.personalisation_allowed and "no_personalisation" not in profile.suppressions
    return {
        "customer_id": profile.customer_id,
        "customer_name": profile.greeting_name if allowed else None,
        "customer_segments": sorted(profile.segments),
        "customer_flags": sorted({f.name for f in profile.flags}),
        "personalisation_allowed": allowed,
    }


def verified_slots(
    profile: CustomerProfile, personalise: bool, key: bytes, conversation_id: str, until: float | None = None
) -> dict[str, Any]:
    """:func:`customer_slots` plus the level and the seal that make later actions trust them;
    ``until`` for a level proved with a one-time code (when the proof runs out)."""
    slots = customer_slots(profile, personalise)
    slots["identity_level"] = VERIFIED
    slots[VERIFIED_UNTIL_SLOT] = until
    slots["identity_seal"] = seal_identity(key, conversation_id, profile.customer_id, VERIFIED, until)
    slots["identity_challenge"] = None
    return slots
