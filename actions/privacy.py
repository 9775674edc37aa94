"""Transparency and control: why my data, personalisation opt-out, data request, forget me."""

from __future__ import annotations

from actions.base import ProfileAction
from bot.actions_support import privacy
from bot.actions_support.conversation import Context, Reply


class ActionWhyMyData(ProfileAction):
    action_name = "action_why_my_data"
    needs_profile = False

    def handle(self, ctx: Context) -> Reply:
        return privacy.why_my_data(ctx)


class ActionPersonalizationOptOut(ProfileAction):
    action_name = "action_personalization_opt_out"

    async def handle(self, ctx: Context) -> Reply:
        return await privacy.personalization_opt_out(ctx)


class ActionMyDataRequest(ProfileAction):
    action_name = "action_my_data_request"

    async def handle(self, ctx: Context) -> Reply:
        return await privacy.my_data_request(ctx)


class ActionForgetMe(ProfileAction):
    action_name = "action_forget_me"

    async def handle(self, ctx: Context) -> Reply:
        return await privacy.forget_me(ctx)
