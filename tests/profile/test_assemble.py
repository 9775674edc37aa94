"""Survivorship, staleness, provenance, segments, suppressions and consent (no database)."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from bot.profile.assemble import PersonRecords, assemble
from bot.profile.model import OrderStatus
from tests.profile.helpers import NOW, account, ago, conversation, crm, mkt, order_rows


def person(**tables: list[dict[str, Any]]) -> PersonRecords:
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for name, items in tables.items():
        rows[name].extend(items)
    return PersonRecords("cus_0123456789abcdef", rows)


def merge(*parts: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for part in parts:
        for k, v in part.items():
            out[k].extend(v)
    return out


def flag(conversation_id: int, kind: str = "bereavement") -> dict[str, Any]:
    return dict(id=1, conversation_id=conversation_id, kind=kind, note="told the agent", active=True, recorded_at=ago(5))


def event(event_id: str, type_: str, *, allowed: bool | None = None, status: str | None = None, text: str | None = None, when: Any = None) -> dict[str, Any]:
    return dict(event_id=event_id, customer_id="cus_0123456789abcdef", type=type_, allowed=allowed, source="customer", text=text, conversation_id=None, status=status, created_at=when or ago(1))


def test_conflicting_names_follow_survivorship() -> None:
    # CRM beats commerce and the contact centre; among CRM records the newer wins
    p = assemble(
        person(
            crm_contact=[crm(1, "C2000001", "Jonathan", "Price", updated=ago(100)), crm(2, "C2000002", "Jonathna", "Price", updated=ago(400))],
            com_account=[account(1, "jon@example.com", None, "Jon Price", updated=ago(1))],
            cc_conversation=[conversation(1, "phone", None, name="Johnny P", opened=ago(2))],
        ),
        NOW,
    )
    assert p.given_name == "Jonathan" and p.full_name == "Jonathan Price"
    assert p.fields["given_name"].system == "crm" and p.fields["given_name"].record_id == "C2000001"
    assert p.customer_numbers == ("C2000001", "C2000002")


def test_fresh_value_beats_stale_value_from_a_more_trusted_system() -> None:
    p = assemble(
        person(
            crm_contact=[crm(1, "C2000001", "Jon", "Price", "old@example.com", "07700 900501", updated=ago(1500))],
            com_account=[account(1, "new@example.com", "07700 900502", "Jonathan Price", updated=ago(10))],
        ),
        NOW,
    )
    assert p.email == "new@example.com" and p.fields["email"].system == "commerce" and not p.fields["email"].stale
    assert p.phones == ("+447700900502", "+447700900501")


def test_stale_fields_are_flagged_and_not_used_for_personalisation() -> None:
    p = assemble(person(crm_contact=[crm(1, "C2000001", "Jack", "Turner", "jack@example.net", updated=ago(1460))]), NOW)
    assert p.given_name == "Jack"  # agents still see it
    assert p.fields["given_name"].stale and p.fields["address"].stale
    assert p.greeting_name is None and p.personalisable("address") is None
    fresh = assemble(person(crm_contact=[crm(1, "C2000001", "Jack", "Turner", updated=ago(1460))]), NOW, stale_after=timedelta(days=3650))
    assert fresh.greeting_name == "Jack"  # the age is configurable


def test_every_field_with_a_value_has_provenance() -> None:
    rows = merge(
        dict(
            crm_contact=[crm(1, "C2000001", "Ada", "Byron", "ada@example.org", "07700 900601")],
            mkt_contact=[mkt(1, "ada@example.org", "Ada")],
            com_account=[account(1, "ada@example.org", "07700 900601", "Ada Byron")],
            com_payment_method=[dict(id=1, account_id=1, kind="card", brand="Visa", last4="4242", expires="12/27", is_default=True, added_at=ago(50))],
            com_refund=[dict(id=1, refund_id="RF-1", order_id=1, amount_minor=500, currency="GBP", method="card", state="approved", requested_at=ago(3), approved_at=ago(2), paid_at=None)],
            com_return=[dict(id=1, return_number="RT-1", order_id=1, reason="faulty", status="received", requested_at=ago(3), received_at=ago(2))],
            cc_conversation=[conversation(1, "web", "web:5f0c2a8e-3b1d-4c7a-9e2f-0a1b2c3d4e5f", email="ada@example.org")],
            cc_flag=[flag(1, "illness")],
            tp_event=[event("FB-1", "complaint", status="open", text="late")],
        ),
        order_rows(1, 1, "4000001001", ago(20), "delivered", [("books", 1500, False)]),
    )
    p = assemble(person(**rows), NOW)
    values = {
        "given_name": p.given_name, "full_name": p.full_name, "email": p.email, "emails": p.emails, "phone": p.phone, "phones": p.phones,
        "customer_number": p.customer_number, "customer_numbers": p.customer_numbers, "channel_ids": p.channel_ids, "address": p.address,
        "account.type": p.account.type, "account.status": p.account.status, "account.created": p.account.created,
        "orders": p.orders, "returns": p.returns, "refunds": p.refunds, "invoices": p.invoices, "payment_methods": p.payment_methods,
        "tickets": p.tickets, "feedback": p.feedback, "flags": p.flags, "segments": p.segments, "suppressions": p.suppressions,
        "recent_categories": p.recent_categories, "preferred_categories": p.preferred_categories,
        "consent.marketing_allowed": p.consent.marketing_allowed, "consent.personalisation_allowed": p.consent.personalisation_allowed,
    }
    for name, value in values.items():
        if value not in (None, (), frozenset(), {}):
            assert name in p.fields, f"{name} has no provenance"
            assert p.fields[name].system in ("crm", "marketing", "commerce", "contact_centre", "tandem", "derived", "default")
    assert p.fields["orders"].record_id == "4000001001" and p.fields["channel_ids"].record_id == "T-00000001"


def test_segments_new_loyal_high_value_support_and_complaint() -> None:
    orders = merge(
        order_rows(1, 1, "4000001001", ago(400), "delivered", [("electronics", 40000, False)]),
        order_rows(2, 1, "4000001002", ago(200), "delivered", [("electronics", 50000, False)]),
        order_rows(3, 1, "4000001003", ago(100), "delivered", [("kitchen", 30000, False)]),
        order_rows(4, 1, "4000001004", ago(50), "delivered", [("books", 30000, False)]),
        order_rows(5, 1, "4000001005", ago(40), "cancelled", [("books", 99999, False)]),
    )
    p = assemble(
        person(
            crm_contact=[crm(1, "C2000001", "Chloe", "Martin")],
            com_account=[account(1, "c@example.com")],
            cc_conversation=[conversation(1, "phone", None, topic="complaint", status="open", outcome="pending", opened=ago(3))],
            **orders,
        ),
        NOW,
    )
    assert {"loyal", "high_value", "open_complaint", "at_risk", "recently_contacted_support", "open_ticket"} <= p.segments
    assert "new" not in p.segments
    assert p.suppressions["no_marketing"].endswith("open complaint") and "no_cross_sell" in p.suppressions
    young = assemble(person(com_account=[account(1, "n@example.com", created=ago(10))], **order_rows(1, 1, "4000001001", ago(1), "placed", [("sports", 8999, False)])), NOW)
    assert {"new", "open_order"} <= young.segments and "loyal" not in young.segments
    assert young.open_orders()[0].status is OrderStatus.PLACED


def test_at_risk_when_a_regular_customer_went_quiet() -> None:
    orders = merge(order_rows(1, 1, "4000001001", ago(400), "delivered", [("home", 2000, False)]), order_rows(2, 1, "4000001002", ago(300), "delivered", [("home", 2000, False)]))
    p = assemble(person(com_account=[account(1, "q@example.com")], **orders), NOW)
    assert "at_risk" in p.segments


def test_recent_category_is_not_cross_sold_and_gifts_do_not_shape_preferences() -> None:
    orders = merge(
        order_rows(1, 1, "4000001001", ago(10), "delivered", [("toys", 2999, True), ("toys", 2499, True)], gift=True),
        order_rows(2, 1, "4000001002", ago(60), "delivered", [("books", 1999, False)]),
        order_rows(3, 1, "4000001003", ago(5), "delivered", [("kitchen", 1999, False), ("beauty", 2500, True)]),
    )
    p = assemble(person(crm_contact=[crm(1, "C2000001", "Emma", "Wilson")], com_account=[account(1, "e@example.com")], **orders), NOW)
    assert "cross_sell:toys" in p.suppressions and "cross_sell:kitchen" in p.suppressions
    assert "cross_sell:books" not in p.suppressions  # bought 60 days ago
    assert "toys" not in p.preferred_categories and "beauty" not in p.preferred_categories
    assert set(p.preferred_categories) == {"books", "kitchen"}
    assert "preference:toys" in p.suppressions and "preference:beauty" in p.suppressions
    assert "gift_buyer" in p.segments


def test_sensitive_circumstance_silences_marketing_despite_consent() -> None:
    p = assemble(
        person(
            crm_contact=[crm(1, "C2000001", "David", "Evans")],
            mkt_contact=[mkt(1, "d@example.org", "David", state="subscribed")],
            cc_conversation=[conversation(1, "whatsapp", "whatsapp:+447700900104", phone="+447700900104")],
            cc_flag=[flag(1, "bereavement")],
        ),
        NOW,
    )
    assert p.consent.marketing_allowed is True  # the customer's consent is unchanged...
    assert p.marketing_allowed is False  # ...but we do not market
    assert "bereavement" in p.suppressions["no_marketing"] and "no_cross_sell" in p.suppressions
    assert [(f.name, f.kind) for f in p.flags] == [("sensitive_circumstance", "bereavement")]
    assert "sensitive_circumstance" in p.segments


def test_consent_events_override_silo_consent_and_erasure_stops_personalisation() -> None:
    base = dict(crm_contact=[crm(1, "C2000001", "Ada", "Byron")], mkt_contact=[mkt(1, "a@example.org", state="subscribed", updated=ago(30))])
    p = assemble(person(**base, tp_event=[event("EV-1", "marketing", allowed=False), event("EV-2", "personalisation", allowed=False)]), NOW)
    assert not p.consent.marketing_allowed and p.fields["consent.marketing_allowed"].system == "tandem"
    assert not p.consent.personalisation_allowed and "no_personalisation" in p.suppressions and p.greeting_name is None
    older = assemble(person(**base, tp_event=[event("EV-1", "marketing", allowed=False, when=ago(60))]), NOW)
    assert older.consent.marketing_allowed  # the later silo consent wins over an older chat opt-out
    erased = assemble(person(**base, tp_event=[event("ER-1", "erasure_request", status="received")]), NOW)
    assert erased.erasure_requested and erased.greeting_name is None and "erasure requested" in erased.suppressions["no_marketing"]


def test_recorded_complaint_is_an_open_complaint() -> None:
    p = assemble(person(crm_contact=[crm(1, "C2000001", "Ada", "Byron")], tp_event=[event("FB-1", "complaint", status="open", text="parcel damaged")]), NOW)
    assert "open_complaint" in p.segments and [c.feedback_id for c in p.open_complaints()] == ["FB-1"]


def test_summary_is_json_safe_strings_without_none() -> None:
    import json

    rows = order_rows(1, 1, "4000001001", ago(2), "dispatched", [("electronics", 5999, False)], promised=(NOW + timedelta(days=2)).date())
    p = assemble(person(crm_contact=[crm(1, "C2000001", "Amelia", None, "a@example.com")], com_account=[account(1, "a@example.com")], **rows), NOW)
    summary = p.to_summary()
    text = json.dumps(summary)
    assert "None" not in text and "null" not in text

    def leaves(node: Any) -> list[Any]:
        if isinstance(node, dict):
            return [x for v in node.values() for x in leaves(v)]
        if isinstance(node, list):
            return [x for v in node for x in leaves(v)]
        return [node]

    assert all(isinstance(x, str) for x in leaves(summary))
    order = summary["open_items"]["orders"][0]
    assert order["promised_date"] == "2025-06-04" and order["total"] == "£59.99" and order["carrier"] == "DPD"
    assert summary["provenance"]["given_name"]["system"] == "crm"
