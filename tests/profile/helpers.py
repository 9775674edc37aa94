"""Hand-built silo rows for resolution and repository tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from bot.profile import schema
from bot.profile.build import reset_schema, sync_engine
from bot.profile.resolve import Resolver

NOW = datetime(2025, 6, 2, 12, 0, 0)


def ago(days: int) -> datetime:
    return NOW - timedelta(days=days)


def crm(id: int, number: str, given: str | None, family: str | None, email: str | None = None, phone: str | None = None, *, city: str = "Leeds", line: str = "1 High Street", household: str | None = None, updated: datetime | None = None, account_type: str = "consumer") -> dict[str, Any]:
    return dict(id=id, customer_number=number, given_name=given, family_name=family, email=email, phone=phone, address_line=line, city=city, postcode="LS1 1AA", country="GB", household_id=household, account_type=account_type, status="active", created_at=ago(1000), updated_at=updated or ago(10))


def mkt(id: int, email: str, first: str | None = None, state: str = "subscribed", updated: datetime | None = None) -> dict[str, Any]:
    when = updated or ago(30)
    return dict(id=id, email=email, first_name=first, opted_in=state == "subscribed", subscription_state=state, unsubscribed_at=when if state == "unsubscribed" else None, consent_updated_at=when, updated_at=when)


def account(id: int, email: str | None, phone: str | None = None, full_name: str | None = None, number: str | None = None, updated: datetime | None = None, created: datetime | None = None) -> dict[str, Any]:
    return dict(id=id, login_email=email, phone=phone, full_name=full_name, crm_customer_number=number, created_at=created or ago(900), updated_at=updated or ago(20))


def conversation(id: int, channel: str, channel_id: str | None, *, phone: str | None = None, email: str | None = None, number: str | None = None, name: str | None = None, topic: str = "order_status", status: str = "closed", outcome: str | None = "resolved", csat: int | None = None, opened: datetime | None = None) -> dict[str, Any]:
    opened = opened or ago(100)
    return dict(id=id, ticket_number=f"T-{id:08d}", channel=channel, channel_id=channel_id, phone=phone, email=email, customer_number=number, contact_name=name, topic=topic, status=status, outcome=outcome, csat=csat, opened_at=opened, closed_at=None if status == "open" else opened + timedelta(minutes=10), agent_notes=None)


def build_store(url: str, **tables: list[dict[str, Any]]) -> dict[tuple[str, int], str]:
    """Create the schema, insert rows (table name -> rows), resolve; return (system, id) -> customer_id."""
    engine = sync_engine(url)
    try:
        with engine.begin() as conn:
            reset_schema(conn, with_indexes=True)
            for table in schema.SILO_TABLES:
                rows = tables.get(table.name)
                if rows:
                    conn.execute(insert(table), rows)
        with engine.begin() as conn:
            Resolver(conn).run(NOW)
        with engine.connect() as conn:
            link = schema.tp_link
            return {(s, r): c for s, r, c in conn.execute(select(link.c.system, link.c.record_id, link.c.customer_id))}
    finally:
        engine.dispose()


def order_rows(id: int, account_id: int, number: str, placed: datetime, status: str, lines: list[tuple[str, int, bool]], *, gift: bool = False, promised: Any = None) -> dict[str, list[dict[str, Any]]]:
    """An order with its lines (category, unit price minor, is_gift), invoice and shipment."""
    total = sum(price for _, price, _ in lines)
    out: dict[str, list[dict[str, Any]]] = {
        "com_order": [dict(id=id, order_number=number, account_id=account_id, placed_at=placed, status=status, total_minor=total, currency="GBP", is_gift=gift, ship_city="Leeds", ship_country="GB", updated_at=placed)],
        "com_order_line": [
            dict(id=id * 10 + i, order_id=id, sku=f"SKU-{i}", description=cat, category=cat, quantity=1, unit_price_minor=price, is_gift=line_gift)
            for i, (cat, price, line_gift) in enumerate(lines)
        ],
        "com_invoice": [dict(id=id, invoice_id=f"INV-{id:07d}", order_id=id, issued_at=placed, amount_minor=total, currency="GBP", status="paid")],
        "com_shipment": [],
    }
    if status in ("dispatched", "delivered"):
        out["com_shipment"].append(dict(id=id, order_id=id, carrier="DPD", tracking_number=f"DP{id}", promised_date=promised or (placed + timedelta(days=3)).date(), dispatched_at=placed + timedelta(hours=6), delivered_at=None if status == "dispatched" else placed + timedelta(days=2)))
    return out
