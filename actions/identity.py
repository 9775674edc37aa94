"""``action_identify_customer``, ``action_confirm`` and ``action_decline``.

``action_identify_customer`` runs when the customer gives an identifier
outside a form (the answer to "what's your e-mail address or order
number?"). It verifies the identifier against the profile, keeps the
identification in slots, and resumes the request that made the bot ask
(``pending_action``) with a ``FollowupAction``, so the tracker, the stories
and the escalation policy see the action that actually answers, and the
customer never repeats the request.
"""

from __future__ import annotations

from typing import Any

from actions.base import ProfileAction
from bot.actions_support.common import unavailable
from bot.actions_support.conversation import Context, Reply
from bot.actions_support.gateway import Outcome
from bot.processes.render import is_missing

IDENTIFIER_KINDS = ("email", "order_id", "invoice_id")


class ActionIdentifyCustomer(ProfileAction):
    action_name = "action_identify_customer"

    def handle(self, ctx: Context) -> Reply:
        if ctx.unavailable:
            return unavailable("utter_unavailable_account")
        profile = ctx.profile
        if profile is not None:
            reply = Reply()
            if ctx.turn.slot("customer_id") != profile.customer_id:
                name = ctx.turn.slot("customer_name") if ctx.personalise else None
                if is_missing(name) and ctx.personalise:
                    name = profile.greeting_name
                reply.say("utter_found_account" if is_missing(name) else "utter_found_account_named", name=name)
            pending = ctx.turn.slot("pending_action")
            if pending and pending != self.action_name:
                reply.followup = pending
            else:
                reply.say("utter_what_can_i_help_with")
            reply.slots["pending_action"] = None
            return reply
        given = [kind for kind in IDENTIFIER_KINDS if ctx.turn.entities.get(kind)]
        reply = Reply()
        if not given:
            return reply.say("utter_identifier_not_caught")
        kind = given[0]
        if ctx.lookup.outcome is Outcome.AMBIGUOUS:
            reply.say(f"utter_identifier_ambiguous_{kind}")
        else:
            reply.say(f"utter_identifier_not_found_{kind}")
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
        return Reply().say("utter_confirm_nothing_waiting_gently" if ctx.sensitive else "utter_confirm_nothing_waiting")


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
        return Reply().say("utter_decline_nothing_waiting")
