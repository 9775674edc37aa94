"""Complaints and reviews (stored against the profile, visible to agents) and the newsletter."""

from __future__ import annotations

import re

from bot.actions_support.common import ask_identity, unavailable
from bot.actions_support.conversation import Context, Reply, mask_email
from bot.actions_support.precision import interests, may_suggest
from bot.processes.render import join_words
from bot.processes.statement import Case
from bot.profile.model import short_reference

__all__ = ["record_complaint", "record_review", "newsletter", "wants_unsubscribe"]

MAX_FEEDBACK_CHARS = 4000
#: how choices made in the chat are labelled in the profile store
CHAT_SOURCE = "customer via chat"


def _reference(result: object) -> str | None:
    """The short reference (``R-1A2B3C4D``, the one format every request is quoted in)."""
    for attr in ("feedback_id", "id", "reference"):
        value = getattr(result, attr, None)
        if value:
            return short_reference(str(value))
    return short_reference(str(result)) if isinstance(result, (str, int)) and str(result) else None


async def _record(ctx: Context, kind: str, pending: str) -> tuple[str | None, Reply | None]:
    text = (ctx.turn.slot("feedback_text") or "").strip()
    if not text:
        return None, Reply().say("utter_feedback_not_caught")
    if ctx.unavailable:
        return None, unavailable(f"utter_unavailable_{kind}")
    profile = ctx.profile
    if profile is None:
        return None, ask_identity(ctx, pending, kind)
    ok, result = await ctx.gateway.write_result(
        f"record {kind}", "record_feedback", profile.customer_id, kind, text[:MAX_FEEDBACK_CHARS], ctx.turn.conversation_id
    )
    if not ok:
        return None, unavailable(f"utter_not_saved_{kind}")
    return _reference(result) or "", None


async def record_complaint(ctx: Context) -> Reply:
    reference, early = await _record(ctx, "complaint", "action_record_complaint")
    if early is not None:
        return early
    reply = Reply()
    reply.slots["feedback_text"] = None
    reply.say("utter_complaint_recorded")
    reply.use("customer_record_complaint", "crm")
    reply.add_statement(ctx.statement(Case("complaint", facts={"reference": reference})))
    return reply


async def record_review(ctx: Context) -> Reply:
    reference, early = await _record(ctx, "review", "action_record_review")
    if early is not None:
        return early
    reply = Reply()
    reply.slots["feedback_text"] = None
    reply.say("utter_review_recorded")
    return reply


_UNSUBSCRIBE = re.compile(r"\b(un-?subscribe|unsub|opt[ -]?out|stop|cancel|remove|no more|leave)\b", re.I)


def wants_unsubscribe(text: str) -> bool:
    return bool(_UNSUBSCRIBE.search(text or ""))


async def newsletter(ctx: Context) -> Reply:
    """Subscribe (the request is the consent) or unsubscribe, and persist it."""
    unsubscribe = wants_unsubscribe(ctx.turn.text)
    if ctx.unavailable:
        return unavailable("utter_unavailable_newsletter")
    profile = ctx.profile
    if profile is None:
        return ask_identity(ctx, "action_newsletter", "newsletter_unsubscribe" if unsubscribe else "newsletter_subscribe")
    ok = await ctx.gateway.write(
        "marketing consent", "set_marketing_consent", profile.customer_id, not unsubscribe, source=CHAT_SOURCE
    )
    if not ok:
        return unavailable("utter_unavailable_newsletter_unchanged")
    reply = Reply()
    email = mask_email(profile.email)
    reply.use("email_newsletter", ctx.system_of("emails", "crm"))
    if unsubscribe:
        reply.say("utter_newsletter_unsubscribed")
        reply.add_statement(ctx.statement(Case("newsletter", "unsubscribe", facts={"email": email})))
    else:
        reply.say("utter_newsletter_subscribed")
        topics = interests(ctx) if may_suggest(ctx, marketing_consent=True) else []
        if topics:
            reply.use("own_order_categories", "commerce")
            reply.say("utter_newsletter_topics", topics=join_words(topics, "and"))
        reply.add_statement(ctx.statement(Case("newsletter", "subscribe", facts={"email": email})))
    return reply
