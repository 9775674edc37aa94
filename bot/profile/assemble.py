"""From one person's silo records to a :class:`CustomerProfile`.

Pure functions, no I/O: the repository loads the rows, this module applies
the rules, so the rules are tested without a database and documented here.

Survivorship
    Each identity field has candidates from several silos. The winner is the
    candidate that is (1) not stale, then (2) from the most trusted system
    for that field (:data:`TRUST`), then (3) most recently updated. Every
    surviving field records its :class:`Provenance`; a field is *stale* when
    its source record was last updated more than ``stale_after`` ago. Stale
    fields are still shown to agents but never used for personalisation.

Segments, suppressions, consent
    See :func:`segments_for`, :func:`suppressions_for` and the constants
    below; all are relative to ``now``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, Iterable, Mapping, Sequence

from bot.profile.errors import InvalidIdentifier
from bot.profile.identifiers import normalise_channel_id, normalise_email, normalise_phone
from bot.profile.model import (
    Account,
    Address,
    Consent,
    CustomerProfile,
    Feedback,
    Flag,
    Invoice,
    InvoiceStatus,
    Order,
    OrderLine,
    OrderStatus,
    PaymentMethod,
    ProcessRequest,
    Provenance,
    Refund,
    RefundMethod,
    RefundState,
    Return,
    ReturnStatus,
    Shipment,
    Ticket,
)

#: default age after which a field is stale (not used for personalisation)
DEFAULT_STALE_AFTER = timedelta(days=730)

#: field -> system -> trust (higher wins among fresh candidates)
TRUST: Mapping[str, Mapping[str, int]] = {
    "given_name": {"crm": 4, "commerce": 3, "contact_centre": 2, "marketing": 1},
    "full_name": {"crm": 4, "commerce": 3, "contact_centre": 2},
    "email": {"crm": 4, "commerce": 3, "marketing": 2, "contact_centre": 1},
    "phone": {"crm": 4, "commerce": 3, "contact_centre": 2},
    "address": {"crm": 4},
    "customer_number": {"crm": 4},
    "account": {"crm": 4, "commerce": 3},
}

NEW_ACCOUNT_DAYS = 90
LOYAL_MIN_ORDERS_365 = 3
LOYAL_MIN_TENURE_DAYS = 180
HIGH_VALUE_MINOR_365 = 100_000  # £1,000 net in the past year
AT_RISK_QUIET_DAYS = 180
AT_RISK_BAD_CSAT = 2
AT_RISK_CSAT_DAYS = 90
RECENT_SUPPORT_DAYS = 30
CROSS_SELL_QUIET_DAYS = 30
RECENT_CATEGORY_DAYS = 90
PREFERENCE_DAYS = 365


@dataclass
class PersonRecords:
    """Rows of one person, keyed by table name (see :mod:`bot.profile.schema`)."""

    customer_id: str
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))

    def get(self, table: str) -> list[dict[str, Any]]:
        return self.rows.get(table, [])


@dataclass(frozen=True)
class _Candidate:
    value: Any
    system: str
    record_id: str
    updated_at: datetime | None


def _record_id(system: str, row: Mapping[str, Any]) -> str:
    if system == "crm":
        return str(row["customer_number"])
    if system == "marketing":
        return f"MKT-{row['id']}"
    if system == "commerce":
        return f"A{row['id']}"
    return str(row.get("ticket_number") or row["id"])


def _title(name: str | None) -> str | None:
    if not name or not name.strip():
        return None
    cleaned = " ".join(name.split())
    return cleaned if not cleaned.islower() and not cleaned.isupper() else cleaned.title()


def _first_word(full: str | None) -> str | None:
    parts = (full or "").split()
    return parts[0] if parts else None


class _Survivor:
    def __init__(self, now: datetime, stale_after: timedelta) -> None:
        self.now = now
        self.stale_after = stale_after

    def stale(self, updated_at: datetime | None) -> bool:
        return updated_at is None or self.now - updated_at > self.stale_after

    def pick(self, field_name: str, candidates: Iterable[_Candidate]) -> tuple[Any, Provenance] | None:
        trust = TRUST[field_name]
        best: tuple[Any, ...] | None = None
        chosen: _Candidate | None = None
        for cand in candidates:
            if cand.value in (None, ""):
                continue
            key = (not self.stale(cand.updated_at), trust.get(cand.system, 0), cand.updated_at or datetime.min, cand.record_id)
            if best is None or key > best:
                best, chosen = key, cand
        if chosen is None:
            return None
        return chosen.value, Provenance(chosen.system, chosen.record_id, chosen.updated_at, self.stale(chosen.updated_at))


def _safe(func: Any, value: Any) -> str | None:
    if not value:
        return None
    try:
        return func(value)
    except InvalidIdentifier:
        return None


def _enum(enum_type: Any, value: Any, default: Any) -> Any:
    try:
        return enum_type(value)
    except ValueError:
        return default


def process_request(row: Mapping[str, Any]) -> ProcessRequest:
    """A ``tp_request`` row (decoded columns) as a :class:`ProcessRequest`.

    ``details`` is stored as a JSON object; anything else (a hand-edited row)
    becomes an empty mapping rather than an error, so one bad row never hides
    the profile.
    """
    try:
        details = json.loads(row["details"]) if row.get("details") else {}
    except ValueError:
        details = {}
    if not isinstance(details, dict):
        details = {}
    return ProcessRequest(
        request_id=row["request_id"],
        kind=row["kind"],
        order_id=row.get("order_id"),
        conversation_id=row.get("conversation_id"),
        state=row["state"],
        details=MappingProxyType(details),
        created_at=row["created_at"],
        updated_at=row.get("updated_at") or row["created_at"],
    )


def assemble(records: PersonRecords, now: datetime, stale_after: timedelta = DEFAULT_STALE_AFTER) -> CustomerProfile:
    """Build the profile of one person from their rows (see module docstring)."""
    surv = _Survivor(now, stale_after)
    fields: dict[str, Provenance] = {}
    crm = records.get("crm_contact")
    mkt = records.get("mkt_contact")
    accounts = records.get("com_account")
    convs = records.get("cc_conversation")

    # -- names -------------------------------------------------------------
    given_c: list[_Candidate] = []
    full_c: list[_Candidate] = []
    for row in crm:
        rid = _record_id("crm", row)
        given_c.append(_Candidate(_title(row["given_name"]), "crm", rid, row["updated_at"]))
        if row["given_name"] and row["family_name"]:
            full_c.append(_Candidate(_title(f"{row['given_name']} {row['family_name']}"), "crm", rid, row["updated_at"]))
    for row in accounts:
        rid = _record_id("commerce", row)
        full = _title(row["full_name"])
        given_c.append(_Candidate(_first_word(full), "commerce", rid, row["updated_at"]))
        if full and " " in full:
            full_c.append(_Candidate(full, "commerce", rid, row["updated_at"]))
    for row in convs:
        rid = _record_id("contact_centre", row)
        full = _title(row["contact_name"])
        given_c.append(_Candidate(_first_word(full), "contact_centre", rid, row["opened_at"]))
        if full and " " in full:
            full_c.append(_Candidate(full, "contact_centre", rid, row["opened_at"]))
    for row in mkt:
        given_c.append(_Candidate(_title(row["first_name"]), "marketing", _record_id("marketing", row), row["updated_at"]))
    given_name = full_name = None
    if picked := surv.pick("given_name", given_c):
        given_name, fields["given_name"] = picked
    if picked := surv.pick("full_name", full_c):
        full_name, fields["full_name"] = picked

    # -- contact points ----------------------------------------------------
    email_c: list[_Candidate] = []
    phone_c: list[_Candidate] = []
    for system, table, email_col, phone_col, time_col in (
        ("crm", crm, "email", "phone", "updated_at"),
        ("commerce", accounts, "login_email", "phone", "updated_at"),
        ("marketing", mkt, "email", None, "updated_at"),
        ("contact_centre", convs, "email", "phone", "opened_at"),
    ):
        for row in table:
            rid = _record_id(system, row)
            raw_email = row.get(email_col)
            if _safe(normalise_email, raw_email):
                email_c.append(_Candidate(raw_email.strip().lower(), system, rid, row[time_col]))
            if phone_col and (phone := _safe(normalise_phone, row.get(phone_col))):
                phone_c.append(_Candidate(phone, system, rid, row[time_col]))
    emails = _ordered_distinct(surv, "email", email_c, key=lambda v: normalise_email(v), fields=fields)
    phones = _ordered_distinct(surv, "phone", phone_c, key=lambda v: v, fields=fields)

    number_c = [_Candidate(row["customer_number"], "crm", _record_id("crm", row), row["updated_at"]) for row in crm]
    customer_numbers = _ordered_distinct(surv, "customer_number", number_c, key=lambda v: v, fields=fields)

    channel_ids: list[str] = []
    latest_channel: dict[str, Any] | None = None
    for row in sorted(convs, key=lambda r: r["opened_at"], reverse=True):
        cid = _safe(normalise_channel_id, row["channel_id"])
        if cid and cid not in channel_ids:
            channel_ids.append(cid)
            latest_channel = latest_channel or row
    if latest_channel is not None:
        fields["channel_ids"] = Provenance(
            "contact_centre", _record_id("contact_centre", latest_channel), latest_channel["opened_at"], surv.stale(latest_channel["opened_at"])
        )

    # -- address and account -------------------------------------------------
    address = None
    addr_c = [_Candidate(row, "crm", _record_id("crm", row), row["updated_at"]) for row in crm if row["city"] or row["postcode"]]
    if picked := surv.pick("address", addr_c):
        row, fields["address"] = picked
        address = Address(row["address_line"], row["city"], row["postcode"], row["country"])
    acct_c = [_Candidate(row, "crm", _record_id("crm", row), row["updated_at"]) for row in crm]
    acct_c += [_Candidate(row, "commerce", _record_id("commerce", row), row["updated_at"]) for row in accounts]
    account = Account(None, None, None)
    if picked := surv.pick("account", acct_c):
        row, prov = picked
        created_rows = [(r["created_at"], s, r) for s, t in (("crm", crm), ("commerce", accounts)) for r in t if r["created_at"]]
        first_created, first_system, first_row = min(created_rows, key=lambda x: x[0])
        account = Account(row.get("account_type") or "consumer", first_created, row.get("status") or "active")
        fields["account.type"] = prov
        fields["account.status"] = prov
        fields["account.created"] = Provenance(first_system, _record_id(first_system, first_row), first_row["updated_at"], False)

    # -- commerce --------------------------------------------------------------
    orders, returns, refunds, invoices, payment_methods = _commerce(records)
    for name, items, system, stamp in (
        ("orders", orders, "commerce", lambda o: (o.updated_at, o.order_id)),
        ("returns", returns, "commerce", lambda r: (r.requested_at, r.return_id)),
        ("refunds", refunds, "commerce", lambda r: (r.paid_at or r.approved_at or r.requested_at, r.refund_id)),
        ("invoices", invoices, "commerce", lambda i: (i.issued_at, i.invoice_id)),
    ):
        if items:
            when, rid = max(stamp(item) for item in items)
            fields[name] = Provenance(system, rid, when, False)
    if payment_methods:
        latest_pm = max(records.get("com_payment_method"), key=lambda r: r["added_at"])
        fields["payment_methods"] = Provenance("commerce", f"PM-{latest_pm['id']}", latest_pm["added_at"], False)

    # -- contact centre ----------------------------------------------------------
    tickets = tuple(
        sorted(
            (
                Ticket(
                    ticket_id=row["ticket_number"],
                    channel=row["channel"],
                    channel_id=_safe(normalise_channel_id, row["channel_id"]),
                    topic=row["topic"],
                    status=row["status"],
                    outcome=row["outcome"],
                    csat=row["csat"],
                    opened_at=row["opened_at"],
                    closed_at=row["closed_at"],
                    agent_notes=row["agent_notes"],
                )
                for row in convs
            ),
            key=lambda t: t.opened_at,
            reverse=True,
        )
    )
    if tickets:
        fields["tickets"] = Provenance("contact_centre", tickets[0].ticket_id, tickets[0].closed_at or tickets[0].opened_at, False)
    conv_by_id = {row["id"]: row for row in convs}
    flags: list[Flag] = []
    for row in records.get("cc_flag"):
        if not row["active"]:
            continue
        conv = conv_by_id.get(row["conversation_id"], {})
        prov = Provenance("contact_centre", str(conv.get("ticket_number", row["conversation_id"])), row["recorded_at"], False)
        flags.append(Flag("sensitive_circumstance", row["kind"], row["note"], row["recorded_at"], prov))

    # -- tandem's own events -------------------------------------------------------
    # ids are "<prefix>-<time-ordered hex>": within one second, insertion order
    events = sorted(records.get("tp_event"), key=lambda e: (e["created_at"], e["event_id"].partition("-")[2]))
    feedback = tuple(
        Feedback(e["event_id"], e["type"], e["text"] or "", e["conversation_id"], e["status"] or "open", e["created_at"])
        for e in events
        if e["type"] in ("complaint", "review")
    )
    if feedback:
        fields["feedback"] = Provenance("tandem", feedback[-1].feedback_id, feedback[-1].created_at, False)
    erasures = [e for e in events if e["type"] == "erasure_request"]
    if erasures:
        last = erasures[-1]
        prov = Provenance("tandem", last["event_id"], last["created_at"], False)
        flags.append(Flag("erasure_requested", "erasure", None, last["created_at"], prov))
    requests = tuple(
        process_request(r) for r in sorted(records.get("tp_request"), key=lambda r: (r["created_at"], r["request_id"].partition("-")[2]))
    )
    if requests:
        fields["requests"] = Provenance("tandem", requests[-1].request_id, requests[-1].created_at, False)
    if flags:
        newest = max(flags, key=lambda f: f.recorded_at)
        fields["flags"] = newest.source

    # -- consent -----------------------------------------------------------------
    marketing_allowed = False
    mkt_sorted = sorted(mkt, key=lambda r: (r["consent_updated_at"] or r["updated_at"], r["id"]))
    if mkt_sorted:
        row = mkt_sorted[-1]
        stamp = row["consent_updated_at"] or row["updated_at"]
        marketing_allowed = bool(row["opted_in"]) and row["subscription_state"] == "subscribed"
        fields["consent.marketing_allowed"] = Provenance("marketing", _record_id("marketing", row), stamp, False)
    personalisation_allowed = True
    fields["consent.personalisation_allowed"] = Provenance("default", "", None, False)
    for e in events:
        if e["type"] == "marketing":
            prior = fields.get("consent.marketing_allowed")
            if prior is None or prior.updated_at is None or e["created_at"] >= prior.updated_at:
                marketing_allowed = bool(e["allowed"])
                fields["consent.marketing_allowed"] = Provenance("tandem", e["event_id"], e["created_at"], False)
        elif e["type"] == "personalisation":
            personalisation_allowed = bool(e["allowed"])
            fields["consent.personalisation_allowed"] = Provenance("tandem", e["event_id"], e["created_at"], False)
    consent = Consent(personalisation_allowed, marketing_allowed)

    # -- derived -------------------------------------------------------------------
    recent_categories = _recent_categories(orders, now)
    preferred_categories = _preferred_categories(orders, now)
    profile_args = dict(
        customer_id=records.customer_id,
        given_name=given_name,
        full_name=full_name,
        emails=emails,
        phones=phones,
        customer_numbers=customer_numbers,
        channel_ids=tuple(channel_ids),
        address=address,
        account=account,
        orders=orders,
        returns=returns,
        refunds=refunds,
        invoices=invoices,
        payment_methods=payment_methods,
        tickets=tickets,
        feedback=feedback,
        flags=tuple(flags),
        consent=consent,
        recent_categories=recent_categories,
        preferred_categories=preferred_categories,
        erasure_requested=bool(erasures),
        requests=requests,
        as_of=now,
    )
    segments = segments_for(account, orders, refunds, tickets, feedback, flags, now)
    suppressions = suppressions_for(orders, segments, flags, consent, mkt_sorted[-1] if mkt_sorted else None, now)
    derived = Provenance("derived", "", now, False)
    if segments:
        fields["segments"] = derived
    if suppressions:
        fields["suppressions"] = derived
    if recent_categories:
        fields["recent_categories"] = fields["orders"]
    if preferred_categories:
        fields["preferred_categories"] = fields["orders"]
    return CustomerProfile(
        segments=segments, suppressions=MappingProxyType(suppressions), fields=MappingProxyType(fields), **profile_args
    )


def _ordered_distinct(
    surv: _Survivor, field_name: str, cands: Sequence[_Candidate], key: Any, fields: dict[str, Provenance]
) -> tuple[str, ...]:
    """Survivor first, then the others newest first, de-duplicated by ``key``."""
    picked = surv.pick(field_name, cands)
    if picked is None:
        return ()
    value, prov = picked
    fields[field_name] = prov
    fields[field_name + "s"] = prov
    out = [value]
    seen = {key(value)}
    for cand in sorted(cands, key=lambda c: c.updated_at or datetime.min, reverse=True):
        k = key(cand.value)
        if k not in seen:
            seen.add(k)
            out.append(cand.value)
    return tuple(out)


def _commerce(
    records: PersonRecords,
) -> tuple[tuple[Order, ...], tuple[Return, ...], tuple[Refund, ...], tuple[Invoice, ...], tuple[PaymentMethod, ...]]:
    lines: dict[int, list[OrderLine]] = defaultdict(list)
    for row in sorted(records.get("com_order_line"), key=lambda r: r["id"]):
        lines[row["order_id"]].append(
            OrderLine(row["sku"], row["description"], row["category"], row["quantity"], row["unit_price_minor"], bool(row["is_gift"]))
        )
    shipments = {
        row["order_id"]: Shipment(row["carrier"], row["tracking_number"], row["promised_date"], row["dispatched_at"], row["delivered_at"])
        for row in sorted(records.get("com_shipment"), key=lambda r: r["id"])
    }
    number_of = {row["id"]: row["order_number"] for row in records.get("com_order")}
    orders = tuple(
        sorted(
            (
                Order(
                    order_id=row["order_number"],
                    placed_at=row["placed_at"],
                    status=_enum(OrderStatus, row["status"], OrderStatus.PROCESSING),
                    lines=tuple(lines.get(row["id"], ())),
                    total=row["total_minor"],
                    currency=row["currency"],
                    is_gift=bool(row["is_gift"]),
                    shipment=shipments.get(row["id"]),
                    destination_city=row["ship_city"],
                    destination_country=row["ship_country"],
                    updated_at=row["updated_at"],
                )
                for row in records.get("com_order")
            ),
            key=lambda o: (o.placed_at, o.order_id),
            reverse=True,
        )
    )
    returns = tuple(
        sorted(
            (
                Return(
                    row["return_number"],
                    number_of.get(row["order_id"], str(row["order_id"])),
                    row["reason"],
                    _enum(ReturnStatus, row["status"], ReturnStatus.REQUESTED),
                    row["requested_at"],
                    row["received_at"],
                )
                for row in records.get("com_return")
            ),
            key=lambda r: r.requested_at,
            reverse=True,
        )
    )
    refunds = tuple(
        sorted(
            (
                Refund(
                    refund_id=row["refund_id"],
                    order_id=number_of.get(row["order_id"], str(row["order_id"])),
                    amount=row["amount_minor"],
                    currency=row["currency"],
                    method=_enum(RefundMethod, row["method"], RefundMethod.CARD),
                    state=_enum(RefundState, row["state"], RefundState.REQUESTED),
                    requested_at=row["requested_at"],
                    approved_at=row["approved_at"],
                    paid_at=row["paid_at"],
                )
                for row in records.get("com_refund")
            ),
            key=lambda r: r.requested_at,
            reverse=True,
        )
    )
    invoices = tuple(
        sorted(
            (
                Invoice(
                    row["invoice_id"],
                    number_of.get(row["order_id"], str(row["order_id"])),
                    row["issued_at"],
                    row["amount_minor"],
                    row["currency"],
                    _enum(InvoiceStatus, row["status"], InvoiceStatus.OPEN),
                )
                for row in records.get("com_invoice")
            ),
            key=lambda i: i.issued_at,
            reverse=True,
        )
    )
    payment_methods = tuple(
        PaymentMethod(row["kind"], row["brand"], row["last4"], row["expires"], bool(row["is_default"]))
        for row in sorted(records.get("com_payment_method"), key=lambda r: (not r["is_default"], r["id"]))
    )
    return orders, returns, refunds, invoices, payment_methods


def _counted(order: Order) -> bool:
    return order.status not in (OrderStatus.CANCELLED,)


def _recent_categories(orders: Sequence[Order], now: datetime) -> tuple[str, ...]:
    out: list[str] = []
    for order in orders:  # newest first
        if now - order.placed_at > timedelta(days=RECENT_CATEGORY_DAYS) or not _counted(order):
            continue
        for line in order.lines:
            if line.category not in out:
                out.append(line.category)
    return tuple(out)


def _preferred_categories(orders: Sequence[Order], now: datetime) -> tuple[str, ...]:
    """Categories the customer buys for themselves: gift lines never count."""
    counts: dict[str, int] = defaultdict(int)
    for order in orders:
        if now - order.placed_at > timedelta(days=PREFERENCE_DAYS) or not _counted(order) or order.is_gift:
            continue
        for line in order.lines:
            if not line.is_gift:
                counts[line.category] += line.quantity
    return tuple(sorted(counts, key=lambda c: (-counts[c], c)))


def net_spend_365(orders: Sequence[Order], refunds: Sequence[Refund], now: datetime) -> int:
    year = timedelta(days=365)
    spend = sum(o.total for o in orders if now - o.placed_at <= year and o.status not in (OrderStatus.CANCELLED, OrderStatus.RETURNED))
    refunded = sum(r.amount for r in refunds if r.state == RefundState.PAID and r.paid_at and now - r.paid_at <= year)
    return spend - refunded


def segments_for(
    account: Account,
    orders: Sequence[Order],
    refunds: Sequence[Refund],
    tickets: Sequence[Ticket],
    feedback: Sequence[Feedback],
    flags: Sequence[Flag],
    now: datetime,
) -> frozenset[str]:
    """Sub-populations, each defined by the constants at the top of this module.

    * ``new``: first relationship (CRM or shop account) < 90 days ago
    * ``loyal``: >= 3 counted orders in 365 days and first order > 180 days ago
    * ``high_value``: >= £1,000 net spend (orders minus paid refunds) in 365 days
    * ``at_risk``: >= 2 orders but none in 180 days, or CSAT <= 2 in 90 days,
      or an open complaint
    * ``recently_contacted_support``: a conversation opened in the past 30 days
    * ``open_complaint``: a complaint ticket not resolved, or a complaint the
      bot recorded
    * ``gift_buyer``: a gift order in 365 days
    * ``sensitive_circumstance``: an active contact-centre flag
    * ``open_order`` / ``open_return`` / ``open_refund`` / ``open_ticket``
    * ``business`` / ``staff``: the account type
    """
    seg: set[str] = set()
    year = timedelta(days=365)
    counted = [o for o in orders if _counted(o)]
    if account.created and now - account.created < timedelta(days=NEW_ACCOUNT_DAYS):
        seg.add("new")
    in_year = [o for o in counted if now - o.placed_at <= year]
    if len(in_year) >= LOYAL_MIN_ORDERS_365 and counted and now - min(o.placed_at for o in counted) > timedelta(days=LOYAL_MIN_TENURE_DAYS):
        seg.add("loyal")
    if net_spend_365(orders, refunds, now) >= HIGH_VALUE_MINOR_365:
        seg.add("high_value")
    open_complaint = any(t.is_open_complaint for t in tickets) or any(f.kind == "complaint" and f.status == "open" for f in feedback)
    if open_complaint:
        seg.add("open_complaint")
    quiet = len(counted) >= 2 and all(now - o.placed_at > timedelta(days=AT_RISK_QUIET_DAYS) for o in counted)
    bad_csat = any(
        t.csat is not None and t.csat <= AT_RISK_BAD_CSAT and now - t.opened_at <= timedelta(days=AT_RISK_CSAT_DAYS) for t in tickets
    )
    if quiet or bad_csat or open_complaint:
        seg.add("at_risk")
    if any(now - t.opened_at <= timedelta(days=RECENT_SUPPORT_DAYS) for t in tickets):
        seg.add("recently_contacted_support")
    if any(o.is_gift and now - o.placed_at <= year for o in counted):
        seg.add("gift_buyer")
    if any(f.name == "sensitive_circumstance" for f in flags):
        seg.add("sensitive_circumstance")
    if any(o.is_open for o in orders):
        seg.add("open_order")
    if any(r.is_open for r in refunds):
        seg.add("open_refund")
    if any(t.is_open for t in tickets):
        seg.add("open_ticket")
    if account.type in ("business", "staff"):
        seg.add(account.type)
    return frozenset(seg)


def suppressions_for(
    orders: Sequence[Order],
    segments: frozenset[str],
    flags: Sequence[Flag],
    consent: Consent,
    marketing_row: Mapping[str, Any] | None,
    now: datetime,
) -> dict[str, str]:
    """What the bot must not do, with the reason it can give.

    * ``cross_sell:<category>``: bought in the past 30 days
    * ``preference:<category>``: bought only as a gift; never a preference
    * ``no_cross_sell``: sensitive circumstance or open complaint
    * ``no_marketing``: no consent, unsubscribed, sensitive circumstance,
      open complaint or erasure requested
    * ``no_personalisation``: the customer opted out, or erasure requested
    """
    out: dict[str, str] = {}
    for order in sorted(orders, key=lambda o: o.placed_at):  # newest reason wins
        if not _counted(order) or now - order.placed_at > timedelta(days=CROSS_SELL_QUIET_DAYS):
            continue
        for line in order.lines:
            out[f"cross_sell:{line.category}"] = f"bought {line.category} on {order.placed_at.date().isoformat()} (order {order.order_id})"
    own = set(_preferred_categories(orders, now))
    for order in orders:
        if not _counted(order) or now - order.placed_at > timedelta(days=PREFERENCE_DAYS):
            continue
        for line in order.lines:
            if (order.is_gift or line.is_gift) and line.category not in own:
                out.setdefault(f"preference:{line.category}", f"gift purchase (order {order.order_id}); not the customer's own taste")
    sensitive = sorted({f.kind for f in flags if f.name == "sensitive_circumstance"})
    erasure = any(f.name == "erasure_requested" for f in flags)
    quiet_reasons = []
    if sensitive:
        quiet_reasons.append("sensitive circumstance: " + ", ".join(sensitive))
    if "open_complaint" in segments:
        quiet_reasons.append("open complaint")
    if quiet_reasons:
        out["no_cross_sell"] = "; ".join(quiet_reasons)
    no_marketing = []
    if not consent.marketing_allowed:
        if marketing_row is not None and marketing_row["subscription_state"] == "unsubscribed":
            no_marketing.append("unsubscribed")
        else:
            no_marketing.append("no marketing consent")
    no_marketing += quiet_reasons
    if erasure:
        no_marketing.append("erasure requested")
    if no_marketing:
        out["no_marketing"] = "; ".join(no_marketing)
    no_personal = []
    if not consent.personalisation_allowed:
        no_personal.append("customer opted out of personalisation")
    if erasure:
        no_personal.append("erasure requested")
    if no_personal:
        out["no_personalisation"] = "; ".join(no_personal)
    return out
