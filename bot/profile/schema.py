"""Tables of the profile store.

Four silo table groups keep the shape of the exports they come from (their
own keys, their own spelling of e-mails and phones, no shared customer id):

* ``crm_*``   CRM contacts (customer number, name, address, household)
* ``mkt_*``   marketing automation (keyed by e-mail as typed, consent)
* ``com_*``   commerce: web-shop accounts, orders, lines, shipments, returns,
  refunds, invoices, payment methods
* ``cc_*``    contact centre: conversations/tickets and sensitive flags

Tandem's own tables (``tp_*``) hold the resolution result (which silo record
belongs to which person, an index of normalised identifiers) and what the
bot writes itself (consent choices, feedback, erasure requests in
``tp_event``; the process requests the bot starts in ``tp_request``): the silos
are never written by the bot. ``gt_record`` is the demo generator's ground
truth, used only by ``python -m bot profile report``.

All times are naive UTC ``DateTime`` columns; money is integer minor units.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

# --- CRM -------------------------------------------------------------------
crm_contact = Table(
    "crm_contact",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("customer_number", String(16), nullable=False, unique=True),
    Column("given_name", String(80)),
    Column("family_name", String(80)),
    Column("email", String(320)),
    Column("phone", String(40)),
    Column("address_line", String(200)),
    Column("city", String(80)),
    Column("postcode", String(16)),
    Column("country", String(2)),
    Column("household_id", String(24)),
    Column("account_type", String(16)),  # consumer | business | staff
    Column("status", String(16)),  # active | dormant | closed
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

# --- marketing automation --------------------------------------------------
mkt_contact = Table(
    "mkt_contact",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("email", String(320), nullable=False),
    Column("first_name", String(80)),
    Column("opted_in", Boolean, nullable=False),
    Column("subscription_state", String(16), nullable=False),  # subscribed | unsubscribed | never
    Column("unsubscribed_at", DateTime),
    Column("consent_updated_at", DateTime),
    Column("updated_at", DateTime, nullable=False),
)
mkt_campaign_response = Table(
    "mkt_campaign_response",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("contact_id", Integer, ForeignKey("mkt_contact.id"), nullable=False),
    Column("campaign", String(80), nullable=False),
    Column("response", String(16), nullable=False),  # opened | clicked | purchased | unsubscribed
    Column("responded_at", DateTime, nullable=False),
    Index("ix_mkt_campaign_response_contact", "contact_id"),
)

# --- commerce ----------------------------------------------------------------
com_account = Table(
    "com_account",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("login_email", String(320)),
    Column("phone", String(40)),
    Column("full_name", String(160)),
    Column("crm_customer_number", String(16)),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)
com_order = Table(
    "com_order",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("order_number", String(16), nullable=False, unique=True),
    Column("account_id", Integer, ForeignKey("com_account.id"), nullable=False),
    Column("placed_at", DateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("total_minor", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("is_gift", Boolean, nullable=False),
    Column("ship_city", String(80)),
    Column("ship_country", String(2)),
    Column("updated_at", DateTime, nullable=False),
    Index("ix_com_order_account", "account_id"),
)
com_order_line = Table(
    "com_order_line",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("order_id", Integer, ForeignKey("com_order.id"), nullable=False),
    Column("sku", String(24), nullable=False),
    Column("description", String(160), nullable=False),
    Column("category", String(40), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price_minor", Integer, nullable=False),
    Column("is_gift", Boolean, nullable=False),
    Index("ix_com_order_line_order", "order_id"),
)
com_shipment = Table(
    "com_shipment",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("order_id", Integer, ForeignKey("com_order.id"), nullable=False),
    Column("carrier", String(40), nullable=False),
    Column("tracking_number", String(40)),
    Column("promised_date", Date),
    Column("dispatched_at", DateTime),
    Column("delivered_at", DateTime),
    Index("ix_com_shipment_order", "order_id"),
)
com_return = Table(
    "com_return",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("return_number", String(16), nullable=False, unique=True),
    Column("order_id", Integer, ForeignKey("com_order.id"), nullable=False),
    Column("reason", String(80)),
    Column("status", String(16), nullable=False),  # requested | in_transit | received | rejected
    Column("requested_at", DateTime, nullable=False),
    Column("received_at", DateTime),
    Index("ix_com_return_order", "order_id"),
)
com_refund = Table(
    "com_refund",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("refund_id", String(16), nullable=False, unique=True),
    Column("order_id", Integer, ForeignKey("com_order.id"), nullable=False),
    Column("amount_minor", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("method", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("requested_at", DateTime, nullable=False),
    Column("approved_at", DateTime),
    Column("paid_at", DateTime),
    Index("ix_com_refund_order", "order_id"),
)
com_invoice = Table(
    "com_invoice",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("invoice_id", String(16), nullable=False, unique=True),
    Column("order_id", Integer, ForeignKey("com_order.id"), nullable=False),
    Column("issued_at", DateTime, nullable=False),
    Column("amount_minor", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(16), nullable=False),  # open | paid | credited
    Index("ix_com_invoice_order", "order_id"),
)
com_payment_method = Table(
    "com_payment_method",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("account_id", Integer, ForeignKey("com_account.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # card | paypal | bank_transfer | store_credit
    Column("brand", String(24)),
    Column("last4", String(4)),
    Column("expires", String(7)),
    Column("is_default", Boolean, nullable=False),
    Column("added_at", DateTime, nullable=False),
    Index("ix_com_payment_method_account", "account_id"),
)

# --- contact centre ----------------------------------------------------------
cc_conversation = Table(
    "cc_conversation",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("ticket_number", String(16), nullable=False, unique=True),
    Column("channel", String(16), nullable=False),
    Column("channel_id", String(120)),
    Column("phone", String(40)),
    Column("email", String(320)),
    Column("customer_number", String(16)),
    Column("contact_name", String(160)),
    Column("topic", String(40), nullable=False),
    Column("status", String(16), nullable=False),  # open | closed
    Column("outcome", String(24)),  # resolved | unresolved | escalated | pending
    Column("csat", Integer),
    Column("opened_at", DateTime, nullable=False),
    Column("closed_at", DateTime),
    Column("agent_notes", Text),
)
cc_flag = Table(
    "cc_flag",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("conversation_id", Integer, ForeignKey("cc_conversation.id"), nullable=False),
    Column("kind", String(32), nullable=False),  # bereavement | illness | financial_hardship | vulnerability
    Column("note", Text),
    Column("active", Boolean, nullable=False),
    Column("recorded_at", DateTime, nullable=False),
    Index("ix_cc_flag_conversation", "conversation_id"),
)

#: silo tables whose records are clustered into people, with their system name
ROOT_TABLES = {"crm": crm_contact, "marketing": mkt_contact, "commerce": com_account, "contact_centre": cc_conversation}
SILO_TABLES = (
    crm_contact,
    mkt_contact,
    mkt_campaign_response,
    com_account,
    com_order,
    com_order_line,
    com_shipment,
    com_return,
    com_refund,
    com_invoice,
    com_payment_method,
    cc_conversation,
    cc_flag,
)

# --- tandem's own tables -----------------------------------------------------
tp_person = Table(
    "tp_person",
    metadata,
    Column("customer_id", String(24), primary_key=True),
    Column("anchor_system", String(16), nullable=False),
    Column("anchor_record_id", Integer, nullable=False),
    Column("record_count", Integer, nullable=False),
    Column("resolved_at", DateTime, nullable=False),
)
tp_link = Table(
    "tp_link",
    metadata,
    Column("system", String(16), primary_key=True),
    Column("record_id", Integer, primary_key=True, autoincrement=False),
    Column("customer_id", String(24), nullable=False),
    Index("ix_tp_link_customer", "customer_id", "system"),
)
tp_identifier = Table(
    "tp_identifier",
    metadata,
    Column("kind", String(16), nullable=False),
    Column("value", String(320), nullable=False),
    Column("customer_id", String(24), nullable=False),
    # not unique on purpose: a family e-mail maps to several customers
    Index("ix_tp_identifier_lookup", "kind", "value"),
)
tp_event = Table(
    "tp_event",
    metadata,
    Column("event_id", String(40), primary_key=True),
    Column("customer_id", String(24), nullable=False),
    # personalisation | marketing | complaint | review | erasure_request
    Column("type", String(24), nullable=False),
    Column("allowed", Boolean),
    Column("source", String(40)),
    Column("text", Text),
    Column("conversation_id", String(120)),
    Column("status", String(16)),
    Column("created_at", DateTime, nullable=False),
    Index("ix_tp_event_customer", "customer_id", "created_at"),
)
tp_request = Table(
    "tp_request",
    metadata,
    Column("request_id", String(40), primary_key=True),
    Column("customer_id", String(24), nullable=False),
    # a process key of the catalogue (bot/processes/catalogue.yml): order_cancellation, data_export, ...
    Column("kind", String(40), nullable=False),
    Column("order_id", String(16)),
    Column("conversation_id", String(120)),
    # requested -> in_progress -> done | rejected | withdrawn (set by agents / back office)
    Column("state", String(16), nullable=False),
    Column("details", Text),  # JSON object
    # hash of (customer, kind, order, conversation) while the request is open, NULL once closed:
    # a retried action finds the open request instead of creating a second one
    Column("open_key", String(64), unique=True),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Index("ix_tp_request_customer", "customer_id", "created_at"),
)
tp_conversation = Table(
    "tp_conversation",
    metadata,
    # Rasa's conversation (sender) id of a customer the bot identified, the channel it came on
    # and when it was last seen: where proactive follow-ups reach the customer
    Column("conversation_id", String(120), primary_key=True),
    Column("customer_id", String(24), nullable=False),
    Column("channel", String(32)),
    Column("last_seen", DateTime, nullable=False),
    Index("ix_tp_conversation_customer", "customer_id", "last_seen"),
)
tp_meta = Table(
    "tp_meta",
    metadata,
    Column("key", String(40), primary_key=True),
    Column("value", Text, nullable=False),
)
gt_record = Table(
    "gt_record",
    metadata,
    Column("system", String(16), primary_key=True),
    Column("record_id", Integer, primary_key=True, autoincrement=False),
    Column("person", Integer, nullable=False),
)

#: tables written by resolution (indexed after they are filled)
RESOLUTION_TABLES = (tp_person, tp_link, tp_identifier)
#: tandem's tables that hold what customers told or asked us: a rebuild keeps them
CUSTOMER_TABLES = (tp_event, tp_request, tp_conversation)
#: tables that a rebuild replaces (CUSTOMER_TABLES survive)
REBUILT_TABLES = SILO_TABLES + (tp_person, tp_link, tp_identifier, tp_meta, gt_record)
