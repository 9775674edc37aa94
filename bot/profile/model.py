"""The typed profile the bot and the agent console read.

A :class:`CustomerProfile` is an immutable snapshot assembled from the silo
records resolved to one person plus what tandem stored itself (consent,
feedback, erasure requests, and the process requests the bot started). ``fields`` says for every field where the value
came from (:class:`Provenance`), so the bot can say *why* it knows something,
and whether it is stale (then it is not used for personalisation: see
:meth:`CustomerProfile.personalisable`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Any, Mapping


class OrderStatus(str, enum.Enum):
    PLACED = "placed"
    PROCESSING = "processing"
    DISPATCHED = "dispatched"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    RETURNED = "returned"


OPEN_ORDER_STATUSES = frozenset({OrderStatus.PLACED, OrderStatus.PROCESSING, OrderStatus.DISPATCHED})


class RefundMethod(str, enum.Enum):
    CARD = "card"
    PAYPAL = "paypal"
    BANK_TRANSFER = "bank_transfer"
    STORE_CREDIT = "store_credit"


class RefundState(str, enum.Enum):
    REQUESTED = "requested"
    APPROVED = "approved"
    PAID = "paid"
    REJECTED = "rejected"


OPEN_REFUND_STATES = frozenset({RefundState.REQUESTED, RefundState.APPROVED})


class ReturnStatus(str, enum.Enum):
    REQUESTED = "requested"
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"
    REJECTED = "rejected"


class InvoiceStatus(str, enum.Enum):
    OPEN = "open"
    PAID = "paid"
    CREDITED = "credited"


@dataclass(frozen=True)
class Provenance:
    """Where a field's value came from."""

    system: str  # crm | marketing | commerce | contact_centre | tandem | derived
    record_id: str
    updated_at: datetime | None
    stale: bool = False


@dataclass(frozen=True)
class OrderLine:
    sku: str
    description: str
    category: str
    quantity: int
    unit_price: int  # minor units
    is_gift: bool


@dataclass(frozen=True)
class Shipment:
    carrier: str
    tracking_number: str | None
    promised_date: date | None
    dispatched_at: datetime | None
    delivered_at: datetime | None


@dataclass(frozen=True)
class Order:
    order_id: str
    placed_at: datetime
    status: OrderStatus
    lines: tuple[OrderLine, ...]
    total: int  # minor units
    currency: str
    is_gift: bool
    shipment: Shipment | None
    destination_city: str | None
    destination_country: str | None
    updated_at: datetime

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ORDER_STATUSES

    @property
    def categories(self) -> frozenset[str]:
        return frozenset(line.category for line in self.lines)


@dataclass(frozen=True)
class Return:
    return_id: str
    order_id: str
    reason: str | None
    status: ReturnStatus
    requested_at: datetime
    received_at: datetime | None

    @property
    def is_open(self) -> bool:
        return self.status in (ReturnStatus.REQUESTED, ReturnStatus.IN_TRANSIT)


@dataclass(frozen=True)
class Refund:
    refund_id: str
    order_id: str
    amount: int  # minor units
    currency: str
    method: RefundMethod
    state: RefundState
    requested_at: datetime
    approved_at: datetime | None
    paid_at: datetime | None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_REFUND_STATES


@dataclass(frozen=True)
class Invoice:
    invoice_id: str
    order_id: str
    issued_at: datetime
    amount: int  # minor units
    currency: str
    status: InvoiceStatus


@dataclass(frozen=True)
class PaymentMethod:
    kind: str  # card | paypal | bank_transfer | store_credit
    brand: str | None
    last4: str | None
    expires: str | None
    is_default: bool


@dataclass(frozen=True)
class Ticket:
    """A past or open contact-centre conversation."""

    ticket_id: str
    channel: str
    channel_id: str | None
    topic: str
    status: str  # open | closed
    outcome: str | None
    csat: int | None
    opened_at: datetime
    closed_at: datetime | None
    agent_notes: str | None

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @property
    def is_open_complaint(self) -> bool:
        return self.topic == "complaint" and (self.is_open or self.outcome in ("unresolved", "escalated", "pending"))


@dataclass(frozen=True)
class Feedback:
    """A complaint or review the bot recorded (tandem's own table)."""

    feedback_id: str
    kind: str  # complaint | review
    text: str
    conversation_id: str | None
    status: str  # open | closed
    created_at: datetime


#: states of a process request that still need someone to act
OPEN_REQUEST_STATES = frozenset({"requested", "in_progress"})
#: every state a process request can be in
REQUEST_STATES = OPEN_REQUEST_STATES | {"done", "rejected", "withdrawn"}


@dataclass(frozen=True)
class ProcessRequest:
    """A process the bot started for the customer (tandem's ``tp_request`` table).

    ``kind`` is the process key of the catalogue (``order_cancellation``,
    ``data_export``...); ``state`` starts as ``requested`` and is moved on by
    agents or the back office. ``details`` is what the team needs to act
    (invoice number, variant...), JSON-safe.
    """

    request_id: str
    kind: str
    order_id: str | None
    conversation_id: str | None
    state: str
    details: Mapping[str, Any]
    created_at: datetime
    updated_at: datetime

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_REQUEST_STATES

    @property
    def reference(self) -> str:
        """The short form customers are told: ``R-1A2B3C4D``."""
        return short_reference(self.request_id)


