"""Orders: track, cancel (not after dispatch), change, cancellation fees.

Every answer is built from the customer's real order (status, carrier,
promised date from the commerce system) and ends with the three-part process
statement.
"""

from __future__ import annotations

from typing import Any, Mapping

from bot.actions_support import changes
from bot.actions_support.common import (
    confirmed_order,
    ask_identity,
    with_known,
    gentle_opening,
    list_orders,
    money,
    order_candidates,
    unavailable,
    unknown_order,
)
from bot.actions_support.conversation import Context, Reply
from bot.actions_support.process_requests import MAX_MESSAGE_CHARS, start_request
from bot.processes.render import format_money, is_missing
from bot.processes.calendar import format_day
from bot.processes.statement import Case
from bot.profile.model import Order, OrderStatus

__all__ = [
    "cancellation_fee",
    "cancel_order",
    "change_order",
    "confirm_order_change",
    "check_cancel_order",
    "choose_order",
    "delivery_case",
    "refund_case",
    "track_order",
]

def delivery_case(ctx: Context, order: Order) -> Case:
    """The delivery process of an order as the catalogue sees it."""
    zone = ctx.catalogue.policies.zone_of(order.destination_country)
    shipment = order.shipment
    facts = {
        "order_id": order.order_id,
        "carrier": shipment.carrier if shipment else None,
        "tracking_number": shipment.tracking_number if shipment else None,
    }
    promised = shipment.promised_date if shipment else None
    if order.status is OrderStatus.DELIVERED:
        since = shipment.delivered_at if shipment and shipment.delivered_at else order.updated_at
        return Case("delivery", f"standard_{zone}", "delivered", since, facts)
    if order.status is OrderStatus.DISPATCHED:
        since = shipment.dispatched_at if shipment and shipment.dispatched_at else order.updated_at
        return Case("delivery", f"standard_{zone}", "dispatched", since, facts, promised=promised)
    return Case("delivery", f"standard_{zone}", "placed", order.placed_at, facts, promised=promised)


def refund_case(refund) -> Case | None:  # type: ignore[no-untyped-def]
    """The refund process of a profile refund, or None for a rejected one."""
    from bot.profile.model import RefundState

    facts = {"amount": money(refund.amount, refund.currency), "order_id": refund.order_id}
    variant = refund.method.value
    if refund.state is RefundState.REQUESTED:
        return Case("refund", variant, "requested", refund.requested_at, facts)
    if refund.state is RefundState.APPROVED:
        return Case("refund", variant, "approved", refund.approved_at or refund.requested_at, facts)
    if refund.state is RefundState.PAID:
        return Case("refund", variant, "paid", refund.paid_at or refund.approved_at, facts)
    return None


def _about_order(order: Order, ctx: Context) -> tuple[dict[str, object], Reply]:
    """The order's facts for the statements, and a reply that makes it the conversation's order."""
    reply = Reply()
    reply.slots["order_id"] = order.order_id
    return _order_facts(order, ctx), reply


def choose_order(ctx: Context, purpose: str, pending_action: str) -> tuple[Order | None, Reply | None]:
    """The order a request is about, or the reply to give instead.

    Uses the order number the customer gave; otherwise the one order the
    profile makes obvious (e.g. the only open one); otherwise asks which,
    listing the candidates. Never asks for identity when an order number
    already identified the customer. ``purpose`` picks the candidates
    (:func:`order_candidates`) and the ``utter_identity_*_<purpose>`` wording.
    """
    if ctx.unavailable:
        return None, unavailable("utter_unavailable_order")
    profile = ctx.profile
    order_id = ctx.turn.slot("order_id")
    if profile is None:
        # a typed order number only claims the order: verify first (ask_identity), show nothing
        return None, ask_identity(ctx, pending_action, purpose)
    if order_id:
        order = profile.order(str(order_id))
        return (order, None) if order else (None, unknown_order(order_id, pending_action))
    candidates = order_candidates(profile, purpose, ctx.now)
    if len(candidates) == 1:
        return candidates[0], None
    reply = Reply()
    reply.slots["pending_action"] = pending_action  # the answer (an order number) resumes the request
    if not candidates:
        reply.say("utter_no_matching_order")
        return None, reply
    reply.say("utter_which_order", orders=list_orders(candidates[:4], ctx.now.date()))
    reply.use("recent_orders", "commerce")
    return None, reply


