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

    def handle(self, ctx: Context) -> Reply:
        return delivery.change_shipping_address(ctx)


class ActionConfirmAddressChange(ProfileAction):
    """After ``address_form``: says what will change and asks for a yes."""

    action_name = "action_confirm_address_change"

    def handle(self, ctx: Context) -> Reply:
        return delivery.ask_address_confirmation(ctx)


class ActionSetUpShippingAddress(ProfileAction):
    action_name = "action_set_up_shipping_address"
    needs_profile = False

    def handle(self, ctx: Context) -> Reply:
        return delivery.set_up_shipping_address(ctx)
