"""Invoices and payments."""

from __future__ import annotations

import datetime as dt

from bot.actions_support.common import ask_identity, money, unavailable
from bot.actions_support.conversation import Context, Reply, mask_email
from bot.actions_support.process_requests import start_request
from bot.processes.render import join_words
from bot.processes.statement import Case
from bot.profile.model import CustomerProfile, Invoice, InvoiceStatus, PaymentMethod

__all__ = ["check_invoice", "get_invoice", "payment_issue", "payment_methods", "find_invoice"]

_INVOICE_STATES = {
    InvoiceStatus.OPEN: "still open (not paid yet)",
    InvoiceStatus.PAID: "paid",
    InvoiceStatus.CREDITED: "credited (cancelled and refunded)",
}


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


def _invoice(ctx: Context, pending: str, why: str) -> tuple[Invoice | None, Reply | None]:
    if ctx.unavailable:
        return None, unavailable("your invoice", "All your invoices are also under Account > Orders & invoices.")
    profile = ctx.profile
    reference = ctx.turn.slot("invoice_id") or ctx.turn.slot("order_id")
    if profile is None:
        if reference:
            reply = Reply()
            reply.say(
                "I can't find invoice {ref}. Invoice numbers look like INV-1234567; the order number works too.",
                {"ref": reference},
            )
            return None, reply
        return None, ask_identity(ctx, pending, why)
    invoice = find_invoice(profile, reference)
    if invoice is None and not reference and len(profile.invoices) == 1:
        invoice = profile.invoices[0]
    if invoice is None:
        reply = Reply()
        reply.say(
            "I can't find invoice {ref} on your account. Invoice numbers look like INV-1234567; the order number works too.",
            {"ref": reference},
            default="I can't find that invoice on your account.",
        )
        return None, reply
    return invoice, None


def check_invoice(ctx: Context) -> Reply:
    invoice, early = _invoice(ctx, "action_check_invoice", "look up your invoice")
    if early is not None:
        return early
    assert invoice is not None
    reply = Reply()
    reply.use(f"invoice {invoice.invoice_id}", "commerce", "to answer your question about it")
    reply.say(
        "Invoice {invoice_id} for order {order_id} was issued on {issued} for {amount} and is {state}.",
        {
            "invoice_id": invoice.invoice_id,
            "order_id": invoice.order_id,
            "issued": invoice.issued_at.date(),
            "amount": money(invoice.amount, invoice.currency),
            "state": _INVOICE_STATES.get(invoice.status, invoice.status.value),
        },
    )
    reply.say("Every charge is itemised in the PDF under Account > Orders & invoices; I can also e-mail you a copy.")
    return reply


async def get_invoice(ctx: Context) -> Reply:
    invoice, early = _invoice(ctx, "action_get_invoice", "send you a copy of your invoice")
    if early is not None:
        return early
    assert invoice is not None
    profile = ctx.profile
    assert profile is not None
    reply = Reply()
    email = mask_email(profile.email)
    reply.use("your e-mail address", ctx.system_of("emails", "crm"), "to send the invoice copy")
    reference, failed = await start_request(
        ctx,
        "invoice_copy",
        what=f"the request for a copy of invoice {invoice.invoice_id}",
        fallback="You can download it straight away under Account > Orders & invoices.",
        order_id=invoice.order_id,
        details={"invoice_id": invoice.invoice_id},
    )
    if failed is not None:
        return failed
    reply.say(
        "I've asked for a PDF copy of invoice {invoice_id} to be e-mailed to you[[ (reference {reference})]].",
        {"invoice_id": invoice.invoice_id, "reference": reference},
    )
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
        return unavailable(
            "your payment details",
            "A declined card is most often expired, or the billing address doesn't match.",
        )
    profile = ctx.profile
    expired: list[PaymentMethod] = []
    if profile is not None:
        expired = [p for p in profile.payment_methods if p.kind == "card" and _expired(p.expires, ctx.now.date())]
        if expired:
            card = expired[0]
            reply.use("your saved payment cards", "commerce", "to check why a payment might fail")
            reply.say(
                "I'm checking your saved cards: your {brand|card}[[ ending {last4}]] expired[[ in {expires}]], "
                "which is the most likely reason. Update it under Account > Payment methods and try again.",
                {"brand": card.brand, "last4": card.last4, "expires": card.expires},
            )
    reply.say(
        "Sorry about the payment trouble. A declined card is most often an expired card, a billing address that "
        "doesn't match, or the bank's security check. If you were charged but got no order confirmation, "
        "the money is only held and your bank releases it within 7 days."
    )
    if profile is None:
        return reply.extend(
            ask_identity(ctx, "action_payment_issue", "ask a payments specialist to check a double or unrecognised charge")
        )
    said = ctx.turn.slot("order_id")
    order = profile.order(str(said)) if said else None
    reference, failed = await start_request(
        ctx,
        "payment_investigation",
        what="a payment investigation",
        fallback="If you were charged twice, your bank can also tell you whether the second amount is only a hold.",
        order_id=order.order_id if order else None,
        details={"expired_card": bool(expired)},
        with_message=True,
    )
    if failed is not None:
        return reply.extend(failed)
    reply.say(
        "If you were charged twice or don't recognise a charge, a payments specialist will look into it; "
        "I've opened an investigation[[ (reference {reference})]]:",
        {"reference": reference},
    )
    reply.add_statement(ctx.statement(Case("payment_investigation", facts={"order_id": order.order_id if order else None})))
    return reply


def payment_methods(ctx: Context) -> Reply:
    reply = Reply()
    reply.say(
        "We accept Visa, Mastercard and American Express, PayPal, Apple Pay, Google Pay, bank transfer, "
        "gift cards and store credit."
    )
    profile = ctx.profile
    if profile is not None and ctx.personalise and profile.payment_methods:
        saved = []
        for method in profile.payment_methods:
            if method.kind == "card":
                saved.append(f"{method.brand or 'card'} ending {method.last4}" if method.last4 else (method.brand or "a card"))
            else:
                saved.append(method.kind.replace("_", " "))
        reply.use("your saved payment methods", "commerce", "to tell you what you already have set up")
        reply.say("You have {saved} saved on your account.", {"saved": join_words(saved)})
    return reply