def _order_facts(order: Order, ctx: Context) -> dict[str, object]:
    shipment = order.shipment
    return {
        "order_id": order.order_id,
        "placed": format_day(order.placed_at.date(), ctx.now.date()),
        "carrier": shipment.carrier if shipment else None,
        "dispatched": format_day(shipment.dispatched_at.date(), ctx.now.date()) if shipment and shipment.dispatched_at else None,
        "delivered": format_day(shipment.delivered_at.date(), ctx.now.date()) if shipment and shipment.delivered_at else None,
        "total": money(order.total, order.currency),
        "city": order.destination_city,
    }


def track_order(ctx: Context) -> Reply:
    order, early = choose_order(ctx, "track", "action_track_order")
    if early is not None:
        return early
    assert order is not None
    facts, reply = _about_order(order, ctx)
    gentle_opening(ctx, reply)
    reply.say("utter_using_order_history")
    reply.use("order_shipment", "commerce", order.order_id)
    status = order.status
    if status in (OrderStatus.PLACED, OrderStatus.PROCESSING):
        reply.say("utter_order_being_prepared", **facts)
    elif status is OrderStatus.DISPATCHED:
        reply.say(with_known("utter_order_dispatched", facts, "dispatched", "carrier"), **facts)
    elif status is OrderStatus.DELIVERED:
        reply.say(with_known("utter_order_delivered", facts, "delivered", "city"), **facts)
    elif status is OrderStatus.CANCELLED:
        reply.say("utter_order_was_cancelled", **facts)
        return _append_refund(ctx, order, reply)
    else:  # returned
        reply.say("utter_order_was_returned", **facts)
        return _append_refund(ctx, order, reply)
    reply.add_statement(ctx.statement(delivery_case(ctx, order)))
    return reply


def _append_refund(ctx: Context, order: Order, reply: Reply) -> Reply:
    profile = ctx.profile
    refunds = profile.refunds_for(order.order_id) if profile else ()
    if not refunds:
        reply.say("utter_order_no_refund_yet")
        return reply
    refund = sorted(refunds, key=lambda r: r.requested_at)[-1]
    reply.use("order_refund", "commerce", order.order_id)
    case = refund_case(refund)
    if case is None:
        reply.say("utter_order_refund_rejected")
        return reply
    amount = case.facts.get("amount")
    reply.say(with_known(f"utter_order_refund_{refund.state.value}", {"amount": amount}, "amount"), amount=amount)
    reply.add_statement(ctx.statement(case))
    return reply


def check_cancel_order(ctx: Context) -> Reply:
    """First half of a cancellation: check the rules, then ask to confirm (or explain why not)."""
    order, early = choose_order(ctx, "cancel", "action_check_cancel_order")
    if early is not None:
        return early
    assert order is not None
    facts, reply = _about_order(order, ctx)
    reply.use("order_status_cancel", "commerce", order.order_id)
    if order.status in (OrderStatus.PLACED, OrderStatus.PROCESSING):
        fee = ctx.catalogue.policies.cancellation_fee_before_dispatch
        if fee == 0:
            reply.say(with_known("utter_confirm_cancel_free", facts, "total"), **facts)
        else:
            facts["fee"] = format_money(fee, order.currency)
            reply.say(with_known("utter_confirm_cancel_fee", facts, "total"), **facts)
        reply.slots["order_id"] = order.order_id
        reply.slots["cancel_confirmation"] = order.order_id
        return reply
    reply.slots["cancel_confirmation"] = None
    if order.status is OrderStatus.DISPATCHED:
        reply.say(with_known("utter_cancel_too_late_dispatched", facts, "carrier"), **facts)
        reply.add_statement(
            ctx.statement(Case("order_cancellation", "after_dispatch", "requested", None, {"order_id": order.order_id}))
        )
        return reply
    if order.status is OrderStatus.DELIVERED:
        reply.say(with_known("utter_cancel_too_late_delivered", facts, "delivered"), **facts)
        reply.add_statement(ctx.statement(Case("return", None, "requested", None, {"order_id": order.order_id})))
        return reply
    reply.say(f"utter_nothing_to_cancel_{order.status.value}", **facts)
    return _append_refund(ctx, order, reply)


