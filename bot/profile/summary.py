"""``CustomerProfile.to_summary()``: the profile as strings for the agent console.

Only JSON-safe values (str, list, dict); a missing value is left out rather
than rendered as "None"; money is formatted with its currency; times are ISO
8601. The agent sees the same provenance as the bot.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from bot.processes.render import format_money

if TYPE_CHECKING:
    from bot.profile.model import CustomerProfile


def money(minor: int, currency: str) -> str:
    """The profile's minor units as people read them, with the bot's one money formatter."""
    return format_money(minor, currency, minor_units=True)


def _s(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "value") and isinstance(value.value, str):  # enums
        return value.value
    return str(value)


def _clean(pairs: dict[str, Any]) -> dict[str, str]:
    return {k: s for k, v in pairs.items() if (s := _s(v)) is not None}


def profile_summary(profile: "CustomerProfile") -> dict[str, Any]:
    p = profile
    identity = _clean({"customer_id": p.customer_id, "given_name": p.given_name, "full_name": p.full_name})
    contact = {
        "emails": list(p.emails),
        "phones": list(p.phones),
        "customer_numbers": list(p.customer_numbers),
        "channel_ids": list(p.channel_ids),
    }
    contact = {k: v for k, v in contact.items() if v}
    if p.address:
        addr = _clean({"line": p.address.line, "city": p.address.city, "postcode": p.address.postcode, "country": p.address.country})
        if addr:
            contact["address"] = addr  # type: ignore[assignment]
    account = _clean({"type": p.account.type, "status": p.account.status, "created": p.account.created})
    open_items: dict[str, list[dict[str, str]]] = {}
    orders = [
        _clean(
            {
                "order_id": o.order_id,
                "status": o.status,
                "placed_at": o.placed_at,
                "total": money(o.total, o.currency),
                "gift": o.is_gift,
                "carrier": o.shipment.carrier if o.shipment else None,
                "tracking_number": o.shipment.tracking_number if o.shipment else None,
                "promised_date": o.shipment.promised_date if o.shipment else None,
                "destination": ", ".join(x for x in (o.destination_city, o.destination_country) if x) or None,
            }
        )
        for o in p.open_orders()
    ]
    returns = [
        _clean({"return_id": r.return_id, "order_id": r.order_id, "status": r.status, "requested_at": r.requested_at})
        for r in p.open_returns()
    ]
    refunds = [
        _clean(
            {
                "refund_id": r.refund_id,
                "order_id": r.order_id,
                "amount": money(r.amount, r.currency),
                "method": r.method,
                "state": r.state,
                "requested_at": r.requested_at,
                "approved_at": r.approved_at,
            }
        )
        for r in p.open_refunds()
    ]
    tickets = [
        _clean({"ticket_id": t.ticket_id, "channel": t.channel, "topic": t.topic, "opened_at": t.opened_at, "outcome": t.outcome})
        for t in p.open_tickets()
    ]
    complaints = [
        _clean({"id": getattr(c, "ticket_id", None) or getattr(c, "feedback_id", None), "opened_at": getattr(c, "opened_at", None) or getattr(c, "created_at", None)})
        for c in p.open_complaints()
    ]
    requests = [
        _clean(
            {
                "request_id": r.request_id,
                "reference": r.reference,
                "kind": r.kind,
                "order_id": r.order_id,
                "state": r.state,
                "created_at": r.created_at,
            }
        )
        for r in p.open_requests()
    ]
    for key, items in (
        ("orders", orders),
        ("returns", returns),
        ("refunds", refunds),
        ("tickets", tickets),
        ("complaints", complaints),
        ("requests", requests),
    ):
        if items:
            open_items[key] = items
    flags = [_clean({"name": f.name, "kind": f.kind, "note": f.note, "recorded_at": f.recorded_at, "source": f.source.system}) for f in p.flags]
    provenance = {
        name: _clean({"system": prov.system, "record_id": prov.record_id, "updated_at": prov.updated_at, "stale": prov.stale})
        for name, prov in sorted(p.fields.items())
    }
    summary: dict[str, Any] = {
        "identity": identity,
        "contact": contact,
        "account": account,
        "open_items": open_items,
        "recent_categories": list(p.recent_categories),
        "segments": sorted(p.segments),
        "suppressions": dict(sorted(p.suppressions.items())),
        "flags": flags,
        "consent": {
            "personalisation_allowed": _s(p.consent.personalisation_allowed),
            # the customer's consent, and whether we market at all (suppressions included)
            "marketing_consent": _s(p.consent.marketing_allowed),
            "marketing_allowed": _s(p.marketing_allowed),
        },
        "provenance": provenance,
    }
    return summary
