"""Orders: track, cancel (not after dispatch), change, cancellation fees.

Every answer is built from the customer's real order (status, carrier,
promised date from the commerce system) and ends with the three-part process
statement.
"""

from __future__ import annotations

from bot.actions_support.common import (
    ask_identity,
    gentle_prefix,
    list_orders,
    money,
    order_candidates,
    unavailable,
    unknown_order,
)
from bot.actions_support.conversation import Context, Reply
from bot.actions_support.process_requests import start_request
from bot.processes.render import format_money
from bot.processes.statement import Case
from bot.profile.model import Order, OrderStatus

__all__ = [
    "cancellation_fee",
    "cancel_order",
    "change_order",
    "check_cancel_order",
    "choose_order",
    "delivery_case",
    "refund_case",
    "track_order",
]

_GENERIC_TRACKING = (
    "Your order confirmation e-mail has a tracking link once the parcel is dispatched."
)


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


def choose_order(ctx: Context, purpose: str, pending_action: str, why: str) -> tuple[Order | None, Reply | None]:
    """The order a request is about, or the reply to give instead.

    Uses the order number the customer gave; otherwise the one order the
    profile makes obvious (e.g. the only open one); otherwise asks which,
    listing the candidates. Never asks for identity when an order number
    already identified the customer.
    """
    if ctx.unavailable:
        return None, unavailable("your order", _GENERIC_TRACKING)
    profile = ctx.profile
    order_id = ctx.turn.slot("order_id")
    if profile is None:
        if order_id:
            return None, unknown_order(order_id, pending_action, identified=False)
        return None, ask_identity(ctx, pending_action, why)
    if order_id:
        order = profile.order(str(order_id))
        return (order, None) if order else (None, unknown_order(order_id, pending_action))
    candidates = order_candidates(profile, purpose, ctx.now)
    if len(candidates) == 1:
        return candidates[0], None
    reply = Reply()
    reply.slots["pending_action"] = pending_action  # the answer (an order number) resumes the request
    if not candidates:
        reply.say("I can't see an order on your account that this could be about.")
        reply.say('If you have the order number, tell me and I\'ll look it up; or say "agent".')
        return None, reply
    reply.say(
        "I can see several orders on your account: {orders}. Which one is it?",
        {"orders": list_orders(candidates[:4], ctx.now.date())},
    )
    reply.use("your recent orders", "commerce", "to ask which order you mean")
    return None, reply


def _order_facts(order: Order, ctx: Context) -> dict[str, object]:
    shipment = order.shipment
    return {
        "order_id": order.order_id,
        "placed": order.placed_at.date(),
        "carrier": shipment.carrier if shipment else None,
        "tracking": shipment.tracking_number if shipment else None,
        "dispatched": shipment.dispatched_at.date() if shipment and shipment.dispatched_at else None,
        "delivered": shipment.delivered_at.date() if shipment and shipment.delivered_at else None,
        "promised": shipment.promised_date if shipment else None,
        "total": money(order.total, order.currency),
        "city": order.destination_city,
    }


def track_order(ctx: Context) -> Reply:
    order, early = choose_order(ctx, "track", "action_track_order", "check where your order is")
    if early is not None:
        return early
    assert order is not None
    facts, reply = _about_order(order, ctx)
    reply.say(gentle_prefix(ctx) or "")
    reply.say("I'm using your order history to find the parcel.")
    reply.use(f"order {order.order_id} and its shipment", "commerce", "to find your parcel")
    status = order.status
    if status in (OrderStatus.PLACED, OrderStatus.PROCESSING):
        reply.say("Order {order_id}, placed on {placed}, is being prepared in our warehouse.", facts)
    elif status is OrderStatus.DISPATCHED:
        reply.say(
            "Order {order_id} left our warehouse[[ on {dispatched}]] with {carrier|our carrier}.",
            facts,
        )
    elif status is OrderStatus.DELIVERED:
        reply.say("Order {order_id} was delivered[[ on {delivered}]][[ to {city}]].", facts)
    elif status is OrderStatus.CANCELLED:
        reply.say("Order {order_id} was cancelled, so nothing is on its way.", facts)
        return _append_refund(ctx, order, reply)
    else:  # returned
        reply.say("Order {order_id} was returned to us.", facts)
        return _append_refund(ctx, order, reply)
    reply.add_statement(ctx.statement(delivery_case(ctx, order)))
    return reply


