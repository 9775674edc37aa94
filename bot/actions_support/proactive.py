"""What the bot says when it speaks first (``action_followup``).

The external event only says *what* changed and for which order; the words
come from the live profile, so the message is right even if the event is
late, and it always ends with the three answers.
"""

from __future__ import annotations

from bot.actions_support.common import money, unavailable, with_known
from bot.actions_support.conversation import Context, Reply
from bot.actions_support.followups import ExternalEvent
from bot.actions_support.orders import delivery_case, refund_case
from bot.processes.statement import Case
from bot.profile.model import OrderStatus

__all__ = ["follow_up"]


def follow_up(ctx: Context) -> Reply:
    event = ExternalEvent.from_intent(ctx.turn.intent)
    order_id = ctx.turn.entities.get("order_id") or ctx.turn.slot("order_id")
    reply = Reply()
    if event is None:
        return reply
    if ctx.unavailable:
        # speaking first without facts would only worry the customer: say little, flag it
        return unavailable("utter_unavailable_followup")
    profile = ctx.profile
    order = profile.order(str(order_id)) if profile is not None and order_id else None
    if profile is None or order is None:
        return reply  # nobody to tell, or nothing to tell them about: stay silent
    reply.use("order_followup", "commerce", order.order_id)
    facts: dict[str, object] = {"order_id": order.order_id}
    refunds = sorted(profile.refunds_for(order.order_id), key=lambda r: r.requested_at)
    if event is ExternalEvent.REFUND_PAID:
        if not refunds:
            return Reply()
        refund = refunds[-1]
        # the event is newer than the commerce export the profile was built from
        case = Case("refund", refund.method.value, "paid", ctx.now, {"amount": money(refund.amount, refund.currency)})
        # a sensitive circumstance on record: plain words, no cheerfulness
        facts["amount"] = case.facts.get("amount")
        response = "utter_followup_refund_paid_plainly" if ctx.sensitive else "utter_followup_refund_paid"
        reply.say(with_known(response, facts, "amount"), **facts)
        reply.add_statement(ctx.statement(case))
        return reply
    if event is ExternalEvent.PARCEL_DELAYED:
        if order.status not in (OrderStatus.PLACED, OrderStatus.PROCESSING, OrderStatus.DISPATCHED):
            return Reply()
        facts["carrier"] = order.shipment.carrier if order.shipment else None
        reply.say(with_known("utter_followup_parcel_delayed", facts, "carrier"), **facts)
        reply.add_statement(ctx.statement(delivery_case(ctx, order)))
        return reply
    # process stalled: check back on the refund if one is open, else on the delivery
    open_refunds = [r for r in refunds if r.is_open]
    if open_refunds:
        case = refund_case(open_refunds[-1])
        reply.say("utter_followup_refund_stalled", **facts)
    elif order.is_open:
        case = delivery_case(ctx, order)
        reply.say("utter_followup_order_stalled", **facts)
    else:
        return Reply()
    if case is not None:
        reply.add_statement(ctx.statement(case))
    reply.say("utter_followup_offer_agent")
    return reply
