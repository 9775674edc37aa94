"""Delivery actions: options and periods by destination, address changes."""

from __future__ import annotations

from actions.base import ProfileAction
from bot.actions_support import delivery
from bot.actions_support.conversation import Context, Reply


class ActionDeliveryOptions(ProfileAction):
    action_name = "action_delivery_options"

    def handle(self, ctx: Context) -> Reply:
        return delivery.delivery_options(ctx)


class ActionDeliveryPeriod(ProfileAction):
    action_name = "action_delivery_period"

    def handle(self, ctx: Context) -> Reply:
        return delivery.delivery_period(ctx)


class ActionChangeShippingAddress(ProfileAction):
    action_name = "action_change_shipping_address"

    async def handle(self, ctx: Context) -> Reply:
        return await delivery.change_shipping_address(ctx)


class ActionSetUpShippingAddress(ProfileAction):
    action_name = "action_set_up_shipping_address"
    needs_profile = False

    def handle(self, ctx: Context) -> Reply:
        return delivery.set_up_shipping_address(ctx)
