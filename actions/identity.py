"""``action_identify_customer``, ``action_confirm`` and ``action_decline``.

``action_identify_customer`` runs when the customer gives an identifier
outside a form (the answer to "what's your e-mail address or order
number?") or the one-time code the bot sent. An identifier only *claims* an
account: the action sends a code to the contact details on file
(:mod:`bot.actions_support.verification`). The right code verifies the
conversation (sealed slots) and resumes the request that made the bot ask
(``pending_action``) with a ``FollowupAction``, so the tracker, the stories
and the escalation policy see the action that actually answers, and the
customer never repeats the request.
"""

from __future__ import annotations

from actions.base import ProfileAction
from bot.actions_support import changes, verification
from bot.actions_support.assurance import code_in
from bot.actions_support.common import unavailable
from bot.actions_support.conversation import Context, Reply
from bot.actions_support.followups import remember_conversation
from bot.actions_support.runtime import get_services
from bot.processes.render import is_missing


class ActionIdentifyCustomer(ProfileAction):
    action_name = "action_identify_customer"

    async def handle(self, ctx: Context) -> Reply:
        if ctx.unavailable:
            return unavailable("utter_unavailable_account")
        code = code_in(ctx.turn.text, ctx.turn.entities.get("one_time_code"))
        if ctx.profile is None and code and ctx.turn.slot(verification.CHALLENGE_SLOT):
            services = get_services()
            reply, profile = await verification.check(
                ctx.turn, code, services.seal_key, ctx.gateway, verified_for_s=services.verified_for_s
            )
            if profile is not None:
                await remember_conversation(ctx.gateway, profile, ctx.turn)
                return self.resume(ctx, reply)
            return reply
        profile = ctx.profile
        if profile is not None:
            reply = Reply()
            if ctx.turn.slot("customer_id") != profile.customer_id:
                name = ctx.turn.slot("customer_name") if ctx.personalise else None
                if is_missing(name) and ctx.personalise:
                    name = profile.greeting_name
                reply.say("utter_found_account" if is_missing(name) else "utter_found_account_named", name=name)
            return self.resume(ctx, reply)
        if ctx.claimed:
            # an e-mail address or order number is a claim: send a code before anything else
            reply = Reply(verify=True)
            reply.slots["identity_asked"] = True
            return reply
        return Reply().say("utter_identifier_not_caught")

    def resume(self, ctx: Context, reply: Reply) -> Reply:
        """Run the request that waited for the customer's identity next, or ask what they need."""
        pending = ctx.turn.slot("pending_action")
        if pending and pending != self.action_name:
            reply.followup = pending
        else:
            reply.say("utter_what_can_i_help_with")
        reply.slots["pending_action"] = None
        return reply


class ActionConfirm(ProfileAction):
    """"Yes": carries out the change the bot just asked about, and nothing else (``changes``)."""

    action_name = "action_confirm"

    async def handle(self, ctx: Context) -> Reply:
        from bot.actions_support import account, delivery, orders, privacy, refunds

        pending = changes.waiting(ctx)
        if pending is not None:
            kind = pending["kind"]
            done = {
                "order_change": orders.confirm_order_change,
                "address_change": delivery.confirm_address_change,
                "refund": refunds.confirm_refund,
                "data_export": privacy.confirm_data_export,
                "erasure": privacy.confirm_erasure,
            }[kind]
            reply = await done(ctx, pending)
            reply.slots.setdefault(changes.PENDING_SLOT, None)
            return reply
        if changes.waiting(ctx, "cancel_confirmation"):
            return await orders.cancel_order(ctx)
        if changes.waiting(ctx, "delete_confirmation"):
            return await account.delete_account(ctx)
        reply = Reply().say("utter_confirm_nothing_waiting_gently" if ctx.sensitive else "utter_confirm_nothing_waiting")
        reply.slots.update({slot: None for slot in changes.CONFIRMATION_SLOTS if ctx.turn.slot(slot)})
        return reply


class ActionDecline(ProfileAction):
    """"No": drops whatever waited for a confirmation; nothing changes."""

    action_name = "action_decline"
    needs_profile = False

    def handle(self, ctx: Context) -> Reply:
        from bot.actions_support import account, orders

        pending = changes.waiting(ctx)
        if pending is not None:
            reply = Reply().say(f"utter_change_declined_{pending['kind']}", order_id=pending.get("order_id"))
            reply.slots[changes.PENDING_SLOT] = None
            return reply
        if changes.waiting(ctx, "cancel_confirmation"):
            return orders.keep_order(ctx)
        if changes.waiting(ctx, "delete_confirmation"):
            return account.keep_account(ctx)
        reply = Reply().say("utter_decline_nothing_waiting")
        reply.slots.update({slot: None for slot in changes.CONFIRMATION_SLOTS if ctx.turn.slot(slot)})
        return reply
