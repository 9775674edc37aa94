"""Invoice and payment actions."""

from __future__ import annotations

from actions.base import ProfileAction
from bot.actions_support import billing
from bot.actions_support.conversation import Context, Reply


class ActionCheckInvoice(ProfileAction):
    action_name = "action_check_invoice"

    def handle(self, ctx: Context) -> Reply:
        return billing.check_invoice(ctx)


class ActionGetInvoice(ProfileAction):
    action_name = "action_get_invoice"

    async def handle(self, ctx: Context) -> Reply:
        return await billing.get_invoice(ctx)


class ActionPaymentIssue(ProfileAction):
    action_name = "action_payment_issue"

    async def handle(self, ctx: Context) -> Reply:
        return await billing.payment_issue(ctx)


class ActionPaymentMethods(ProfileAction):
    action_name = "action_payment_methods"

    def handle(self, ctx: Context) -> Reply:
        return billing.payment_methods(ctx)
