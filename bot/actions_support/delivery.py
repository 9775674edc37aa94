"""Delivery options and periods by destination, and address changes."""

from __future__ import annotations

from typing import Any, Mapping

from bot.actions_support import changes
from bot.actions_support.common import ask_identity, list_orders, unavailable, unknown_order, with_known
from bot.actions_support.conversation import Context, Reply
from bot.actions_support.process_requests import start_request
from bot.processes.calendar import format_day
from bot.processes.render import format_money
from bot.processes.statement import Case, assess
from bot.profile.model import Order, OrderStatus

#: an order's address can change (or the parcel be redirected) until it is delivered
OPEN_FOR_ADDRESS_CHANGE = (OrderStatus.PLACED, OrderStatus.PROCESSING, OrderStatus.DISPATCHED)

__all__ = [
    "country_code",
    "delivery_options",
    "delivery_period",
    "change_shipping_address",
    "ask_address_confirmation",
    "confirm_address_change",
    "set_up_shipping_address",
]

#: country names customers type -> ISO code (zones are defined on codes in the catalogue)
COUNTRY_NAMES: Mapping[str, str] = {
    "uk": "GB", "united kingdom": "GB", "great britain": "GB", "britain": "GB", "england": "GB",
    "scotland": "GB", "wales": "GB", "northern ireland": "GB", "gb": "GB",
    "ireland": "IE", "france": "FR", "germany": "DE", "spain": "ES", "italy": "IT", "portugal": "PT",
    "netherlands": "NL", "holland": "NL", "belgium": "BE", "luxembourg": "LU", "austria": "AT",
    "switzerland": "CH", "denmark": "DK", "sweden": "SE", "norway": "NO", "finland": "FI",
    "iceland": "IS", "poland": "PL", "czech republic": "CZ", "czechia": "CZ", "slovakia": "SK",
    "hungary": "HU", "romania": "RO", "bulgaria": "BG", "greece": "GR", "croatia": "HR",
    "slovenia": "SI", "estonia": "EE", "latvia": "LV", "lithuania": "LT", "malta": "MT", "cyprus": "CY",
    "usa": "US", "us": "US", "united states": "US", "america": "US", "canada": "CA", "australia": "AU",
    "new zealand": "NZ", "japan": "JP", "china": "CN", "india": "IN", "brazil": "BR", "mexico": "MX",
}
ZONES = ("domestic", "europe", "international")
METHODS = ("standard", "express")


def country_code(text: str | None) -> str | None:
    """ISO code for a country name or code the customer typed, None if unknown."""
    if not text:
        return None
    key = text.strip().lower().removeprefix("the ").strip(" .")
    if key in COUNTRY_NAMES:
        return COUNTRY_NAMES[key]
    if len(key) == 2 and key.isalpha():
        return key.upper()
    return None


def _destination(ctx: Context, reply: Reply) -> str | None:
    """The delivery zone from what the customer said, else from their saved address."""
    said = ctx.turn.slot("delivery_country")
    if said:
        code = country_code(str(said))
        return ctx.catalogue.policies.zone_of(code) if code else None
    profile = ctx.profile
    # the saved address is a convenience, not something the question needs: only with personalisation
    if profile is not None and ctx.personalise and profile.address is not None and profile.address.country:
        reply.use("address_country", ctx.system_of("address", "crm"))
        reply.say("utter_using_saved_address")
        return ctx.catalogue.policies.zone_of(profile.address.country)
    return None


def _working_days(days: int) -> str:
    """A count-aware variable ("1 working day", "3 working days") for the delivery responses."""
    return f"{days} working day{'s' if days != 1 else ''}"


def _zone_facts(ctx: Context, zone: str) -> dict[str, str]:
    """``{zone}_{method}_days``, ``_fee`` and ``_due`` (if you order now) for the delivery responses."""
    catalogue = ctx.catalogue
    facts: dict[str, str] = {}
    for method in METHODS:
        key = f"{method}_{zone}"
        if key not in catalogue.process("delivery").variants:
            continue
        due = assess(Case("delivery", key, "placed"), ctx.now, catalogue).due
        if due is not None:
            facts[f"{zone}_{method}_days"] = _working_days(catalogue.calendar.business_days_between(ctx.now.date(), due.date()))
            facts[f"{zone}_{method}_due"] = format_day(due.date(), ctx.now.date())
        fee = catalogue.policies.delivery_fees.get(key)
        if fee is not None:
            facts[f"{zone}_{method}_fee"] = format_money(fee, catalogue.policies.currency)
    return facts


def delivery_options(ctx: Context) -> Reply:
    reply = Reply()
    zone = _destination(ctx, reply)
    zones = [zone] if zone else list(ZONES)
    facts: dict[str, str] = {}
    for z in zones:
        facts.update(_zone_facts(ctx, z))
    reply.say(f"utter_delivery_options_{zone or 'all'}", **facts)
    free_from = ctx.catalogue.policies.free_standard_domestic_from
    if free_from is not None and zone in (None, "domestic"):
        reply.say("utter_free_domestic_delivery", amount=format_money(free_from, ctx.currency))
    return reply


