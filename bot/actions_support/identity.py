"""Who is this? Identify the customer without asking twice.

In order, the first that yields a profile wins:

1. the ``customer_id`` slot (identified earlier in this conversation);
2. a verified identity in the message metadata from the website widget
   (``{"customer": {"verified_email": ...}}``, or ``customer_id`` /
   ``customer_number`` / ``verified_phone``);
3. the sender of a messaging channel (WhatsApp, SMS, Messenger): its phone
   number or messaging id is a channel identifier the contact-centre silo
   knows. The REST channel's sender id is chosen by the caller, so it is
   *not* trusted as an identity;
4. what the customer said in this conversation: an e-mail address, an order
   number or an invoice number (entity slots), verified against the profile.

Only when all of that yields nothing does an action ask, once, for an
e-mail address or order number (:data:`ASK_IDENTIFIER`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from typing import Any, Mapping

from bot.actions_support.conversation import Turn
from bot.actions_support.gateway import Lookup, Outcome, ProfileGateway
from bot.profile.model import CustomerProfile

__all__ = [
    "ASK_IDENTIFIER",
    "Identification",
    "channel_identifier",
    "customer_slots",
    "identify",
    "sign_identity",
    "verify_identity",
]

logger = logging.getLogger(__name__)

#: how long a signed widget identity stays valid
IDENTITY_MAX_AGE_S = 24 * 3600

ASK_IDENTIFIER = (
    "So I can look at your own account, what's your e-mail address or an order number? "
    "I'll only use it for this request."
)

#: Rasa input channel name -> prefix of the contact-centre channel id
MESSAGING_CHANNELS: Mapping[str, str] = {
    "whatsapp": "whatsapp",
    "twilio": "sms",
    "sms": "sms",
    "facebook": "messenger",
    "messenger": "messenger",
}


@dataclass(frozen=True)
class Identification:
    lookup: Lookup
    #: how the customer was identified ("conversation", "widget", "channel", "email", "order_id"...)
    via: str | None = None
    #: identifiers tried (kinds only, never values)
    tried: tuple[str, ...] = ()

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


def sign_identity(secret: str, value: str, issued_at: int) -> str:
    """The signature the website back end adds to a verified identity it passes to the widget."""
    return hmac.new(secret.encode(), f"{value}|{issued_at}".encode(), hashlib.sha256).hexdigest()


def verify_identity(customer: Mapping[str, Any], value: str, secret: str | None, now: float | None = None) -> bool:
    """Is ``value`` (from the widget's metadata) really vouched for by our website?

    Without a configured secret (a developer set-up) the metadata is taken as
    is. With one, it must carry ``issued_at`` (epoch seconds, not older than
    :data:`IDENTITY_MAX_AGE_S`) and ``signature`` =
    HMAC-SHA256(secret, "<value>|<issued_at>"), because any client can put
    anything into message metadata.
    """
    if not secret:
        return True
    try:
        issued_at = int(customer.get("issued_at"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    now = time.time() if now is None else now
    if not 0 <= now - issued_at <= IDENTITY_MAX_AGE_S:
        return False
    signature = customer.get("signature")
    if not isinstance(signature, str):
        return False
    return hmac.compare_digest(signature, sign_identity(secret, value, issued_at))


def _metadata_candidates(metadata: Mapping[str, Any], secret: str | None) -> list[tuple[str, str | None, str]]:
    customer = metadata.get("customer") if isinstance(metadata, Mapping) else None
    if not isinstance(customer, Mapping):
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
            if verify_identity(customer, value.strip(), secret):
                out.append((value.strip(), kind, "widget"))
            else:
                logger.warning("ignoring an unsigned or invalid %s in the message metadata", key)
    return out


async def identify(turn: Turn, gateway: ProfileGateway, identity_secret: str | None = None) -> Identification:
    """Find the customer from what the conversation already holds; see the module docstring."""
    tried: list[str] = []
    last_failure: Lookup | None = None

    customer_id = turn.slot("customer_id")
    if isinstance(customer_id, str) and customer_id:
        tried.append("customer_id")
        lookup = await gateway.get(customer_id)
        if lookup.found or lookup.outcome is Outcome.UNAVAILABLE:
            return Identification(lookup, "conversation", tuple(tried))
        last_failure = lookup

    candidates: list[tuple[str, str | None, str]] = _metadata_candidates(turn.metadata, identity_secret)
    channel_id = channel_identifier(turn.input_channel, turn.conversation_id)
    if channel_id:
        candidates.append((channel_id, "channel_id", "channel"))
    for slot, kind in (("email", "email"), ("order_id", "order_id"), ("invoice_id", "invoice_id")):
        value = turn.slot(slot)
        if isinstance(value, str) and value.strip():
            candidates.append((value.strip(), kind, kind))

    for value, kind, via in candidates:
        tried.append(kind or "customer_id")
        if kind is None:
            lookup = await gateway.get(value)
        else:
            lookup = await gateway.find(value, kind=kind)
        if lookup.found or lookup.outcome is Outcome.UNAVAILABLE:
            return Identification(lookup, via, tuple(tried))
        last_failure = lookup
    return Identification(last_failure or Lookup(Outcome.NOT_FOUND, detail="no identifier"), None, tuple(tried))


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