def short_reference(request_id: str) -> str:
    """``R-`` + the last 8 characters of a request id, upper case (unique enough to quote)."""
    return f"R-{request_id.rsplit('-', 1)[-1][-8:].upper()}"


@dataclass(frozen=True)
class Flag:
    """e.g. Flag("sensitive_circumstance", "bereavement", ...)."""

    name: str
    kind: str
    note: str | None
    recorded_at: datetime
    source: Provenance


@dataclass(frozen=True)
class Account:
    type: str | None  # consumer | business | staff
    created: datetime | None
    status: str | None  # active | dormant | closed


@dataclass(frozen=True)
class Address:
    line: str | None
    city: str | None
    postcode: str | None
    country: str | None


@dataclass(frozen=True)
class Consent:
    personalisation_allowed: bool
    marketing_allowed: bool


def _frozen_map(data: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(data or {}))


@dataclass(frozen=True, eq=False)
class CustomerProfile:
    """One resolved person. ``fields`` maps field name -> :class:`Provenance`."""

    customer_id: str
    given_name: str | None
    full_name: str | None
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    customer_numbers: tuple[str, ...]
    channel_ids: tuple[str, ...]
    address: Address | None
    account: Account
    orders: tuple[Order, ...]
    returns: tuple[Return, ...]
    refunds: tuple[Refund, ...]
    invoices: tuple[Invoice, ...]
    payment_methods: tuple[PaymentMethod, ...]
    tickets: tuple[Ticket, ...]
    feedback: tuple[Feedback, ...]
    segments: frozenset[str]
    suppressions: Mapping[str, str]
    flags: tuple[Flag, ...]
    consent: Consent
    fields: Mapping[str, Provenance]
    recent_categories: tuple[str, ...] = ()
    preferred_categories: tuple[str, ...] = ()
    erasure_requested: bool = False
    #: processes the bot started (open and closed), oldest first
    requests: tuple[ProcessRequest, ...] = ()
    as_of: datetime | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    # -- convenience ----------------------------------------------------------
    @property
    def conversations(self) -> tuple[Ticket, ...]:
        return self.tickets

    @property
    def email(self) -> str | None:
        return self.emails[0] if self.emails else None

    @property
    def phone(self) -> str | None:
        return self.phones[0] if self.phones else None

    @property
    def customer_number(self) -> str | None:
        return self.customer_numbers[0] if self.customer_numbers else None

    @property
    def marketing_allowed(self) -> bool:
        """Consent given *and* nothing suppresses marketing (e.g. bereavement)."""
        return self.consent.marketing_allowed and "no_marketing" not in self.suppressions

    @property
    def greeting_name(self) -> str | None:
        """The given name to greet with, or None: never greet with stale or unwanted data."""
        return self.personalisable("given_name")

    def personalisable(self, field_name: str) -> Any:
        """The field's value if it may be used for personalisation, else None.

        None when the customer opted out of personalisation, an erasure is
        pending, or the field is stale or unknown.
        """
        if "no_personalisation" in self.suppressions:
            return None
        prov = self.fields.get(field_name)
        if prov is None or prov.stale:
            return None
        return getattr(self, field_name, None)

    def order(self, order_id: str) -> Order | None:
        from bot.profile.identifiers import normalise_order_id
        from bot.profile.errors import InvalidIdentifier

        try:
            wanted = normalise_order_id(order_id)
        except InvalidIdentifier:
            return None
        return next((o for o in self.orders if o.order_id == wanted), None)

    def open_orders(self) -> tuple[Order, ...]:
        return tuple(o for o in self.orders if o.is_open)

    def open_returns(self) -> tuple[Return, ...]:
        return tuple(r for r in self.returns if r.is_open)

    def open_refunds(self) -> tuple[Refund, ...]:
        return tuple(r for r in self.refunds if r.is_open)

    def open_tickets(self) -> tuple[Ticket, ...]:
        return tuple(t for t in self.tickets if t.is_open)

    def open_complaints(self) -> tuple[Ticket | Feedback, ...]:
        tickets = tuple(t for t in self.tickets if t.is_open_complaint)
        recorded = tuple(f for f in self.feedback if f.kind == "complaint" and f.status == "open")
        return tickets + recorded

    def open_requests(self) -> tuple[ProcessRequest, ...]:
        """Processes the bot started that nobody has finished yet (oldest first)."""
        return tuple(r for r in self.requests if r.is_open)

    def refunds_for(self, order_id: str) -> tuple[Refund, ...]:
        return tuple(r for r in self.refunds if r.order_id == order_id)

    def to_summary(self) -> dict[str, Any]:
        """A JSON-safe dict of strings for the agent console (no None rendered as "None")."""
        from bot.profile.summary import profile_summary

        return profile_summary(self)
