"""Invoices and payments."""

from __future__ import annotations

import datetime as dt

from bot.actions_support.common import ask_identity, money, unavailable, with_known
from bot.actions_support.conversation import Context, Reply, mask_email
from bot.actions_support.process_requests import start_request
from bot.processes.calendar import format_day
from bot.processes.render import is_missing, join_words
from bot.processes.statement import Case
from bot.profile.model import CustomerProfile, Invoice, PaymentMethod

__all__ = ["check_invoice", "get_invoice", "payment_issue", "payment_methods", "find_invoice"]

def find_invoice(profile: CustomerProfile, reference: str | None) -> Invoice | None:
    """The invoice by its number, or the invoice of an order number."""
    if not reference:
        return None
    wanted = reference.strip().upper().replace(" ", "")
    if wanted.startswith("INV") and not wanted.startswith("INV-"):
        wanted = "INV-" + wanted[3:]
    for invoice in profile.invoices:
        if invoice.invoice_id.upper() == wanted:
            return invoice
    order = profile.order(reference)
    if order is not None:
        for invoice in profile.invoices:
            if invoice.order_id == order.order_id:
                return invoice
    return None


def _invoice(ctx: Context, pending: str, purpose: str) -> tuple[Invoice | None, Reply | None]:
    if ctx.unavailable:
        return None, unavailable("utter_unavailable_invoice")
    profile = ctx.profile
    reference = ctx.turn.slot("invoice_id") or ctx.turn.slot("order_id")
    if profile is None:
        if reference:
            return None, _unknown_invoice(reference, "utter_unknown_invoice", "utter_unknown_invoice_unnamed")
        return None, ask_identity(ctx, pending, purpose)
    invoice = find_invoice(profile, reference)
    if invoice is None and not reference and len(profile.invoices) == 1:
        invoice = profile.invoices[0]
    if invoice is None:
        return None, _unknown_invoice(
            reference, "utter_unknown_invoice_on_account", "utter_unknown_invoice_on_account_unnamed"
        )
    return invoice, None


def _unknown_invoice(reference: str | None, named: str, unnamed: str) -> Reply:
    return Reply().say(unnamed) if is_missing(reference) else Reply().say(named, ref=reference)


def check_invoice(ctx: Context) -> Reply:
    invoice, early = _invoice(ctx, "action_check_invoice", "invoice_check")
    if early is not None:
        return early
    assert invoice is not None
    reply = Reply()
    reply.use("invoice", "commerce", invoice.invoice_id)
    reply.say(
        f"utter_invoice_{invoice.status.value}",
        invoice_id=invoice.invoice_id,
        order_id=invoice.order_id,
        issued=format_day(invoice.issued_at.date(), ctx.now.date()),
        amount=money(invoice.amount, invoice.currency),
    )
    reply.say("utter_invoice_itemised")
    return reply


async def get_invoice(ctx: Context) -> Reply:
    invoice, early = _invoice(ctx, "action_get_invoice", "invoice_copy")
    if early is not None:
        return early
    assert invoice is not None
    profile = ctx.profile
    assert profile is not None
    reply = Reply()
    email = mask_email(profile.email)
    reply.use("email_invoice_copy", ctx.system_of("emails", "crm"))
    reference, failed = await start_request(
        ctx,
        "invoice_copy",
        order_id=invoice.order_id,
        details={"invoice_id": invoice.invoice_id},
    )
    if failed is not None:
        return failed
    reply.say("utter_invoice_copy_requested", invoice_id=invoice.invoice_id, reference=reference)
    reply.add_statement(
        ctx.statement(Case("invoice_copy", None, "requested", None, {"invoice_id": invoice.invoice_id, "email": email}))
    )
    return reply


def _expired(expires: str | None, today: dt.date) -> bool:
    """``expires`` as ``MM/YY`` or ``YYYY-MM``; True when that month is over."""
    if not expires:
        return False
    try:
        if "/" in expires:
            month, year = expires.split("/", 1)
            y = int(year) + (2000 if len(year) == 2 else 0)
            m = int(month)
        else:
            y, m = (int(x) for x in expires.split("-")[:2])
    except ValueError:
        return False
    return (y, m) < (today.year, today.month)


async def payment_issue(ctx: Context) -> Reply:
    """Likely causes (an expired saved card first), then a payment investigation put on record for a
    known customer; an unknown customer is asked once who they are before anything is promised."""
    reply = Reply()
    if ctx.unavailable:
        return unavailable("utter_unavailable_payment")
    profile = ctx.profile
    expired: list[PaymentMethod] = []
    if profile is not None:
        expired = [p for p in profile.payment_methods if p.kind == "card" and _expired(p.expires, ctx.now.date())]
        if expired:
            card = expired[0]
            reply.use("saved_cards", "commerce")
            facts = {"brand": card.brand, "last4": card.last4, "expires": card.expires}
            reply.say(with_known("utter_card_expired", facts, "brand", "last4", "expires"), **facts)
    reply.say("utter_payment_trouble")
    if profile is None:
        return reply.extend(ask_identity(ctx, "action_payment_issue", "payment"))
    said = ctx.turn.slot("order_id")
    order = profile.order(str(said)) if said else None
    reference, failed = await start_request(
        ctx,
        "payment_investigation",
        order_id=order.order_id if order else None,
        details={"expired_card": bool(expired)},
        with_message=True,
    )
    if failed is not None:
        return reply.extend(failed)
    reply.say("utter_payment_investigation_opened", reference=reference)
    reply.add_statement(ctx.statement(Case("payment_investigation", facts={"order_id": order.order_id if order else None})))
    return reply


def payment_methods(ctx: Context) -> Reply:
    reply = Reply()
    reply.say("utter_payment_methods")
    profile = ctx.profile
    if profile is not None and ctx.personalise and profile.payment_methods:
        saved = []
        for method in profile.payment_methods:
            if method.kind == "card":
                saved.append(f"{method.brand or 'card'} ending {method.last4}" if method.last4 else (method.brand or "a card"))
            else:
                saved.append(method.kind.replace("_", " "))
        reply.use("saved_payment_methods", "commerce")
        reply.say("utter_saved_payment_methods", saved=join_words(saved))
    return reply