def delivery_period(ctx: Context) -> Reply:
    reply = Reply()
    zone = _destination(ctx, reply)
    zones = [zone] if zone else list(ZONES)
    facts: dict[str, str] = {}
    for z in zones:
        facts.update(_zone_facts(ctx, z))
    reply.say(f"utter_delivery_period_{zone or 'all'}", **facts)
    profile = ctx.profile
    if profile is not None and ctx.personalise:
        open_orders = [o for o in profile.orders if o.is_open]
        if open_orders:
            reply.say("utter_delivery_period_own_orders", orders=list_orders(open_orders[:2], ctx.now.date()))
    return reply


def _address_order(ctx: Context) -> Order | None:
    """The order an address change is about: the one named, else the only open one."""
    profile = ctx.profile
    if profile is None:
        return None
    order_id = ctx.turn.slot("order_id")
    if order_id:
        return profile.order(str(order_id))
    pending = [o for o in profile.orders if o.is_open]
    return pending[0] if len(pending) == 1 else None


def _variant(order: Order) -> str:
    return "after_dispatch" if order.status is OrderStatus.DISPATCHED else "before_dispatch"


def change_shipping_address(ctx: Context) -> Reply:
    """Says whether the order's address can change and, if so, asks for the new one (``address_form``).

    Nothing changes here: the form collects and checks the new address,
    ``action_confirm_address_change`` says exactly what will happen, and only
    a yes to that starts the change (:func:`confirm_address_change`).
    """
    reply = Reply()
    reply.slots["new_address"] = None
    reply.slots["new_address_needed"] = None
    if ctx.profile is None and ctx.claimed:
        return ask_identity(ctx, "action_change_shipping_address", "change")
    order = _address_order(ctx)
    if order is None:
        reply.say("utter_change_address_self_service")
        reply.add_statement(ctx.statement(Case("address_change", "account", "requested")))
        return reply
    reply.use("order_shipment_address", "commerce", order.order_id)
    facts = {"order_id": order.order_id, "carrier": order.shipment.carrier if order.shipment else None}
    if order.status not in OPEN_FOR_ADDRESS_CHANGE:
        reply.say(f"utter_address_unchangeable_{order.status.value}", **facts)
        reply.add_statement(ctx.statement(Case("address_change", "account", "requested")))
        return reply
    reply.slots["order_id"] = order.order_id
    if _variant(order) == "before_dispatch":
        reply.say("utter_address_change_possible", **facts)
    else:
        reply.say(with_known("utter_address_redirect_possible", facts, "carrier"), **facts)
    reply.slots["new_address_needed"] = True
    reply.followup = "address_form"
    return reply


def ask_address_confirmation(ctx: Context) -> Reply:
    """After ``address_form``: say exactly what will happen to which order, and wait for a yes."""
    reply = Reply()
    reply.slots["new_address_needed"] = None
    address = ctx.turn.slot("new_address")
    order = _address_order(ctx)
    if order is None or not address or order.status not in OPEN_FOR_ADDRESS_CHANGE:
        return reply.say("utter_address_change_nothing_to_confirm")
    facts = {
        "order_id": order.order_id,
        "carrier": order.shipment.carrier if order.shipment else None,
        "new_address": address,
    }
    if _variant(order) == "before_dispatch":
        reply.say("utter_confirm_address_change", **facts)
    else:
        reply.say(with_known("utter_confirm_address_redirect", facts, "carrier"), **facts)
    return changes.ask(
        reply, "address_change", "action_confirm_address_change", order_id=order.order_id, address=address
    )


async def confirm_address_change(ctx: Context, pending: Mapping[str, Any]) -> Reply:
    """The customer said yes: re-check the order (it may have moved on), then record the change."""
    if ctx.unavailable:
        return unavailable("utter_unavailable_order")
    profile = ctx.profile
    order_id = str(pending.get("order_id") or "")
    address = pending.get("address")
    order = profile.order(order_id) if profile is not None else None
    if order is None or not address:
        return unknown_order(order_id)
    reply = Reply()
    reply.slots["new_address"] = None
    facts: dict[str, Any] = {"order_id": order.order_id, "carrier": order.shipment.carrier if order.shipment else None}
    if order.status not in OPEN_FOR_ADDRESS_CHANGE:
        reply.say(f"utter_address_unchangeable_{order.status.value}", **facts)
        return reply
    variant = _variant(order)
    reference, failed = await start_request(
        ctx,
        "address_change",
        failure=f"address_change_{variant}",
        order_id=order.order_id,
        details={"variant": variant, "carrier": facts["carrier"], "new_address": address},
    )
    if failed is not None:
        return failed
    facts["reference"] = reference
    reply.use("order_shipment_address", "commerce", order.order_id)
    if variant == "before_dispatch":
        reply.say("utter_address_change_started", **facts)
    else:
        reply.say(with_known("utter_address_redirect_started", facts, "carrier"), **facts)
    reply.add_statement(ctx.statement(Case("address_change", variant, "requested", None, {**facts, "new_address": address})))
    return reply


def set_up_shipping_address(ctx: Context) -> Reply:
    reply = Reply()
    reply.say("utter_set_up_address")
    reply.add_statement(ctx.statement(Case("address_change", "account", "requested")))
    return reply