def _append_refund(ctx: Context, order: Order, reply: Reply) -> Reply:
    profile = ctx.profile
    refunds = profile.refunds_for(order.order_id) if profile else ()
    if not refunds:
        reply.say('I can\'t see a refund for it yet. Ask me "where is my refund" once it\'s approved.')
        return reply
    refund = sorted(refunds, key=lambda r: r.requested_at)[-1]
    reply.use(f"the refund for order {order.order_id}", "commerce", "to tell you where the money is")
    case = refund_case(refund)
    if case is None:
        reply.say('Its refund was not approved; say "agent" if you\'d like a person to review that.')
        return reply
    reply.say("Its refund[[ of {amount}]] is {state}.", {"amount": case.facts.get("amount"), "state": refund.state.value})
    reply.add_statement(ctx.statement(case))
    return reply


def check_cancel_order(ctx: Context) -> Reply:
    """First half of a cancellation: check the rules, then ask to confirm (or explain why not)."""
    order, early = choose_order(ctx, "cancel", "action_check_cancel_order", "check whether your order can be cancelled")
    if early is not None:
        return early
    assert order is not None
    facts, reply = _about_order(order, ctx)
    reply.use(f"the status of order {order.order_id}", "commerce", "to check whether it can still be cancelled")
    if order.status in (OrderStatus.PLACED, OrderStatus.PROCESSING):
        fee = ctx.catalogue.policies.cancellation_fee_before_dispatch
        facts["fee"] = "free of charge" if fee == 0 else f"a fee of {format_money(fee, order.currency)}"
        reply.say(
            "Order {order_id} (placed {placed}[[, {total}]]) hasn't been dispatched yet, so it can be "
            "cancelled, {fee}. Shall I cancel it?",
            facts,
        )
        reply.slots["order_id"] = order.order_id
        reply.slots["cancel_confirmation"] = order.order_id
        return reply
    reply.slots["cancel_confirmation"] = None
    if order.status is OrderStatus.DISPATCHED:
        reply.say(
            "Order {order_id} has already left our warehouse[[ with {carrier}]], so it can't be cancelled any more.",
            facts,
        )
        reply.add_statement(
            ctx.statement(Case("order_cancellation", "after_dispatch", "requested", None, {"order_id": order.order_id}))
        )
        return reply
    if order.status is OrderStatus.DELIVERED:
        reply.say(
            "Order {order_id} has already been delivered[[ ({delivered})]], so it can't be cancelled, "
            "but you can return it free of charge.",
            facts,
        )
        reply.add_statement(ctx.statement(Case("return", None, "requested", None, {"order_id": order.order_id})))
        return reply
    reply.say("Order {order_id} is already {status}; there's nothing left to cancel.", {**facts, "status": order.status.value})
    return _append_refund(ctx, order, reply)


