"""Putting a process on record before the bot says it has started it.

Every action that tells a customer "I've asked our warehouse to cancel...",
"I've asked for a copy of your invoice...", "I've started closing your
account..." first calls :func:`start_request`, which stores a process
request in the profile store (``ProfileRepository.record_request``, tandem's
``tp_request`` table) where agents and the back office can see and act on
it. Only when that write succeeded may the action claim the process started,
and it quotes the short reference (``R-1A2B3C4D``). When the write fails (store
down, slow, the order no longer on the account) the customer is told honestly
that nothing was started and what they can do instead, and the conversation
is flagged ``data_unavailable`` for the escalation policy.

Recording is idempotent per (customer, kind, order, conversation), so an
action retried by Rasa, or a "yes" said twice, never creates a second request.
"""

from __future__ import annotations

import logging
from typing import Any, Mapping

from bot.actions_support.conversation import Context, Reply
from bot.profile.model import short_reference

logger = logging.getLogger(__name__)

__all__ = ["MAX_MESSAGE_CHARS", "not_recorded", "start_request"]

#: how much of the customer's own words a request keeps for the colleague who acts on it
MAX_MESSAGE_CHARS = 500

def not_recorded(kind: str, variables: Mapping[str, Any]) -> Reply:
    """The honest answer when a request could not be stored; flags the conversation.

    ``utter_not_recorded_<kind>`` says what could not be recorded, that it has
    not started, and what the customer can do meanwhile.
    """
    reply = Reply(unavailable=True)
    reply.say(f"utter_not_recorded_{kind}", **variables)
    reply.say("utter_unavailable_offer")
    reply.slots["data_unavailable"] = True
    return reply


async def start_request(
    ctx: Context,
    kind: str,
    *,
    failure: str | None = None,
    order_id: str | None = None,
    details: Mapping[str, Any] | None = None,
    with_message: bool = False,
) -> tuple[str | None, Reply | None]:
    """Record process ``kind`` for the identified customer.

    Returns ``(reference, None)`` once the request is stored (``reference`` is
    the short form to quote), else ``(None, reply)`` with the honest answer
    ``utter_not_recorded_<failure>`` (``failure`` defaults to ``kind``; the
    order and invoice numbers fill it). ``with_message``
    keeps the customer's latest message (truncated) in the details, for
    requests a colleague completes by hand (order or address changes).
    """
    profile = ctx.profile
    if profile is None:  # callers identify the customer first; never claim anything without one
        logger.error("start_request(%s) without an identified customer", kind)
        return None, not_recorded(failure or kind, _subject(order_id, details))
    data: dict[str, Any] = {k: v for k, v in (details or {}).items() if v is not None}
    if with_message and ctx.turn.text.strip():
        data["customer_message"] = ctx.turn.text.strip()[:MAX_MESSAGE_CHARS]
    ok, result = await ctx.gateway.write_result(
        f"record {kind} request",
        "record_request",
        profile.customer_id,
        kind,
        order_id=order_id,
        conversation_id=ctx.turn.conversation_id,
        details=data or None,
    )
    if not ok or not isinstance(result, str) or not result:
        return None, not_recorded(failure or kind, _subject(order_id, details))
    return short_reference(result), None


def _subject(order_id: str | None, details: Mapping[str, Any] | None) -> dict[str, Any]:
    return {"order_id": order_id, "invoice_id": (details or {}).get("invoice_id")}
