"""Pieces every business area uses: asking once, honest outages, orders, money."""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Mapping

from bot.actions_support.conversation import Context, Reply
from bot.processes.calendar import format_day
from bot.processes.render import format_money, is_missing, join_words
from bot.profile.model import CustomerProfile, Order, OrderStatus

__all__ = [
    "ask_identity",
    "gentle_opening",
    "money",
    "order_candidates",
    "order_line",
    "unavailable",
    "unknown_order",
    "with_known",
]


def money(minor: int | None, currency: str | None) -> str:
    """An amount in the profile's minor units, as people read it ("" when there is none)."""
    return format_money(minor, currency, minor_units=True)


def unavailable(response: str, **variables: object) -> Reply:
    """The honest answer when the profile store is down or slow; flags the conversation.

    ``response`` (``utter_unavailable_*``) says what could not be checked and
    what the customer can do meanwhile; the offer of a person follows.
    """
    reply = Reply(unavailable=True)
    reply.say(response, **variables)
    reply.say("utter_unavailable_offer")
    reply.slots["data_unavailable"] = True
    return reply


def ask_identity(ctx: Context, pending_action: str, purpose: str) -> Reply:
    """Ask once for an e-mail address or order number; remember what to resume.

    When the customer already gave one (a claim, ``ctx.claimed``), nothing is
    asked: the reply asks the action layer to verify the claim with a
    one-time code, and the request resumes once it is verified.

    ``purpose`` names the responses ``utter_identity_for_<purpose>`` (what the
    bot can do once it knows the account) and
    ``utter_identity_still_unknown_<purpose>`` (said instead of asking the same
    question again when the answer could not be verified).
    """
    reply = Reply()
    reply.slots["pending_action"] = pending_action
    if ctx.claimed:
        # an identifier was given but not proved: verify it first (a one-time code), then resume
        reply.verify = True
        return reply
    if ctx.turn.slot("identity_asked"):
        return reply.say(f"utter_identity_still_unknown_{purpose}")
    reply.say(f"utter_identity_for_{purpose}")
    reply.say("utter_ask_identifier")
    reply.slots["identity_asked"] = True
    return reply


def gentle_opening(ctx: Context, reply: Reply) -> None:
    """A softer opening when a sensitive circumstance is on record (never says which)."""
    if ctx.sensitive:
        reply.say("utter_gentle_opening")


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


def with_known(response: str, facts: Mapping[str, Any], *optional: str) -> str:
    """``response`` plus ``_with_<name>`` for each optional fact that is known.

    E.g. ``utter_order_delivered_with_delivered_city`` when both the delivery
    day and the city are known: the domain holds one response per combination,
    so no sentence is assembled from fragments and none can show an empty
    placeholder.
    """
    known = [name for name in optional if not is_missing(facts.get(name))]
    return f"{response}_with_{'_'.join(known)}" if known else response


def unknown_order(order_id: str | None, pending_action: str | None = None) -> Reply:
    """The order number matches nothing (on this customer's account).

    The request is remembered (``pending_action``), so a corrected number given
    next resumes it without the customer asking again.
    """
    reply = Reply()
    if pending_action:
        reply.slots["pending_action"] = pending_action
    if is_missing(order_id):
        return reply.say("utter_unknown_order_on_account_unnamed")
    return reply.say("utter_unknown_order_on_account", order_id=order_id)


def confirmed_order(ctx: Context, order_id: str, unavailable_response: str) -> Order | Reply:
    """The order a customer's yes confirms, looked up again (it may have moved on since the
    question); or the reply when the systems are down or the number matches nothing of theirs."""
    if ctx.unavailable:
        return unavailable(unavailable_response)
    order = ctx.profile.order(order_id) if ctx.profile is not None else None
    return order if order is not None else unknown_order(order_id)


def list_orders(orders: Iterable[Order], today: dt.date) -> str:
    """The orders as a list for ``{orders}`` ("order 1 (placed ..., dispatched) or order 2 (...)")."""
    return join_words([order_line(o, today) for o in orders], "or")
