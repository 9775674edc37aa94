"""Refunds: the policy, eligibility of a new refund, and where an existing one is."""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

from bot.actions_support import changes
from bot.actions_support.common import confirmed_order, unavailable, with_known
from bot.actions_support.conversation import Context, Reply
from bot.actions_support.orders import choose_order, refund_case
from bot.actions_support.process_requests import start_request
from bot.processes.calendar import format_day
from bot.processes.statement import Case
from bot.profile.model import Order, OrderStatus, RefundState

__all__ = ["refund_policy", "get_refund", "confirm_refund", "track_refund", "refund_eligibility"]


def refund_policy(ctx: Context) -> Reply:
    policies = ctx.catalogue.policies
    reply = Reply()
    reply.say("utter_refund_policy", days=policies.refund_window_days)
    return reply


def refund_eligibility(order: Order, now: dt.datetime, window_days: int) -> tuple[bool, str, dict[str, str]]:
    """Can ``order`` be returned for a refund at ``now``?

    Returns (eligible, reason, facts): ``reason`` names the response that
    explains it (``utter_refund_<reason>``), ``facts`` fill it.
    """
    shipment = order.shipment
    facts = {"order_id": order.order_id, "days": str(window_days)}
    if order.status is OrderStatus.DELIVERED:
        delivered = shipment.delivered_at if shipment and shipment.delivered_at else order.updated_at
        deadline = delivered.date() + dt.timedelta(days=window_days)
        facts["delivered"] = format_day(delivered.date(), now.date())
        facts["deadline"] = format_day(deadline, now.date())
        if now.date() <= deadline:
            return True, "in_window", facts
        return False, "window_ended", facts
    if order.status is OrderStatus.DISPATCHED:
        return True, "on_its_way", facts
    if order.status in (OrderStatus.PLACED, OrderStatus.PROCESSING):
        return False, "not_dispatched", facts
    if order.status is OrderStatus.CANCELLED:
        return False, "cancelled", facts
    return False, "returned", facts


async def get_refund(ctx: Context) -> Reply:
    order, early = choose_order(ctx, "refund", "action_get_refund")
    if early is not None:
        return early
    assert order is not None
    profile = ctx.profile
    assert profile is not None
    reply = Reply()
    reply.slots["order_id"] = order.order_id
    reply.use("order_delivery_date", "commerce", order.order_id)
    existing = sorted(profile.refunds_for(order.order_id), key=lambda r: r.requested_at)
    if existing and existing[-1].state is not RefundState.REJECTED:
        return _report_refund(ctx, order, reply)
    ok, reason, facts = refund_eligibility(order, ctx.now, ctx.catalogue.policies.refund_window_days)
    if ok:
        # say exactly what a yes starts, and wait for it (bot/actions_support/changes.py)
        reply.say(f"utter_refund_{reason}", **facts)
        reply.say("utter_confirm_refund", order_id=order.order_id)
        return changes.ask(reply, "refund", "action_get_refund", order_id=order.order_id)
    if order.status in (OrderStatus.PLACED, OrderStatus.PROCESSING):
        reply.say(f"utter_refund_{reason}", **facts)
        return reply
    if order.status in (OrderStatus.CANCELLED, OrderStatus.RETURNED):
        reply.say(f"utter_refund_{reason}", **facts)
        return _report_refund(ctx, order, reply)
    reply.say(f"utter_refund_{reason}", **facts)
    return reply


async def confirm_refund(ctx: Context, pending: Mapping[str, Any]) -> Reply:
    """The customer said yes: re-check the order (it may have moved on), then record the refund."""
    order = confirmed_order(ctx, str(pending.get("order_id") or ""), "utter_unavailable_refund")
    if isinstance(order, Reply):
        return order
    reply = Reply()
    ok, reason, facts = refund_eligibility(order, ctx.now, ctx.catalogue.policies.refund_window_days)
    if not ok:
        return reply.say(f"utter_refund_{reason}", **facts)
    reference, failed = await start_request(
        ctx,
        "refund",
        order_id=order.order_id,
        details={"via": "return", "order_status": order.status.value},
    )
    if failed is not None:
        return failed
    reply.use("order_delivery_date", "commerce", order.order_id)
    reply.say("utter_refund_request_registered", reference=reference)
    reply.add_statement(ctx.statement(Case("return", None, "requested", None, {"order_id": order.order_id})))
    return reply


def _report_refund(ctx: Context, order: Order, reply: Reply) -> Reply:
    profile = ctx.profile
    refunds = sorted(profile.refunds_for(order.order_id), key=lambda r: r.requested_at) if profile else []
    cancelling = _open_cancellation(profile, order.order_id) if profile and not refunds else None
    if cancelling is not None:
        # "when do I get my money back?" right after a cancellation: the refund is its next step
        reply.say("utter_refund_follows_cancellation", order_id=order.order_id, reference=cancelling.reference)
        variant = str(cancelling.details.get("variant") or "before_dispatch")
        reply.add_statement(ctx.statement(
            Case("order_cancellation", variant, "requested", cancelling.created_at, {"order_id": order.order_id})
        ))
        return reply
    if not refunds:
        reply.say("utter_refund_not_seen_yet", order_id=order.order_id)
        reply.add_statement(ctx.statement(Case("return", None, "received", None, {"order_id": order.order_id})))
        return reply
    refund = refunds[-1]
    reply.use("order_refund", "commerce", order.order_id)
    case = refund_case(refund)
    facts = {
        "order_id": order.order_id,
        "amount": case.facts.get("amount") if case else None,
        "method": ctx.catalogue.process("refund").variant(refund.method.value).label,
        "approved": format_day(refund.approved_at.date(), ctx.now.date()) if refund.approved_at else None,
        "paid": format_day(refund.paid_at.date(), ctx.now.date()) if refund.paid_at else None,
    }
    if case is None:
        reply.say("utter_refund_not_approved", **facts)
        return reply
    if refund.state is RefundState.REQUESTED:
        reply.say(with_known("utter_refund_requested", facts, "amount"), **facts)
    elif refund.state is RefundState.APPROVED:
        reply.say(with_known("utter_refund_approved", facts, "amount", "approved"), **facts)
    else:
        reply.say(with_known("utter_refund_paid", facts, "amount", "paid"), **facts)
    reply.add_statement(ctx.statement(case))
    return reply


def _open_cancellation(profile: Any, order_id: str) -> Any:
    """The open cancellation request the bot recorded for ``order_id``, newest first, if any."""
    open_requests = [
        r for r in profile.open_requests() if r.kind == "order_cancellation" and r.order_id == order_id
    ]
    return max(open_requests, key=lambda r: r.created_at) if open_requests else None


def track_refund(ctx: Context) -> Reply:
    if ctx.unavailable:
        return unavailable("utter_unavailable_refund")
    order, early = choose_order(ctx, "refund_status", "action_track_refund")
    if early is not None:
        return early
    assert order is not None
    reply = Reply()
    reply.slots["order_id"] = order.order_id
    return _report_refund(ctx, order, reply)
