"""Complaints and reviews (stored against the profile, visible to agents) and the newsletter."""

from __future__ import annotations

import re

from bot.actions_support.common import ask_identity, unavailable
from bot.actions_support.conversation import Context, Reply, mask_email
from bot.actions_support.precision import interests, may_suggest
from bot.processes.render import join_words
from bot.processes.statement import Case

__all__ = ["record_complaint", "record_review", "newsletter", "wants_unsubscribe"]

MAX_FEEDBACK_CHARS = 4000
#: how choices made in the chat are labelled in the profile store
CHAT_SOURCE = "customer via chat"


def _reference(result: object) -> str | None:
    for attr in ("feedback_id", "id", "reference"):
        value = getattr(result, attr, None)
        if value:
            return str(value)
    return str(result) if isinstance(result, (str, int)) and str(result) else None


async def _record(ctx: Context, kind: str, pending: str) -> tuple[str | None, Reply | None]:
    text = (ctx.turn.slot("feedback_text") or "").strip()
    if not text:
        reply = Reply()
        reply.say("I didn't catch what you'd like to tell us. Could you write it in one message?")
        return None, reply
    if ctx.unavailable:
        return None, unavailable(
            "your account",
            f"I couldn't save your {kind} just now, so nothing is lost: please send it again in a few minutes.",
        )
    profile = ctx.profile
    if profile is None:
        return None, ask_identity(ctx, pending, f"put your {kind} on record for our team")
    ok, result = await ctx.gateway.write_result(
        f"record {kind}", "record_feedback", profile.customer_id, kind, text[:MAX_FEEDBACK_CHARS], ctx.turn.conversation_id
    )
    if not ok:
        return None, unavailable(
            "your account",
            f"I couldn't save your {kind} just now. Please send it again in a few minutes, or ask for an agent.",
        )
    return _reference(result) or "", None


async def record_complaint(ctx: Context) -> Reply:
    reference, early = await _record(ctx, "complaint", "action_record_complaint")
    if early is not None:
        return early
    reply = Reply()
    reply.slots["feedback_text"] = None
    reply.say("I'm sorry about this. Your complaint is on record and our customer care team can see it.")
    reply.use("your customer record", "crm", "to put the complaint on file so nobody asks you again")
    reply.add_statement(ctx.statement(Case("complaint", facts={"reference": reference})))
    return reply


async def record_review(ctx: Context) -> Reply:
    reference, early = await _record(ctx, "review", "action_record_review")
    if early is not None:
        return early
    reply = Reply()
    reply.slots["feedback_text"] = None
    reply.say("Thank you, your review is recorded. Reviews are checked and published within 2 working days.")
    return reply


_UNSUBSCRIBE = re.compile(r"\b(un-?subscribe|unsub|opt[ -]?out|stop|cancel|remove|no more|leave)\b", re.I)


def wants_unsubscribe(text: str) -> bool:
    return bool(_UNSUBSCRIBE.search(text or ""))


async def newsletter(ctx: Context) -> Reply:
    """Subscribe (the request is the consent) or unsubscribe, and persist it."""
    unsubscribe = wants_unsubscribe(ctx.turn.text)
    if ctx.unavailable:
        return unavailable(
            "your newsletter settings",
            "You can also change them under Account > Communication preferences, or with the link in any newsletter.",
        )
    profile = ctx.profile
    if profile is None:
        what = "take you off the newsletter" if unsubscribe else "sign you up for the newsletter"
        return ask_identity(ctx, "action_newsletter", what)
    ok = await ctx.gateway.write(
        "marketing consent", "set_marketing_consent", profile.customer_id, not unsubscribe, source=CHAT_SOURCE
    )
    if not ok:
        return unavailable(
            "your newsletter settings",
            "Nothing was changed. You can also do it under Account > Communication preferences.",
        )
    reply = Reply()
    email = mask_email(profile.email)
    reply.use("your e-mail address", ctx.system_of("emails", "crm"), "to change your newsletter subscription")
    if unsubscribe:
        reply.say("Done: you're off the newsletter.")
        reply.add_statement(ctx.statement(Case("newsletter", "unsubscribe", facts={"email": email})))
    else:
        reply.say("Thanks for subscribing. We only send it because you asked, and you can leave at any time.")
        topics = interests(ctx) if may_suggest(ctx, marketing_consent=True) else []
        if topics:
            reply.use("the categories of your own past orders (not gifts)", "commerce", "to suggest newsletter topics")
            reply.say(
                "You can pick topics in the first e-mail; going by what you've bought for yourself, {topics} "
                "might interest you.",
                {"topics": join_words(topics, "and")},
            )
        reply.add_statement(ctx.statement(Case("newsletter", "subscribe", facts={"email": email})))
    return reply
