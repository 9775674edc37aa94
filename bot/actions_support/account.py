"""Account actions: create, delete, edit, switch, password recovery, sign-up problems."""

from __future__ import annotations

from bot.actions_support.common import ask_identity, unavailable
from bot.actions_support.conversation import Context, Reply, mask_email
from bot.actions_support.process_requests import start_request
from bot.processes.statement import Case

__all__ = [
    "create_account",
    "check_delete_account",
    "delete_account",
    "keep_account",
    "edit_account",
    "recover_password",
    "registration_problems",
    "switch_account",
]


def create_account(ctx: Context) -> Reply:
    reply = Reply()
    profile = ctx.profile
    if profile is not None and profile.account.status not in (None, "closed"):
        reply.use("your account status", ctx.system_of("account", "commerce"), "to see whether you already have an account")
        reply.say(
            "You already have an account with us[[ under {email}]], so there's no need for a new one. "
            'If you can\'t sign in, use "Forgot password" on the sign-in page.',
            {"email": mask_email(profile.email)},
        )
        return reply
    reply.say("You can open an account on our website or app with your name, e-mail address and a password.")
    reply.add_statement(ctx.statement(Case("account_creation")))
    return reply


def check_delete_account(ctx: Context) -> Reply:
    if ctx.unavailable:
        return unavailable("your account", "Nothing has been changed.")
    profile = ctx.profile
    if profile is None:
        return ask_identity(ctx, "action_check_delete_account", "close your account")
    reply = Reply()
    open_items = len(profile.open_orders()) + len(profile.open_returns()) + len(profile.open_refunds())
    reply.use("your open orders, returns and refunds", "commerce", "to tell you what closing the account waits for")
    reply.say(
        "Closing your account removes your saved addresses, wish lists and access to your order history."
    )
    if open_items:
        reply.say(
            "You have {n} open order, return or refund; the account closes once {it} finished.",
            {"n": open_items, "it": "it's" if open_items == 1 else "they're"},
        )
    reply.say("Shall I start closing your account?")
    reply.slots["delete_confirmation"] = True
    return reply


async def delete_account(ctx: Context) -> Reply:
    reply = Reply()
    if not ctx.turn.slot("delete_confirmation"):
        reply.say("There's nothing waiting for your confirmation.")
        return reply
    reply.slots["delete_confirmation"] = None
    if ctx.unavailable:
        return unavailable("your account", "Nothing has been changed.")
    profile = ctx.profile
    if profile is None:
        return ask_identity(ctx, "action_check_delete_account", "close your account")
    reference, failed = await start_request(
        ctx,
        "account_deletion",
        what="the closing of your account",
        fallback="Your account is unchanged: please ask again in a few minutes.",
    )
    if failed is not None:
        return failed
    reply.say("I've started closing your account[[ (reference {reference})]].", {"reference": reference})
    reply.add_statement(ctx.statement(Case("account_deletion", facts={"email": mask_email(profile.email)})))
    reply.use("your e-mail address", ctx.system_of("emails", "crm"), "to send the confirmation link")
    return reply


def keep_account(ctx: Context) -> Reply:
    reply = Reply()
    reply.slots["delete_confirmation"] = None
    reply.say("No problem, your account stays open.")
    return reply


def edit_account(ctx: Context) -> Reply:
    reply = Reply()
    reply.say(
        "You can change your name, e-mail address, phone number and password under Account > Profile. "
        "A new e-mail address needs confirming with the link we send to it."
    )
    profile = ctx.profile
    if profile is not None and ctx.personalise:
        stale = sorted(name for name, prov in profile.fields.items() if prov.stale and name in ("phones", "address", "emails"))
        if stale:
            words = {"phones": "phone number", "address": "address", "emails": "e-mail address"}
            reply.use("when your contact details were last updated", "crm", "to suggest what to check")
            reply.say(
                "Your {fields} {have} not been updated for a long time, so it's worth checking while you're there.",
                {"fields": " and ".join(words[s] for s in stale), "have": "have" if len(stale) > 1 else "has"},
            )
    return reply


async def recover_password(ctx: Context) -> Reply:
    """The reset itself is self-service; for a known customer the request is put on record, so an
    agent can unlock the account without asking again if the link never comes."""
    reply = Reply()
    email = mask_email(ctx.profile.email) if ctx.profile is not None else None
    if email:
        reply.use("your e-mail address", ctx.system_of("emails", "crm"), "to tell you where the reset link goes")
    if ctx.profile is not None:
        reference, failed = await start_request(
            ctx,
            "password_recovery",
            what="your request for help with your password",
            fallback='The "Forgot password" link on the sign-in page works without it.',
        )
        if failed is not None:
            reply.extend(failed)
        else:
            reply.say(
                "I've noted your request on your account[[ (reference {reference})]], so if the reset link doesn't "
                "arrive, an agent can help you straight away without asking you everything again.",
                {"reference": reference},
            )
    reply.add_statement(ctx.statement(Case("password_recovery", facts={"email": email})))
    return reply


def registration_problems(ctx: Context) -> Reply:
    reply = Reply()
    profile = ctx.profile
    if profile is not None:
        reply.use("your account", ctx.system_of("account", "commerce"), "to check whether you're already registered")
        reply.say(
            "You're already registered[[ as {email}]], which is why sign-up doesn't work: "
            'use "Forgot password" on the sign-in page instead.',
            {"email": mask_email(profile.email)},
        )
        return reply
    reply.say(
        "Sorry the sign-up isn't working. The usual causes are an e-mail address that's already registered "
        '(then use "Forgot password"), a password shorter than 8 characters, or a confirmation e-mail caught by '
        'a spam filter. If none of those is it, tell me what the error says, or say "agent".'
    )
    return reply


def switch_account(ctx: Context) -> Reply:
    reply = Reply()
    profile = ctx.profile
    current = profile.account.type if profile is not None else None
    if current:
        reply.use("your account type", ctx.system_of("account", "crm"), "to tell you what you can switch to")
    reply.say("You have a {current} account.", {"current": current})
    reply.say(
        "You can switch account type (for example from a personal to a business account, or to premium "
        "membership) under Account > Membership; the change applies from your next billing date and you'll "
        "see any price difference before you confirm."
    )
    return reply
