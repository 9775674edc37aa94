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

from dataclasses import dataclass
from typing import Any, Mapping

from bot.actions_support.conversation import Turn
from bot.actions_support.gateway import Lookup, Outcome, ProfileGateway
from bot.profile.model import CustomerProfile

__all__ = ["ASK_IDENTIFIER", "Identification", "identify", "customer_slots", "channel_identifier"]

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


def _metadata_candidates(metadata: Mapping[str, Any]) -> list[tuple[str, str | None, str]]:
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
            out.append((value.strip(), kind, "widget"))
    return out


async def identify(turn: Turn, gateway: ProfileGateway) -> Identification:
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

    candidates: list[tuple[str, str | None, str]] = _metadata_candidates(turn.metadata)
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
