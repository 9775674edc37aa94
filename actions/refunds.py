"""Refund actions: policy, new refund (eligibility), refund status."""

from __future__ import annotations

from actions.base import ProfileAction
from bot.actions_support import refunds
from bot.actions_support.conversation import Context, Reply


class ActionRefundPolicy(ProfileAction):
    action_name = "action_refund_policy"
    needs_profile = False

    def handle(self, ctx: Context) -> Reply:
        return refunds.refund_policy(ctx)


class ActionGetRefund(ProfileAction):
    action_name = "action_get_refund"

    async def handle(self, ctx: Context) -> Reply:
        return await refunds.get_refund(ctx)


class ActionTrackRefund(ProfileAction):
    action_name = "action_track_refund"

    def handle(self, ctx: Context) -> Reply:
        return refunds.track_refund(ctx)
