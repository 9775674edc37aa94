"""Transparency and control: why my data, opt out, what you hold, forget me."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Mapping

from bot.actions_support import changes
from bot.actions_support.common import ask_identity, unavailable
from bot.actions_support.feedback import CHAT_SOURCE
from bot.actions_support.conversation import SYSTEM_NAMES, Context, DataUse, Reply, mask_email
from bot.actions_support.process_requests import start_request
from bot.processes.render import join_words
from bot.processes.statement import Case
from bot.profile.erasure import INVOICE_RETENTION_YEARS, invoices_kept
from bot.profile.model import CustomerProfile, short_reference

__all__ = [
    "why_my_data",
    "personalization_opt_out",
    "my_data_request",
    "confirm_data_export",
    "forget_me",
    "confirm_erasure",
    "FIELD_WORDS",
]

#: profile field -> how it is named to the customer
FIELD_WORDS = {
    "given_name": "first name",
    "full_name": "name",
    "emails": "e-mail addresses",
    "phones": "phone numbers",
    "customer_numbers": "customer number",
    "channel_ids": "messaging contacts",
    "address": "address",
    "account": "account details",
    "account.created": "when your account was opened",
    "account.status": "account status",
    "account.type": "account type",
    "email": "e-mail address",
    "phone": "phone number",
    "customer_number": "customer number",
    "consent.marketing_allowed": "marketing consent",
    "consent.personalisation_allowed": "personalisation choice",
    "orders": "orders",
    "returns": "returns",
    "refunds": "refunds",
    "invoices": "invoices",
    "payment_methods": "saved payment methods (only the last 4 digits of cards)",
    "tickets": "past conversations with our contact centre",
    "feedback": "complaints and reviews you sent us",
    "consent": "privacy and marketing choices",
    "segments": "customer groups (for example 'new customer')",
    "suppressions": "things we must not do (for example no marketing)",
    "flags": "notes about circumstances you told us about",
    "recent_categories": "product categories you bought recently",
    "preferred_categories": "product categories you like",
    "requests": "requests you made through this assistant (for example a cancellation)",
}

#: how a request kind is named to the customer
REQUEST_WORDS = {
    "order_cancellation": "cancellation",
    "order_change": "order change",
    "address_change": "address change",
    "refund": "refund request",
    "return": "return",
    "invoice_copy": "invoice copy",
    "payment_investigation": "payment investigation",
    "account_deletion": "account closure",
    "password_recovery": "password help",
    "data_export": "data export",
}


@dataclass(frozen=True)
class _Confirmed:
    """A privacy request that asks for a yes first: the change it waits as, the action that asks
    (and is resumed once the customer is identified), the identity question's wording and the
    answer when the profile store is down."""

    kind: str
    asked_by: str
    purpose: str
    store_down: str

    def customer(self, ctx: Context) -> tuple[CustomerProfile | None, Reply | None]:
        """The verified customer, or the reply to give instead (store down, or who are you?)."""
        if ctx.unavailable:
            return None, unavailable(self.store_down)
        if ctx.profile is None:
            return None, ask_identity(ctx, self.asked_by, self.purpose)
        return ctx.profile, None

    def ask(self, reply: Reply) -> Reply:
        """``reply`` says what a yes starts; make it wait for that yes."""
        return changes.ask(reply, self.kind, self.asked_by)


DATA_EXPORT = _Confirmed("data_export", "action_my_data_request", "my_data", "utter_unavailable_my_data")
ERASURE = _Confirmed("erasure", "action_forget_me", "forget_me", "utter_unavailable_forget_me")


def why_my_data(ctx: Context) -> Reply:
    """Every use of personal data this conversation made (slot ``data_used``), one response each."""
    reply = Reply()
    uses = [u for u in dict.fromkeys(DataUse.parse(k) for k in (ctx.turn.slot("data_used") or [])) if u is not None]
    if uses:
        reply.say("utter_data_used_intro")
        for use in uses:
            reply.say(
                f"utter_data_use_{use.use}", source=SYSTEM_NAMES.get(use.system, use.system), subject=use.subject
            )
        reply.say("utter_data_used_nothing_else")
    else:
        reply.say("utter_data_used_none")
    reply.say("utter_data_use_policy")
    return reply


async def personalization_opt_out(ctx: Context) -> Reply:
    reply = Reply()
    reply.slots["personalisation_allowed"] = False
    reply.slots["customer_name"] = None
    reply.say("utter_personalisation_off")
    if ctx.unavailable:
        reply.say("utter_personalisation_off_not_saved")
        reply.unavailable = True
        reply.slots["data_unavailable"] = True
        return reply
    profile = ctx.profile
    if profile is None and ctx.claimed:
        # an e-mail address or order number was given but not proved: verify before saving
        return reply.extend(ask_identity(ctx, "action_personalization_opt_out", "opt_out"))
    if profile is None:
        reply.say("utter_personalisation_off_ask_identifier")
        reply.slots["pending_action"] = "action_personalization_opt_out"
        reply.slots["identity_asked"] = True
        return reply
    ok = await ctx.gateway.write(
        "personalisation opt-out", "set_personalisation", profile.customer_id, False, source=CHAT_SOURCE
    )
    if ok:
        reply.say("utter_personalisation_off_saved")
    else:
        reply.say("utter_personalisation_off_not_saved")
        reply.unavailable = True
        reply.slots["data_unavailable"] = True
    return reply


async def my_data_request(ctx: Context) -> Reply:
    profile, early = DATA_EXPORT.customer(ctx)
    if early is not None:
        return early
    assert profile is not None
    by_system: dict[str, list[str]] = defaultdict(list)
    for name, prov in profile.fields.items():
        words = FIELD_WORDS.get(name) or name.replace(".", " ").replace("_", " ")
        by_system[prov.system].append(words)
    reply = Reply()
    reply.say("utter_data_held_intro")
    for system in ("crm", "marketing", "commerce", "contact_centre", "tandem", "derived"):
        items = sorted(set(by_system.get(system, [])))
        if items:
            reply.say(f"utter_data_held_{system}", items=join_words(items))
    reply.say(
        "utter_data_held_counts",
        orders=_count(len(profile.orders), "order", "orders"),
        refunds=_count(len(profile.refunds), "refund", "refunds"),
        invoices=_count(len(profile.invoices), "invoice", "invoices"),
        conversations=_count(len(profile.tickets), "past conversation", "past conversations"),
    )
    reply.use("profile_summary", "derived")
    others = [r for r in profile.open_requests() if r.kind != "data_export"]
    if others:
        reply.say("utter_open_requests", requests=join_words([_request_words(r) for r in others[:6]]))
    # a full copy is a request that leaves the building: say where it goes and wait for a yes
    email = mask_email(profile.email)
    reply.say("utter_confirm_data_export_with_email" if email else "utter_confirm_data_export", email=email)
    return DATA_EXPORT.ask(reply)


async def confirm_data_export(ctx: Context, pending: Mapping[str, Any]) -> Reply:
    """The customer said yes to a full copy of their data: record the data export."""
    profile, early = DATA_EXPORT.customer(ctx)
    if early is not None:
        return early
    assert profile is not None
    reference, failed = await start_request(ctx, "data_export")
    if failed is not None:
        return failed
    reply = Reply()
    reply.say("utter_data_export_requested", reference=reference)
    reply.add_statement(ctx.statement(Case("data_export", facts={"email": mask_email(profile.email)})))
    return reply


def _count(n: int, one: str, many: str) -> str:
    """A count-aware variable ("1 order", "3 orders"): the count decides the noun, not a template."""
    return f"{n} {one if n == 1 else many}"


def _request_words(request) -> str:  # type: ignore[no-untyped-def]
    words = REQUEST_WORDS.get(request.kind, request.kind.replace("_", " "))
    order = f" for order {request.order_id}" if request.order_id else ""
    return f"{words}{order} ({request.reference}, {request.state.replace('_', ' ')})"


async def forget_me(ctx: Context) -> Reply:
    _profile, early = ERASURE.customer(ctx)
    if early is not None:
        return early
    # erasure cannot be undone: say what it deletes, what the law makes us keep, and wait for a yes
    return ERASURE.ask(Reply().say("utter_confirm_erasure"))


async def confirm_erasure(ctx: Context, pending: Mapping[str, Any]) -> Reply:
    """The customer said yes to erasure: record the erasure request."""
    profile, early = ERASURE.customer(ctx)
    if early is not None:
        return early
    assert profile is not None
    ok, result = await ctx.gateway.write_result("erasure request", "request_erasure", profile.customer_id, ctx.turn.conversation_id)
    if not ok:
        return unavailable("utter_unavailable_forget_me_not_recorded")
    reference = None
    for attr in ("request_id", "reference", "id"):
        value = getattr(result, attr, None)
        if value:
            reference = str(value)
            break
    if reference is None and isinstance(result, (str, int)):
        reference = str(result)
    if reference:
        reference = short_reference(reference)  # one reference format for every request
    reply = Reply()
    reply.slots["personalisation_allowed"] = False
    reply.slots["customer_name"] = None
    reply.say("utter_erasure_started")
    if invoices_kept(i.issued_at for i in profile.invoices):  # what the law keeps, and why
        reply.say("utter_erasure_what_is_kept_invoices", years=INVOICE_RETENTION_YEARS)
    else:
        reply.say("utter_erasure_nothing_kept")
    reply.add_statement(ctx.statement(Case("erasure", facts={"reference": reference})))
    return reply
