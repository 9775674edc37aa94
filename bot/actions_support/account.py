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
        reply.use("account_status", ctx.system_of("account", "commerce"))
        email = mask_email(profile.email)
        reply.say("utter_account_exists_with_email" if email else "utter_account_exists", email=email)
        return reply
    reply.say("utter_open_account")
    reply.add_statement(ctx.statement(Case("account_creation")))
    return reply


def check_delete_account(ctx: Context) -> Reply:
    if ctx.unavailable:
        return unavailable("utter_unavailable_account_unchanged")
    profile = ctx.profile
    if profile is None:
        return ask_identity(ctx, "action_check_delete_account", "close_account")
    reply = Reply()
    open_items = len(profile.open_orders()) + len(profile.open_returns()) + len(profile.open_refunds())
    reply.use("open_items", "commerce")
    reply.say("utter_closing_account_removes")
    if open_items == 1:
        reply.say("utter_closing_waits_for_one")
    elif open_items:
        reply.say("utter_closing_waits_for_many", n=open_items)
    reply.say("utter_confirm_close_account")
    reply.slots["delete_confirmation"] = True
    return reply


async def delete_account(ctx: Context) -> Reply:
    reply = Reply()
    if not ctx.turn.slot("delete_confirmation"):
        reply.say("utter_nothing_waiting_for_confirmation")
        return reply
    reply.slots["delete_confirmation"] = None
    if ctx.unavailable:
        return unavailable("utter_unavailable_account_unchanged")
    profile = ctx.profile
    if profile is None:
        return ask_identity(ctx, "action_check_delete_account", "close_account")
    reference, failed = await start_request(
        ctx,
        "account_deletion",
    )
    if failed is not None:
        return failed
    reply.say("utter_account_closing_started", reference=reference)
    reply.add_statement(ctx.statement(Case("account_deletion", facts={"email": mask_email(profile.email)})))
    reply.use("email_confirmation_link", ctx.system_of("emails", "crm"))
    return reply


def keep_account(ctx: Context) -> Reply:
    reply = Reply()
    reply.slots["delete_confirmation"] = None
    reply.say("utter_account_kept")
    return reply


def edit_account(ctx: Context) -> Reply:
    reply = Reply()
    reply.say("utter_edit_account")
    profile = ctx.profile
    if profile is not None and ctx.personalise:
        stale = [name for name in ("address", "emails", "phones") if (prov := profile.fields.get(name)) and prov.stale]
        if stale:
            reply.use("contact_details_age", "crm")
            reply.say(f"utter_stale_contact_details_{'_'.join(stale)}")
    return reply


async def recover_password(ctx: Context) -> Reply:
    """The reset itself is self-service; for a known customer the request is put on record, so an
    agent can unlock the account without asking again if the link never comes."""
    reply = Reply()
    email = mask_email(ctx.profile.email) if ctx.profile is not None else None
    if email:
        reply.use("email_reset_link", ctx.system_of("emails", "crm"))
    if ctx.profile is not None:
        reference, failed = await start_request(
            ctx,
            "password_recovery",
        )
        if failed is not None:
            reply.extend(failed)
        else:
            reply.say("utter_password_help_noted", reference=reference)
    reply.add_statement(ctx.statement(Case("password_recovery", facts={"email": email})))
    return reply


def registration_problems(ctx: Context) -> Reply:
    reply = Reply()
    profile = ctx.profile
    if profile is not None:
        reply.use("account_registration", ctx.system_of("account", "commerce"))
        email = mask_email(profile.email)
        reply.say("utter_already_registered_as" if email else "utter_already_registered", email=email)
        return reply
    reply.say("utter_registration_problems")
    return reply


def switch_account(ctx: Context) -> Reply:
    reply = Reply()
    profile = ctx.profile
    current = profile.account.type if profile is not None else None
    if current:
        reply.use("account_type", ctx.system_of("account", "crm"))
        reply.say("utter_current_account_type", current=current)
    reply.say("utter_switch_account")
    return reply
