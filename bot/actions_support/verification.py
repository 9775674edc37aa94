"""Verifying a claimed identity with a one-time code.

:func:`start` runs when an action needed the customer's account but the
customer only *claimed* one (typed an e-mail address or order number): it
makes a code, sends it to the e-mail address (else the phone number) on file
through the configured :class:`~bot.actions_support.code_sender.CodeSender`,
and says so in the same words whether or not the identifier matched anyone.
:func:`check` runs when a 6-digit code comes back: right, and the
conversation is verified (sealed slots) for ``verified_for_s``, and the
waiting request resumes; wrong, expired or out of attempts, and it says so
and shows nothing.
"""

from __future__ import annotations

import logging
import time

from bot.actions_support import assurance
from bot.actions_support.code_sender import CodeMessage, CodeSender
from bot.actions_support.conversation import Reply, Turn
from bot.actions_support.gateway import Outcome, ProfileGateway
from bot.actions_support.identity import Identification, verified_slots
from bot.profile.model import CustomerProfile

__all__ = ["CHALLENGE_SLOT", "check", "start"]

logger = logging.getLogger(__name__)

CHALLENGE_SLOT = "identity_challenge"
#: what was claimed -> the wording of ``utter_verification_sent_<kind>``
KINDS = ("email", "order_id", "invoice_id")


def _contact(profile: CustomerProfile) -> tuple[str, str] | None:
    """Where the code goes: the e-mail address on file, else the phone number."""
    if profile.email:
        return "email", profile.email
    if profile.phones:
        return "sms", profile.phones[0]
    return None


async def start(
    turn: Turn,
    ident: Identification,
    key: bytes,
    sender: CodeSender | None,
    now: float | None = None,
) -> Reply:
    """Send a code for the claimed identity (see the module docstring)."""
    now = time.time() if now is None else now
    reply = Reply()
    conversation = turn.conversation_id
    kind = ident.via if ident.via in KINDS else "email"
    profile = ident.lookup.profile if ident.lookup.found else None
    customer_id = profile.customer_id if profile is not None else None
    previous = assurance.open_challenge(turn.slot(CHALLENGE_SLOT), conversation, key)
    claim = assurance.claim_mac(key, conversation, kind, turn.slot(kind))
    if previous is not None and not previous.spent and not previous.expired(now) and previous.claim == claim:
        return reply.say("utter_verification_code_pending")  # the code already sent still works
    if previous is not None and previous.codes_sent >= assurance.MAX_CODES:
        return reply.say("utter_verification_limit")
    order_id = turn.slot("order_id") if kind == "order_id" else None
    challenge, code = assurance.new_challenge(
        key, conversation, customer_id, kind, now, previous=previous, order_id=order_id, claim=claim
    )
    contact = _contact(profile) if profile is not None else None
    if contact is not None:
        if sender is None:
            logger.error("no one-time code sender is configured: cannot verify %s", conversation)
            return reply.say("utter_verification_unavailable")
        channel, to = contact
        try:
            await sender.send(CodeMessage(channel, to, code, challenge.expires_at, conversation))
        except Exception:  # noqa: BLE001 - tell the customer honestly, keep the conversation going
            logger.exception("sending a one-time code failed for %s", conversation)
            return reply.say("utter_verification_unavailable")
    # the same words whether or not the identifier matched anyone: no hint either way
    reply.say(f"utter_verification_sent_{kind}")
    reply.slots[CHALLENGE_SLOT] = challenge.to_slot(key, conversation)
    reply.slots["identity_level"] = assurance.CLAIMED
    return reply


def _tries(n: int) -> str:
    return f"{n} more {'try' if n == 1 else 'tries'}"


async def check(
    turn: Turn,
    code: str,
    key: bytes,
    gateway: ProfileGateway,
    now: float | None = None,
    verified_for_s: float = assurance.VERIFIED_FOR_S,
) -> tuple[Reply, CustomerProfile | None]:
    """Check a code the customer typed; the profile when it verified them (for ``verified_for_s``:
    after that, anything personal needs a new code)."""
    now = time.time() if now is None else now
    reply = Reply()
    conversation = turn.conversation_id
    challenge = assurance.open_challenge(turn.slot(CHALLENGE_SLOT), conversation, key)
    if challenge is None:
        if turn.slot(CHALLENGE_SLOT):
            logger.warning("ignoring an identity challenge the action server did not seal (%s)", conversation)
        return reply.say("utter_verification_nothing_pending"), None
    if turn.slot("order_id") == code:
        # the code was read as an order number: put back the one the customer asked about
        reply.slots["order_id"] = challenge.order_id
    result = assurance.check_code(key, conversation, challenge, code, now)
    if result.outcome == "expired":
        reply.slots[CHALLENGE_SLOT] = result.challenge.to_slot(key, conversation)
        return reply.say("utter_verification_expired"), None
    if result.outcome == "spent":
        reply.slots[CHALLENGE_SLOT] = result.challenge.to_slot(key, conversation)
        return reply.say("utter_verification_spent"), None
    if result.outcome == "wrong":
        reply.slots[CHALLENGE_SLOT] = result.challenge.to_slot(key, conversation)
        return reply.say("utter_verification_wrong", tries=_tries(result.challenge.attempts_left)), None
    assert challenge.customer_id is not None
    lookup = await gateway.get(challenge.customer_id)
    if not lookup.found or lookup.profile is None:
        # verified, but the account can't be read right now: keep the challenge, say so honestly
        reply.unavailable = lookup.outcome is Outcome.UNAVAILABLE
        return reply.say("utter_unavailable_account"), None
    profile = lookup.profile
    personalise = turn.slot("personalisation_allowed") is not False
    reply.slots.update(verified_slots(profile, personalise, key, conversation, until=now + verified_for_s))
    if challenge.order_id:
        reply.slots["order_id"] = challenge.order_id
    name = reply.slots.get("customer_name")
    if name:
        reply.say("utter_identity_verified_named", name=name)
    else:
        reply.say("utter_identity_verified")
    return reply, profile
