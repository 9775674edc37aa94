"""Transparency and control: why my data, opt out, what you hold, forget me."""

from __future__ import annotations

from collections import defaultdict

from bot.actions_support.common import ask_identity, unavailable
from bot.actions_support.feedback import CHAT_SOURCE
from bot.actions_support.conversation import SYSTEM_NAMES, Context, Reply, mask_email
from bot.actions_support.process_requests import start_request
from bot.processes.render import join_words
from bot.processes.statement import Case

__all__ = ["why_my_data", "personalization_opt_out", "my_data_request", "forget_me", "FIELD_WORDS"]

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


def why_my_data(ctx: Context) -> Reply:
    reply = Reply()
    used = [u for u in (ctx.turn.slot("data_used") or []) if isinstance(u, str) and u.strip()]
    if used:
        reply.say("In this conversation I've used: {used}.", {"used": "; ".join(dict.fromkeys(used))})
        reply.say("Nothing else, and only for what you asked.")
    else:
        reply.say("So far in this conversation I haven't used any of your personal data.")
    reply.say(
        "I only use what a request needs, for example your order history to find a parcel you ask about. "
        'Say "what data do you hold" for a summary by system, or "stop personalising" if you\'d like me to use '
        "only what each request strictly needs."
    )
    return reply


async def personalization_opt_out(ctx: Context) -> Reply:
    reply = Reply()
    reply.slots["personalisation_allowed"] = False
    reply.slots["customer_name"] = None
    reply.say(
        "Done: from now on I'll only use the data a request strictly needs (for example the order you ask "
        "about): no greeting by name, no suggestions based on your history."
    )
    if ctx.unavailable:
        reply.say(
            "I couldn't save it to your account just now, so it applies to this conversation; "
            "please ask again later to make it permanent."
        )
        reply.unavailable = True
        reply.slots["data_unavailable"] = True
        return reply
    profile = ctx.profile
    if profile is None:
        reply.say(
            "It applies to this conversation. To keep it for the future I need to know your account: "
            "what's your e-mail address or an order number?"
        )
        reply.slots["pending_action"] = "action_personalization_opt_out"
        reply.slots["identity_asked"] = True
        return reply
    ok = await ctx.gateway.write(
        "personalisation opt-out", "set_personalisation", profile.customer_id, False, source=CHAT_SOURCE
    )
    if ok:
        reply.say("It's saved to your account, so it applies to future conversations too. You can switch it back on under Account > Privacy.")
    else:
        reply.say("I couldn't save it to your account just now, so it applies to this conversation; please ask again later.")
        reply.unavailable = True
        reply.slots["data_unavailable"] = True
    return reply


async def my_data_request(ctx: Context) -> Reply:
    if ctx.unavailable:
        return unavailable("what we hold about you", "You can also download it under Account > Privacy.")
    profile = ctx.profile
    if profile is None:
        return ask_identity(ctx, "action_my_data_request", "tell you what we hold about you")
    by_system: dict[str, list[str]] = defaultdict(list)
    for name, prov in profile.fields.items():
        words = FIELD_WORDS.get(name) or name.replace(".", " ").replace("_", " ")
        by_system[prov.system].append(words)
    counts = {
        "orders": len(profile.orders),
        "refunds": len(profile.refunds),
        "invoices": len(profile.invoices),
        "conversations": len(profile.tickets),
    }
    reply = Reply()
    reply.say("Here's what we hold about you, by system:")
    for system in ("crm", "marketing", "commerce", "contact_centre", "tandem", "derived"):
        items = sorted(set(by_system.get(system, [])))
        if items:
            reply.messages.append(f"- {SYSTEM_NAMES[system][0].upper()}{SYSTEM_NAMES[system][1:]}: {join_words(items)}.")
    reply.say(
        "In numbers: {orders} orders, {refunds} refunds, {invoices} invoices and {conversations} past conversations.",
        counts,
    )
    reply.use("a summary of your profile", "derived", "to answer your data request")
    others = [r for r in profile.open_requests() if r.kind != "data_export"]
    if others:
        reply.say(
            "Requests you've made that our team is still working on: {requests}.",
            {"requests": join_words([_request_words(r) for r in others[:6]])},
        )
    reference, failed = await start_request(
        ctx,
        "data_export",
        what="a request for a full copy of your data",
        fallback="You can also download your data under Account > Privacy.",
    )
    if failed is not None:
        return reply.extend(failed)
    reply.say("For a full copy, I've asked for a data export[[ (reference {reference})]]:", {"reference": reference})
    reply.add_statement(ctx.statement(Case("data_export", facts={"email": mask_email(profile.email)})))
    return reply


def _request_words(request) -> str:  # type: ignore[no-untyped-def]
    words = REQUEST_WORDS.get(request.kind, request.kind.replace("_", " "))
    order = f" for order {request.order_id}" if request.order_id else ""
    return f"{words}{order} ({request.reference}, {request.state.replace('_', ' ')})"


async def forget_me(ctx: Context) -> Reply:
    if ctx.unavailable:
        return unavailable(
            "your account",
            "Your request isn't lost: please ask again shortly, or write to our privacy team via the contact form.",
        )
    profile = ctx.profile
    if profile is None:
        return ask_identity(ctx, "action_forget_me", "start the erasure of your personal data")
    ok, result = await ctx.gateway.write_result("erasure request", "request_erasure", profile.customer_id, ctx.turn.conversation_id)
    if not ok:
        return unavailable(
            "your account",
            "I couldn't record the erasure request just now; please ask again shortly, or say \"agent\".",
        )
    reference = None
    for attr in ("request_id", "reference", "id"):
        value = getattr(result, attr, None)
        if value:
            reference = str(value)
            break
    if reference is None and isinstance(result, (str, int)):
        reference = str(result)
    reply = Reply()
    reply.slots["personalisation_allowed"] = False
    reply.slots["customer_name"] = None
    reply.say("I've started an erasure request for your personal data. Marketing stops straight away.")
    reply.add_statement(ctx.statement(Case("erasure", facts={"reference": reference})))
    return reply
