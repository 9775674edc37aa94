"""The unified customer profile: silos -> identity resolution -> one typed record.

Public API (other areas code against these names)::

    from bot.profile import ProfileRepository, CustomerProfile, ProfileNotFound, InvalidIdentifier, ProfileStoreUnavailable

    repo = ProfileRepository.from_url(settings.profile_db_url, timeout_s=settings.profile_timeout_s)
    profile = await repo.find("07700 900101")        # any identifier, kind auto-detected
    profile.open_orders(), profile.order("4000000101"), profile.to_summary()

See bot/profile/README.md for the data model, the rules and the demo customers.
"""

from __future__ import annotations

from bot.profile.errors import (
    AmbiguousIdentifier,
    InvalidIdentifier,
    InvalidProfileInput,
    ProfileError,
    ProfileNotFound,
    ProfileStoreUnavailable,
)
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
from bot.profile.repository import REQUEST_KINDS, ProfileRepository, create_engine_for

__all__ = [
    "Account",
    "Address",
    "AmbiguousIdentifier",
    "Consent",
    "CustomerProfile",
    "Feedback",
    "Flag",
    "InvalidIdentifier",
    "InvalidProfileInput",
    "Invoice",
    "InvoiceStatus",
    "Order",
    "OrderLine",
    "OrderStatus",
    "PaymentMethod",
    "ProcessRequest",
    "ProfileError",
    "ProfileNotFound",
    "ProfileRepository",
    "ProfileStoreUnavailable",
    "REQUEST_KINDS",
    "Provenance",
    "Refund",
    "RefundMethod",
    "RefundState",
    "Return",
    "ReturnStatus",
    "Shipment",
    "Ticket",
    "create_engine_for",
]
