"""Order actions: track, cancel (check + confirm), change, cancellation fee."""

from __future__ import annotations

from actions.base import ProfileAction
from bot.actions_support import orders
from bot.actions_support.conversation import Context, Reply


class ActionTrackOrder(ProfileAction):
    action_name = "action_track_order"

    def handle(self, ctx: Context) -> Reply:
        return orders.track_order(ctx)


class ActionCheckCancelOrder(ProfileAction):
    action_name = "action_check_cancel_order"

    def handle(self, ctx: Context) -> Reply:
        return orders.check_cancel_order(ctx)


class ActionCancelOrder(ProfileAction):
    action_name = "action_cancel_order"

    async def handle(self, ctx: Context) -> Reply:
        return await orders.cancel_order(ctx)


class ActionKeepOrder(ProfileAction):
    action_name = "action_keep_order"
    needs_profile = False

    def handle(self, ctx: Context) -> Reply:
        return orders.keep_order(ctx)


class ActionChangeOrder(ProfileAction):
    action_name = "action_change_order"

    async def handle(self, ctx: Context) -> Reply:
        return await orders.change_order(ctx)


class ActionCancellationFee(ProfileAction):
    action_name = "action_cancellation_fee"

    def handle(self, ctx: Context) -> Reply:
        return orders.cancellation_fee(ctx)