async def cancel_order(ctx: Context) -> Reply:
    """Second half: the customer confirmed. Re-checks the rules (the order may have moved on),
    puts the cancellation on record, and only then says it has started."""
    confirmed = ctx.turn.slot("cancel_confirmation")
    reply = Reply()
    if not confirmed:
        reply.say("utter_no_cancellation_waiting")
        return reply
    if ctx.unavailable:
        return unavailable("utter_unavailable_order_cancel")
    profile = ctx.profile
    order = profile.order(str(confirmed)) if profile else None
    reply.slots["cancel_confirmation"] = None
    if order is None:
        return unknown_order(str(confirmed))
    if order.status not in (OrderStatus.PLACED, OrderStatus.PROCESSING):
        reply.say("utter_cancel_just_dispatched", order_id=order.order_id)
        reply.add_statement(
            ctx.statement(Case("order_cancellation", "after_dispatch", "requested", None, {"order_id": order.order_id}))
        )
        return reply
    reference, failed = await start_request(
        ctx,
        "order_cancellation",
        order_id=order.order_id,
        details={"variant": "before_dispatch"},
    )
    if failed is not None:
        failed.slots["cancel_confirmation"] = order.order_id  # still waiting for a "yes" that works
        return failed
    reply.say("utter_order_cancellation_started", order_id=order.order_id, reference=reference)
    reply.use("order_cancel", "commerce", order.order_id)
    reply.add_statement(
        ctx.statement(Case("order_cancellation", "before_dispatch", "requested", None, {"order_id": order.order_id}))
    )
    return reply


def keep_order(ctx: Context) -> Reply:
    reply = Reply()
    reply.slots["cancel_confirmation"] = None
    order_id = ctx.turn.slot("order_id")
    if is_missing(order_id):
        return reply.say("utter_nothing_cancelled")
    reply.say("utter_order_kept", order_id=order_id)
    return reply


async def change_order(ctx: Context) -> Reply:
    """An open order: say exactly what a yes starts (a change request a colleague completes with the
    customer) and wait for it (``changes``); otherwise what can be done instead."""
    order, early = choose_order(ctx, "change", "action_change_order")
    if early is not None:
        return early
    assert order is not None
    if order.status not in (OrderStatus.PLACED, OrderStatus.PROCESSING):
        return _not_changeable(ctx, order)
    _facts, reply = _about_order(order, ctx)
    reply.use("order_status_change", "commerce", order.order_id)
    reply.say("utter_confirm_order_change", order_id=order.order_id)
    # what the customer asked to change goes with the request, not the "yes" that confirms it
    said = ctx.turn.text.strip()[:MAX_MESSAGE_CHARS] or None
    return changes.ask(reply, "order_change", "action_change_order", order_id=order.order_id, message=said)


async def confirm_order_change(ctx: Context, pending: Mapping[str, Any]) -> Reply:
    """The customer said yes: re-check the order (it may have left meanwhile), then record the request."""
    order = confirmed_order(ctx, str(pending.get("order_id") or ""), "utter_unavailable_order")
    if isinstance(order, Reply):
        return order
    if order.status not in (OrderStatus.PLACED, OrderStatus.PROCESSING):
        return _not_changeable(ctx, order)
    reference, failed = await start_request(
        ctx,
        "order_change",
        order_id=order.order_id,
        details={"variant": "before_dispatch", "customer_message": pending.get("message")},
    )
    if failed is not None:
        return failed
    _facts, reply = _about_order(order, ctx)
    reply.use("order_status_change", "commerce", order.order_id)
    reply.say("utter_order_change_started", order_id=order.order_id, reference=reference)
    reply.add_statement(
        ctx.statement(Case("order_change", "before_dispatch", "requested", None, {"order_id": order.order_id}))
    )
    return reply


def _not_changeable(ctx: Context, order: Order) -> Reply:
    """A dispatched or delivered order: return it instead (the statement says how); a cancelled or
    returned one: nothing to change."""
    facts, reply = _about_order(order, ctx)
    reply.use("order_status_change", "commerce", order.order_id)
    if order.status in (OrderStatus.DISPATCHED, OrderStatus.DELIVERED):
        reply.add_statement(
            ctx.statement(Case("order_change", "after_dispatch", "requested", None, {"order_id": order.order_id}))
        )
        return reply
    reply.say(f"utter_order_unchangeable_{order.status.value}", **facts)
    return reply


def cancellation_fee(ctx: Context) -> Reply:
    """Fees: free before dispatch; after dispatch a (free) return. Uses the open orders if known."""
    policies = ctx.catalogue.policies
    fee = policies.cancellation_fee_before_dispatch
    reply = Reply()
    if fee == 0:
        reply.say("utter_cancellation_fee_free", days=policies.refund_window_days)
    else:
        reply.say("utter_cancellation_fee", fee=format_money(fee, policies.currency), days=policies.refund_window_days)
    reply.say("utter_membership_cancellation")
    profile = ctx.profile
    if profile is not None and ctx.personalise:
        open_orders = [o for o in profile.orders if o.status in (OrderStatus.PLACED, OrderStatus.PROCESSING)]
        if open_orders:
            reply.say("utter_open_orders_cancellable", orders=list_orders(open_orders[:3], ctx.now.date()))
            reply.use("open_orders_cancel", "commerce")
    return reply
