"""Delivery options and periods by destination, and address changes."""

from __future__ import annotations

from typing import Mapping

from bot.actions_support.common import list_orders
from bot.actions_support.conversation import Context, Reply
from bot.actions_support.process_requests import start_request
from bot.processes.catalogue import Catalogue
from bot.processes.render import format_money
from bot.processes.statement import Case, assess
from bot.profile.model import OrderStatus

__all__ = [
    "country_code",
    "delivery_options",
    "delivery_period",
    "change_shipping_address",
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
ZONE_WORDS = {"domestic": "within the UK", "europe": "to Europe", "international": "outside Europe"}


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


def _destination(ctx: Context, reply: Reply) -> tuple[str | None, str | None]:
    """(zone, place words) from what the customer said, else their saved address."""
    said = ctx.turn.slot("delivery_country")
    if said:
        code = country_code(str(said))
        if code:
            return ctx.catalogue.policies.zone_of(code), str(said).strip()
        return None, None
    profile = ctx.profile
    # the saved address is a convenience, not something the question needs: only with personalisation
    if profile is not None and ctx.personalise and profile.address is not None and profile.address.country:
        reply.use("the country of your saved address", ctx.system_of("address", "crm"), "to show the delivery options that apply to you")
        reply.say("I'm using your saved address to show the options that apply to you.")
        return ctx.catalogue.policies.zone_of(profile.address.country), profile.address.city
    return None, None


def _fee(catalogue: Catalogue, key: str) -> str | None:
    fee = catalogue.policies.delivery_fees.get(key)
    return None if fee is None else format_money(fee, catalogue.policies.currency)


def _zone_line(ctx: Context, zone: str) -> str:
    catalogue = ctx.catalogue
    parts = []
    for method in ("standard", "express"):
        key = f"{method}_{zone}"
        variant = catalogue.process("delivery").variants.get(key)
        if variant is None:
            continue
        due = assess(Case("delivery", key, "placed"), ctx.now, catalogue).due
        days = catalogue.calendar.business_days_between(ctx.now.date(), due.date()) if due else None
        fee = _fee(catalogue, key)
        parts.append(
            f"{method} ({days} working day{'s' if days != 1 else ''}{', ' + fee if fee else ''})"
            if days is not None
            else method
        )
    return f"{ZONE_WORDS.get(zone, zone)}: " + " or ".join(parts)


def delivery_options(ctx: Context) -> Reply:
    reply = Reply()
    zone, place = _destination(ctx, reply)
    free_from = ctx.catalogue.policies.free_standard_domestic_from
    if zone is None:
        reply.say(
            "We deliver {lines}. You'll see the exact options for your address at checkout.",
            {"lines": "; ".join(_zone_line(ctx, z) for z in ("domestic", "europe", "international"))},
        )
    else:
        reply.say("Delivery {line}.", {"line": _zone_line(ctx, zone)})
    if free_from is not None and zone in (None, "domestic"):
        reply.say("Standard delivery within the UK is free on orders over {amount}.", {"amount": format_money(free_from, ctx.currency)})
    return reply


def delivery_period(ctx: Context) -> Reply:
    reply = Reply()
    zone, place = _destination(ctx, reply)
    zones = [zone] if zone else ["domestic", "europe", "international"]
    lines = []
    for z in zones:
        for method in ("standard", "express"):
            key = f"{method}_{z}"
            if key not in ctx.catalogue.process("delivery").variants:
                continue
            statement = ctx.statement(Case("delivery", key, "placed"))
            due = statement.due
            if due is not None:
                lines.append(f"{method} delivery {ZONE_WORDS[z]} arrives by {due:%A} {due.day} {due:%B}")
    reply.say("If you order today, {lines}.", {"lines": "; ".join(lines)})
    profile = ctx.profile
    if profile is not None and ctx.personalise:
        open_orders = [o for o in profile.orders if o.is_open]
        if open_orders:
            reply.say(
                'For an order you\'ve already placed ({orders}), ask me "where is my order" and I\'ll check its promised date.',
                {"orders": list_orders(open_orders[:2], ctx.now.date())},
            )
    return reply


async def change_shipping_address(ctx: Context) -> Reply:
    reply = Reply()
    profile = ctx.profile
    order = None
    if profile is not None:
        order_id = ctx.turn.slot("order_id")
        if order_id:
            order = profile.order(str(order_id))
        else:
            pending = [o for o in profile.orders if o.is_open]
            order = pending[0] if len(pending) == 1 else None
    if order is None:
        reply.say(
            "You can change the address of an order until it's dispatched, under Account > Orders; "
            "new orders use the addresses saved under Account > Addresses."
        )
        reply.add_statement(ctx.statement(Case("address_change", "account", "requested")))
        return reply
    reply.use(f"order {order.order_id} and its shipment", "commerce", "to see whether its address can still change")
    facts = {"order_id": order.order_id, "carrier": order.shipment.carrier if order.shipment else None}
    if order.status in (OrderStatus.PLACED, OrderStatus.PROCESSING, OrderStatus.DISPATCHED):
        variant = "after_dispatch" if order.status is OrderStatus.DISPATCHED else "before_dispatch"
        reference, failed = await start_request(
            ctx,
            "address_change",
            what=f"the address change for order {order.order_id}",
            fallback=(
                "Nothing has been changed yet: please ask again in a few minutes."
                if variant == "after_dispatch"
                else "You can also change it yourself under Account > Orders until it's dispatched."
            ),
            order_id=order.order_id,
            details={"variant": variant, "carrier": facts["carrier"]},
            with_message=True,
        )
        if failed is not None:
            return reply.extend(failed)
        facts["reference"] = reference
        if variant == "before_dispatch":
            reply.say(
                "Order {order_id} hasn't been dispatched yet, so its delivery address can still be changed. "
                "I've passed the address change to our delivery team[[ (reference {reference})]], who will confirm "
                "the new address with you by e-mail.",
                facts,
            )
        else:
            reply.say(
                "Order {order_id} is already with {carrier|the carrier}, so I've asked our delivery team to have it "
                "redirected[[ (reference {reference})]].",
                facts,
            )
        reply.add_statement(ctx.statement(Case("address_change", variant, "requested", None, facts)))
    else:
        reply.say("Order {order_id} is already {status}, so its address can't change any more.", {**facts, "status": order.status.value})
        reply.add_statement(ctx.statement(Case("address_change", "account", "requested")))
    return reply


def set_up_shipping_address(ctx: Context) -> Reply:
    reply = Reply()
    reply.say(
        "You can add a new delivery address under Account > Addresses and make it your default there."
    )
    reply.add_statement(ctx.statement(Case("address_change", "account", "requested")))
    return reply
