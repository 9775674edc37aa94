"""Pieces every business area uses: asking once, honest outages, orders, money."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Iterable

from bot.actions_support.conversation import Context, Reply
from bot.actions_support.identity import ASK_IDENTIFIER
from bot.processes.calendar import format_day
from bot.processes.render import format_money
from bot.profile.model import CustomerProfile, Order, OrderStatus

__all__ = [
    "ask_identity",
    "gentle_prefix",
    "money",
    "order_candidates",
    "order_line",
    "unavailable",
    "unknown_order",
]

UNAVAILABLE = (
    "I can't reach your account details right now, so I can't check {what} for you at the moment. "
    "{fallback}"
)
UNAVAILABLE_OFFER = 'If you\'d like a person to look at it, say "agent" and I\'ll pass on what you\'ve told me.'


def money(minor: int | None, currency: str | None) -> str | None:
    if minor is None:
        return None
    return format_money(Decimal(minor) / 100, currency or "GBP")


def unavailable(what: str, fallback: str = "") -> Reply:
    """The honest answer when the profile store is down or slow; flags the conversation."""
    reply = Reply(unavailable=True)
    reply.say(UNAVAILABLE, {"what": what, "fallback": fallback or None})
    reply.say(UNAVAILABLE_OFFER)
    reply.slots["data_unavailable"] = True
    return reply


def ask_identity(ctx: Context, pending_action: str, why: str) -> Reply:
    """Ask once for an e-mail address or order number; remember what to resume.

    If the conversation already asked and the answer could not be verified,
    say so instead of asking the same question again.
    """
    reply = Reply()
    reply.slots["pending_action"] = pending_action
    if ctx.turn.slot("identity_asked"):
        reply.say(
            "I still don't know which account is yours, so I can't {why}. "
            'You can give me a different e-mail address or order number, or say "agent".',
            {"why": why},
        )
        return reply
    reply.say("I can {why}.", {"why": why})
    reply.say(ASK_IDENTIFIER)
    reply.slots["identity_asked"] = True
    return reply


def gentle_prefix(ctx: Context) -> str | None:
    """A softer opening when a sensitive circumstance is on record (never says which)."""
    return "Thank you for bearing with us." if ctx.sensitive else None


def order_line(order: Order, today: dt.date) -> str:
    """``order 40512398 (placed Monday 16 November, dispatched)``."""
    status = order.status.value
    return f"order {order.order_id} (placed {format_day(order.placed_at.date(), today)}, {status})"


def order_candidates(profile: CustomerProfile, purpose: str, now: dt.datetime) -> list[Order]:
    """The orders a request is most likely about, newest first.

    ``track``: open orders, else anything delivered in the past 7 days;
    ``cancel`` / ``change``: orders not yet delivered;
    ``refund``: delivered, dispatched or recently cancelled orders;
    ``refund_status``: orders with a refund, open refunds first.
    """
    orders = sorted(profile.orders, key=lambda o: o.placed_at, reverse=True)

    def recent(o: Order, days: int) -> bool:
        return (now.replace(tzinfo=None) - o.updated_at.replace(tzinfo=None)) <= dt.timedelta(days=days)

    if purpose == "track":
        found = [o for o in orders if o.is_open]
        return found or [o for o in orders if o.status is OrderStatus.DELIVERED and recent(o, 7)]
    if purpose in ("cancel", "change"):
        return [o for o in orders if o.status in (OrderStatus.PLACED, OrderStatus.PROCESSING, OrderStatus.DISPATCHED)]
    if purpose == "refund":
        return [
            o
            for o in orders
            if o.status in (OrderStatus.DELIVERED, OrderStatus.DISPATCHED)
            or (o.status is OrderStatus.CANCELLED and recent(o, 30))
        ]
    if purpose == "refund_status":
        with_refund = {r.order_id for r in profile.refunds}
        open_refund = {r.order_id for r in profile.refunds if r.is_open}
        found = [o for o in orders if o.order_id in with_refund]
        return sorted(found, key=lambda o: o.order_id not in open_refund)
    return orders


def unknown_order(order_id: str | None, pending_action: str | None = None, identified: bool = True) -> Reply:
    """The order number matches nothing (on this customer's account).

    The request is remembered (``pending_action``), so a corrected number given
    next resumes it without the customer asking again.
    """
    reply = Reply()
    if pending_action:
        reply.slots["pending_action"] = pending_action
    where = "on your account" if identified else "in our orders system"
    reply.say(
        "I can't find order {order_id} " + where + ". Could you check the number in your order confirmation "
        'e-mail? If the order was placed with another e-mail address, tell me that address, or say "agent".',
        {"order_id": order_id},
        default=f"I can't find that order {where}.",
    )
    return reply


def list_orders(orders: Iterable[Order], today: dt.date) -> str:
    from bot.processes.render import join_words

    return join_words([order_line(o, today) for o in orders], "or")