async def cancel_order(ctx: Context) -> Reply:
    """Second half: the customer confirmed. Re-checks the rules (the order may have moved on),
    puts the cancellation on record, and only then says it has started."""
    confirmed = ctx.turn.slot("cancel_confirmation")
    reply = Reply()
    if not confirmed:
        reply.say("There's no cancellation waiting for your confirmation. Which order would you like to cancel?")
        return reply
    if ctx.unavailable:
        return unavailable("your order", "Nothing has been cancelled yet.")
    profile = ctx.profile
    order = profile.order(str(confirmed)) if profile else None
    reply.slots["cancel_confirmation"] = None
    if order is None:
        return unknown_order(str(confirmed))
    if order.status not in (OrderStatus.PLACED, OrderStatus.PROCESSING):
        reply.say("Order {order_id} has just been dispatched, so it can no longer be cancelled.", {"order_id": order.order_id})
        reply.add_statement(
            ctx.statement(Case("order_cancellation", "after_dispatch", "requested", None, {"order_id": order.order_id}))
        )
        return reply
    reference, failed = await start_request(
        ctx,
        "order_cancellation",
        what=f"the cancellation of order {order.order_id}",
        fallback='Nothing has been cancelled: please say "yes, cancel it" again in a few minutes.',
        order_id=order.order_id,
        details={"variant": "before_dispatch"},
    )
    if failed is not None:
        failed.slots["cancel_confirmation"] = order.order_id  # still waiting for a "yes" that works
        return failed
    reply.say(
        "Done: I've asked our warehouse to cancel order {order_id}[[ (reference {reference})]].",
        {"order_id": order.order_id, "reference": reference},
    )
    reply.use(f"order {order.order_id}", "commerce", "to cancel it")
    reply.add_statement(
        ctx.statement(Case("order_cancellation", "before_dispatch", "requested", None, {"order_id": order.order_id}))
    )
    return reply


def keep_order(ctx: Context) -> Reply:
    reply = Reply()
    reply.slots["cancel_confirmation"] = None
    reply.say("No problem, order {order_id} stays as it is.", {"order_id": ctx.turn.slot("order_id")}, default="No problem, nothing has been cancelled.")
    return reply


async def change_order(ctx: Context) -> Reply:
    order, early = choose_order(ctx, "change", "action_change_order", "check whether your order can still be changed")
    if early is not None:
        return early
    assert order is not None
    facts, reply = _about_order(order, ctx)
    reply.use(f"the status of order {order.order_id}", "commerce", "to check whether it can still be changed")
    if order.status in (OrderStatus.PLACED, OrderStatus.PROCESSING):
        reference, failed = await start_request(
            ctx,
            "order_change",
            what=f"your change request for order {order.order_id}",
            fallback="You can still change the order yourself under Account > Orders until it's dispatched.",
            order_id=order.order_id,
            details={"variant": "before_dispatch"},
            with_message=True,
        )
        if failed is not None:
            return reply.extend(failed)
        reply.say(
            "Order {order_id} hasn't been dispatched yet, so it can still be changed (items, sizes, quantities). "
            "I've passed your change request to a colleague[[ (reference {reference})]], who will confirm with you "
            "what to change; you can also do it yourself under Account > Orders.",
            {**facts, "reference": reference},
        )
        reply.add_statement(
            ctx.statement(Case("order_change", "before_dispatch", "requested", None, {"order_id": order.order_id}))
        )
        return reply
    if order.status in (OrderStatus.DISPATCHED, OrderStatus.DELIVERED):
        reply.add_statement(
            ctx.statement(Case("order_change", "after_dispatch", "requested", None, {"order_id": order.order_id}))
        )
        return reply
    reply.say("Order {order_id} is {status}, so it can't be changed. You're welcome to place a new order.", {**facts, "status": order.status.value})
    return reply


def cancellation_fee(ctx: Context) -> Reply:
    """Fees: free before dispatch; after dispatch a (free) return. Uses the open orders if known."""
    policies = ctx.catalogue.policies
    fee = policies.cancellation_fee_before_dispatch
    reply = Reply()
    reply.say(
        "Cancelling an order before it's dispatched is {fee}. Once it has left our warehouse it can't be cancelled, "
        "but you can return it free of charge within {days} days of delivery.",
        {"fee": "free" if fee == 0 else f"{format_money(fee, policies.currency)}", "days": policies.refund_window_days},
    )
    reply.say(
        "Memberships can be ended at any time; any early-termination fee is shown under Account > Membership "
        "before you confirm."
    )
    profile = ctx.profile
    if profile is not None and ctx.personalise:
        open_orders = [o for o in profile.orders if o.status in (OrderStatus.PLACED, OrderStatus.PROCESSING)]
        if open_orders:
            reply.say(
                "Your {orders} can still be cancelled free of charge.",
                {"orders": list_orders(open_orders[:3], ctx.now.date())},
            )
            reply.use("your open orders", "commerce", "to tell you which can still be cancelled for free")
    return reply
