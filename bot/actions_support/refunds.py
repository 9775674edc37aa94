"""Refunds: the policy, eligibility of a new refund, and where an existing one is."""

from __future__ import annotations

import datetime as dt

from bot.actions_support.common import unavailable
from bot.actions_support.conversation import Context, Reply
from bot.actions_support.orders import choose_order, refund_case
from bot.actions_support.process_requests import start_request
from bot.processes.calendar import format_day
from bot.processes.statement import Case
from bot.profile.model import Order, OrderStatus, RefundState

__all__ = ["refund_policy", "get_refund", "track_refund", "refund_eligibility"]


def refund_policy(ctx: Context) -> Reply:
    policies = ctx.catalogue.policies
    reply = Reply()
    reply.say(
        "You can return most items within {days} days of delivery for a full refund, and returns are free. "
        "Once the return arrives we check it and refund the way you paid: cards within about 5 working days, "
        "PayPal within 2, bank transfers within 5, store credit the next working day. "
        "Opened software, personalised items and gift cards can't be refunded.",
        {"days": policies.refund_window_days},
    )
    return reply


def refund_eligibility(order: Order, now: dt.datetime, window_days: int) -> tuple[bool, str]:
    """Can ``order`` be returned for a refund at ``now``? With the reason in words."""
    shipment = order.shipment
    if order.status is OrderStatus.DELIVERED:
        delivered = shipment.delivered_at if shipment and shipment.delivered_at else order.updated_at
        deadline = delivered.date() + dt.timedelta(days=window_days)
        if now.date() <= deadline:
            return True, f"it was delivered on {format_day(delivered.date(), now.date())}, within the {window_days}-day returns window (until {format_day(deadline, now.date())})"
        return False, f"it was delivered on {format_day(delivered.date(), now.date())}, and the {window_days}-day returns window ended on {format_day(deadline, now.date())}"
    if order.status is OrderStatus.DISPATCHED:
        return True, "it's on its way; you can return it once it arrives (or refuse it at the door)"
    if order.status in (OrderStatus.PLACED, OrderStatus.PROCESSING):
        return False, "it hasn't been dispatched yet, so cancelling it is quicker: the refund then follows automatically"
    if order.status is OrderStatus.CANCELLED:
        return False, "it was cancelled, so its refund is made automatically"
    return False, "it has already been returned"


async def get_refund(ctx: Context) -> Reply:
    order, early = choose_order(ctx, "refund", "action_get_refund", "check whether your order can be refunded")
    if early is not None:
        return early
    assert order is not None
    profile = ctx.profile
    assert profile is not None
    reply = Reply()
    reply.slots["order_id"] = order.order_id
    reply.use(f"order {order.order_id} and its delivery date", "commerce", "to check the returns window")
    existing = sorted(profile.refunds_for(order.order_id), key=lambda r: r.requested_at)
    if existing and existing[-1].state is not RefundState.REJECTED:
        return _report_refund(ctx, order, reply)
    ok, why = refund_eligibility(order, ctx.now, ctx.catalogue.policies.refund_window_days)
    facts = {"order_id": order.order_id, "why": why}
    if ok:
        reference, failed = await start_request(
            ctx,
            "refund",
            what=f"your refund request for order {order.order_id}",
            fallback="You can still start the return yourself under Account > Orders; the returns label is free.",
            order_id=order.order_id,
            details={"via": "return", "order_status": order.status.value},
        )
        if failed is not None:
            return reply.extend(failed)
        reply.say("Order {order_id} can be refunded: {why}.", facts)
        reply.say("I've registered your refund request[[ (reference {reference})]].", {"reference": reference})
        reply.add_statement(ctx.statement(Case("return", None, "requested", None, {"order_id": order.order_id})))
        return reply
    if order.status in (OrderStatus.PLACED, OrderStatus.PROCESSING):
        reply.say("Order {order_id} doesn't need a return: {why}.", facts)
        reply.say('Say "cancel my order" and I\'ll check it for you.')
        return reply
    if order.status in (OrderStatus.CANCELLED, OrderStatus.RETURNED):
        reply.say("Order {order_id} needs no new refund request: {why}.", facts)
        return _report_refund(ctx, order, reply)
    reply.say("I'm sorry, order {order_id} can't be refunded under our policy: {why}.", facts)
    reply.say(
        "If the item is faulty, you're still covered by your statutory rights: "
        'say "agent" and a colleague will look at it.'
    )
    return reply


def _report_refund(ctx: Context, order: Order, reply: Reply) -> Reply:
    profile = ctx.profile
    refunds = sorted(profile.refunds_for(order.order_id), key=lambda r: r.requested_at) if profile else []
    if not refunds:
        reply.say(
            "I can't see a refund for order {order_id} yet. If you've sent it back, refunds are approved within "
            "5 working days of the return arriving.",
            {"order_id": order.order_id},
        )
        reply.add_statement(ctx.statement(Case("return", None, "received", None, {"order_id": order.order_id})))
        return reply
    refund = refunds[-1]
    reply.use(f"the refund for order {order.order_id}", "commerce", "to tell you where the money is")
    case = refund_case(refund)
    facts = {
        "order_id": order.order_id,
        "amount": case.facts.get("amount") if case else None,
        "method": ctx.catalogue.process("refund").variant(refund.method.value).label,
        "approved": refund.approved_at,
        "paid": refund.paid_at,
    }
    if case is None:
        reply.say(
            "The refund request for order {order_id} was not approved. "
            'I can put you through to a colleague who can explain why and review it: say "agent".',
            facts,
        )
        return reply
    if refund.state is RefundState.REQUESTED:
        reply.say("Your refund[[ of {amount}]] for order {order_id} has been requested and is being checked.", facts)
    elif refund.state is RefundState.APPROVED:
        reply.say("Your refund[[ of {amount}]] for order {order_id} was approved[[ on {approved}]] as a {method}.", facts)
    else:
        reply.say("Your refund[[ of {amount}]] for order {order_id} was paid[[ on {paid}]] as a {method}.", facts)
    reply.add_statement(ctx.statement(case))
    return reply


def track_refund(ctx: Context) -> Reply:
    if ctx.unavailable:
        return unavailable(
            "your refund",
            "Refunds reach cards within about 5 working days of approval, PayPal within 2.",
        )
    order, early = choose_order(ctx, "refund_status", "action_track_refund", "check where your refund is")
    if early is not None:
        return early
    assert order is not None
    reply = Reply()
    reply.slots["order_id"] = order.order_id
    return _report_refund(ctx, order, reply)
