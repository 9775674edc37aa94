"""``action_identify_customer``: the answer to "what's your e-mail address or order number?".

Runs when the customer gives an identifier outside a form. It verifies the
identifier against the profile, keeps the identification in slots, and
resumes the request that made the bot ask (``pending_action``), so the
customer never repeats the request either.
"""

from __future__ import annotations

from typing import Any

from actions.base import ACTIONS, ProfileAction
from bot.actions_support.common import unavailable
from bot.actions_support.conversation import Context, Reply
from bot.actions_support.gateway import Outcome

_KIND_WORDS = {"email": "e-mail address", "order_id": "order number", "invoice_id": "invoice number"}


class ActionIdentifyCustomer(ProfileAction):
    action_name = "action_identify_customer"

    async def handle(self, ctx: Context) -> Reply:
        pending = ctx.turn.slot("pending_action")
        if ctx.unavailable:
            return unavailable("your account", "Please try again in a few minutes.")
        profile = ctx.profile
        if profile is not None:
            reply = Reply()
            if ctx.turn.slot("customer_id") != profile.customer_id:
                name = ctx.turn.slot("customer_name") if ctx.personalise else None
                if name is None and ctx.personalise:
                    name = profile.greeting_name
                reply.say("Thanks[[, {name}]]: I've found your account.", {"name": name})
            action_cls = ACTIONS.get(pending or "")
            if action_cls is not None and action_cls is not type(self):
                resumed = await action_cls().respond(ctx)
                reply.extend(resumed)
            else:
                reply.say("What can I help you with?")
            if "pending_action" not in reply.slots:
                reply.slots["pending_action"] = None
            return reply
        given = [kind for kind in ("email", "order_id", "invoice_id") if ctx.turn.entities.get(kind)]
        reply = Reply()
        if not given:
            reply.say(
                "Sorry, I didn't catch an e-mail address or an order number in that. "
                "An order number has 8 to 12 digits and is in your order confirmation e-mail."
            )
            return reply
        kind = given[0]
        if ctx.lookup.outcome is Outcome.AMBIGUOUS:
            reply.say(
                "That {what} belongs to more than one account, so I can't tell which is yours. "
                "Could you give me an order number instead?",
                {"what": _KIND_WORDS[kind]},
            )
        else:
            reply.say(
                "I couldn't find an account with that {what}. You can try another e-mail address or order number, "
                'or say "agent" and a colleague will help.',
                {"what": _KIND_WORDS[kind]},
            )
        # forget the identifier that didn't match, so it is not tried again
        clear: dict[str, Any] = {k: None for k in given}
        reply.slots.update(clear)
        return reply


class ActionConfirm(ProfileAction):
    """"Yes": carries out whatever is waiting for a confirmation."""

    action_name = "action_confirm"

    async def handle(self, ctx: Context) -> Reply:
        from bot.actions_support import account, orders

        if ctx.turn.slot("cancel_confirmation"):
            return await orders.cancel_order(ctx)
        if ctx.turn.slot("delete_confirmation"):
            return await account.delete_account(ctx)
        opening = "Thank you." if ctx.sensitive else "Great."
        return Reply().say(opening + " Is there anything else I can help with?")


class ActionDecline(ProfileAction):
    """"No": drops whatever is waiting for a confirmation."""

    action_name = "action_decline"
    needs_profile = False

    def handle(self, ctx: Context) -> Reply:
        from bot.actions_support import account, orders

        if ctx.turn.slot("cancel_confirmation"):
            return orders.keep_order(ctx)
        if ctx.turn.slot("delete_confirmation"):
            return account.keep_account(ctx)
        return Reply().say("All right. Is there anything else I can help with?")
