"""Right to erasure ("forget me"): remove a person from every store tandem writes or reads.

:func:`erase` runs an erasure of one ``customer_id`` across

* the profile store (this package's engine): the silo rows resolution linked to the person
  (CRM, marketing, commerce, contact centre), tandem's own rows (``tp_*``: links, identifiers,
  events, requests, conversations) and the demo generator's ground truth;
* the conversations the person had with the bot, found by their sender ids (``tp_conversation``,
  the conversation ids of their events and requests, and the handoff queue's rows for the
  customer): Rasa's tracker store and the SQL event broker's table (every table there with a
  ``sender_id`` column), the insights database, and the handoff service's records (queue rows,
  their messages and agents' notes, through :class:`bot.handoff.store.QueueStore`).

What the law requires is kept, with the reason (:data:`RETENTION`): invoices issued within the
tax retention period, and the orders, lines and refunds they bill, with every personal detail
removed from them (the commerce account they hang on loses its name, e-mail, phone and customer
number). Everything else about the person is deleted, and the erasure request's own record is
kept as proof it was carried out (a random customer id, no personal data).

Run it with ``python -m bot privacy erase CUSTOMER_ID``, or ``python -m bot privacy run`` for
every recorded request whose conversation has ended (what ``action_forget_me`` recorded).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.profile import schema as s

logger = logging.getLogger(__name__)

#: how long invoices are kept, by law (tax records; e.g. 10 years in Germany, 6 in the UK)
INVOICE_RETENTION_YEARS = 10
RETENTION = f"tax law: invoices are kept {INVOICE_RETENTION_YEARS} years, with the orders and refunds they bill"


@dataclass(frozen=True)
class Kept:
    """Rows kept after an erasure, and why."""

    table: str
    ids: tuple[int, ...]
    reason: str


@dataclass
class ErasureResult:
    customer_id: str
    #: what identified the person (e-mails, phones, names, numbers, sender ids): what a check
    #: searches every store for afterwards
    identifiers: set[str] = field(default_factory=set)
    senders: set[str] = field(default_factory=set)
    deleted: dict[str, int] = field(default_factory=dict)
    kept: list[Kept] = field(default_factory=list)

    def count(self, table: str, n: int) -> None:
        if n:
            self.deleted[table] = self.deleted.get(table, 0) + n

    def to_json(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "conversations": len(self.senders),
            "deleted": dict(sorted(self.deleted.items())),
            "kept": [{"table": k.table, "rows": len(k.ids), "reason": k.reason} for k in self.kept],
        }


class NotFound(LookupError):
    """No person with that customer id in the profile store."""


# -- the profile store ------------------------------------------------------------------------------


async def erase_profile(engine: AsyncEngine, customer_id: str, now: datetime | None = None) -> ErasureResult:
    """Erase ``customer_id`` from the profile store in one transaction; returns what was found
    (identifiers and sender ids, for the other stores) and what was kept."""
    now = now or datetime.utcnow()
    result = ErasureResult(customer_id)
    async with engine.begin() as conn:
        person = (await conn.execute(sa.select(s.tp_person.c.customer_id)
                                     .where(s.tp_person.c.customer_id == customer_id))).first()
        links = (await conn.execute(sa.select(s.tp_link.c.system, s.tp_link.c.record_id)
                                    .where(s.tp_link.c.customer_id == customer_id))).all()
        if person is None and not links:
            raise NotFound(f"no customer {customer_id!r} in the profile store")
        ids: dict[str, list[int]] = {}
        for system, record_id in links:
            ids.setdefault(system, []).append(record_id)
        await _senders_and_tp(conn, customer_id, result)
        await _crm(conn, ids.get("crm", []), result)
        await _marketing(conn, ids.get("marketing", []), result)
        await _commerce(conn, ids.get("commerce", []), result, now)
        await _contact_centre(conn, ids.get("contact_centre", []), result)
        for system, records in ids.items():
            result.count("gt_record", await _delete(conn, s.gt_record, sa.and_(
                s.gt_record.c.system == system, s.gt_record.c.record_id.in_(records))))
        for table in (s.tp_link, s.tp_identifier, s.tp_person):
            result.count(table.name, await _delete(conn, table, table.c.customer_id == customer_id))
    result.identifiers |= result.senders
    result.identifiers = {i for i in result.identifiers if i and len(i.strip()) >= 3}
    return result


async def _delete(conn: AsyncConnection, table: sa.Table, where: Any) -> int:
    return (await conn.execute(table.delete().where(where))).rowcount or 0


async def _rows(conn: AsyncConnection, table: sa.Table, where: Any) -> list[Any]:
    return list((await conn.execute(sa.select(table).where(where))).all())


def _collect(result: ErasureResult, rows: Iterable[Any], *columns: str) -> None:
    for row in rows:
        for column in columns:
            value = getattr(row, column)
            if value:
                result.identifiers.add(str(value))


async def _senders_and_tp(conn: AsyncConnection, customer_id: str, result: ErasureResult) -> None:
    for table in (s.tp_conversation, s.tp_event, s.tp_request):
        rows = await _rows(conn, table, table.c.customer_id == customer_id)
        result.senders |= {r.conversation_id for r in rows if r.conversation_id}
        if table is s.tp_request:
            _collect(result, rows, "order_id")
    result.count("tp_conversation", await _delete(conn, s.tp_conversation, s.tp_conversation.c.customer_id == customer_id))
    result.count("tp_request", await _delete(conn, s.tp_request, s.tp_request.c.customer_id == customer_id))
    # the erasure requests stay, as the record that they were carried out, without personal data
    result.count("tp_event", await _delete(conn, s.tp_event, sa.and_(
        s.tp_event.c.customer_id == customer_id, s.tp_event.c.type != "erasure_request")))
    await conn.execute(s.tp_event.update().where(
        s.tp_event.c.customer_id == customer_id, s.tp_event.c.type == "erasure_request",
    ).values(text=None, conversation_id=None, source=None, status="done"))


async def _crm(conn: AsyncConnection, ids: list[int], result: ErasureResult) -> None:
    rows = await _rows(conn, s.crm_contact, s.crm_contact.c.id.in_(ids))
    _collect(result, rows, "customer_number", "given_name", "family_name", "email", "phone", "address_line", "postcode")
    result.identifiers |= {f"{r.given_name} {r.family_name}" for r in rows if r.given_name and r.family_name}
    result.count("crm_contact", await _delete(conn, s.crm_contact, s.crm_contact.c.id.in_(ids)))


async def _marketing(conn: AsyncConnection, ids: list[int], result: ErasureResult) -> None:
    _collect(result, await _rows(conn, s.mkt_contact, s.mkt_contact.c.id.in_(ids)), "email")
    result.count("mkt_campaign_response", await _delete(
        conn, s.mkt_campaign_response, s.mkt_campaign_response.c.contact_id.in_(ids)))
    result.count("mkt_contact", await _delete(conn, s.mkt_contact, s.mkt_contact.c.id.in_(ids)))


async def _commerce(conn: AsyncConnection, ids: list[int], result: ErasureResult, now: datetime) -> None:
    accounts = await _rows(conn, s.com_account, s.com_account.c.id.in_(ids))
    _collect(result, accounts, "login_email", "phone", "full_name", "crm_customer_number")
    orders = await _rows(conn, s.com_order, s.com_order.c.account_id.in_(ids))
    _collect(result, orders, "order_number")
    order_ids = [o.id for o in orders]
    cutoff = retention_cutoff(now)
    invoices = await _rows(conn, s.com_invoice, s.com_invoice.c.order_id.in_(order_ids))
    kept_invoices = [i for i in invoices if i.issued_at >= cutoff]
    kept_orders = sorted({i.order_id for i in kept_invoices})
    gone_orders = [o for o in order_ids if o not in kept_orders]
    _collect(result, await _rows(conn, s.com_shipment, s.com_shipment.c.order_id.in_(order_ids)), "tracking_number")
    _collect(result, await _rows(conn, s.com_return, s.com_return.c.order_id.in_(order_ids)), "return_number")
    _collect(result, invoices, "invoice_id")
    refunds = await _rows(conn, s.com_refund, s.com_refund.c.order_id.in_(order_ids))
    _collect(result, refunds, "refund_id")
    for table in (s.com_shipment, s.com_return):  # where parcels went and came back from
        result.count(table.name, await _delete(conn, table, table.c.order_id.in_(order_ids)))
    for table in (s.com_invoice, s.com_refund, s.com_order_line):
        result.count(table.name, await _delete(conn, table, table.c.order_id.in_(gone_orders)))
    result.count("com_order", await _delete(conn, s.com_order, s.com_order.c.id.in_(gone_orders)))
    result.count("com_payment_method", await _delete(
        conn, s.com_payment_method, s.com_payment_method.c.account_id.in_(ids)))
    if kept_orders:
        await conn.execute(s.com_order.update().where(s.com_order.c.id.in_(kept_orders))
                           .values(ship_city=None, ship_country=None, is_gift=False))
        keeping = {o.account_id for o in orders if o.id in kept_orders}
        await conn.execute(s.com_account.update().where(s.com_account.c.id.in_(keeping))
                           .values(login_email=None, phone=None, full_name=None, crm_customer_number=None))
        result.count("com_account", await _delete(conn, s.com_account, sa.and_(
            s.com_account.c.id.in_(ids), s.com_account.c.id.notin_(keeping))))
        kept_refunds = tuple(r.id for r in refunds if r.order_id in kept_orders)
        lines = (await conn.execute(sa.select(s.com_order_line.c.id)
                                    .where(s.com_order_line.c.order_id.in_(kept_orders)))).scalars().all()
        result.kept += [
            Kept("com_invoice", tuple(i.id for i in kept_invoices), RETENTION),
            Kept("com_order", tuple(kept_orders), RETENTION),
            Kept("com_order_line", tuple(lines), RETENTION),
            Kept("com_account", tuple(sorted(keeping)), RETENTION + " (name, e-mail, phone removed)"),
        ] + ([Kept("com_refund", kept_refunds, RETENTION)] if kept_refunds else [])
    else:
        result.count("com_account", await _delete(conn, s.com_account, s.com_account.c.id.in_(ids)))


async def _contact_centre(conn: AsyncConnection, ids: list[int], result: ErasureResult) -> None:
    rows = await _rows(conn, s.cc_conversation, s.cc_conversation.c.id.in_(ids))
    _collect(result, rows, "ticket_number", "channel_id", "phone", "email", "customer_number", "contact_name")
    result.senders |= {r.channel_id for r in rows if r.channel_id}
    result.count("cc_flag", await _delete(conn, s.cc_flag, s.cc_flag.c.conversation_id.in_(ids)))
    result.count("cc_conversation", await _delete(conn, s.cc_conversation, s.cc_conversation.c.id.in_(ids)))


def retention_cutoff(now: datetime | None = None) -> datetime:
    """Invoices issued on or after this moment are kept."""
    return (now or datetime.utcnow()) - timedelta(days=365 * INVOICE_RETENTION_YEARS + INVOICE_RETENTION_YEARS // 4)


def invoices_kept(issued: Iterable[datetime], now: datetime | None = None) -> int:
    """How many of these invoices an erasure keeps (what the customer is told)."""
    cutoff = retention_cutoff(now)
    return sum(1 for at in issued if at >= cutoff)


# -- conversations: Rasa's tracker store, the event broker's table, insights ------------------------


def erase_sender_rows(engine: Engine, senders: set[str]) -> dict[str, int]:
    """Delete the rows of ``senders`` from every table of ``engine``'s database that has a
    ``sender_id`` column (Rasa's tracker store ``events``, the SQL broker's ``events``, the
    insights tables). Returns rows deleted per table."""
    deleted: dict[str, int] = {}
    if not senders:
        return deleted
    meta = sa.MetaData()
    meta.reflect(bind=engine)
    with engine.begin() as conn:
        for table in meta.sorted_tables[::-1]:  # children before parents
            if "sender_id" in table.c:
                n = conn.execute(table.delete().where(table.c.sender_id.in_(sorted(senders)))).rowcount or 0
                if n:
                    deleted[table.name] = n
    return deleted
