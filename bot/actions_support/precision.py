"""Precision, not creepiness: what the bot may suggest, and to whom.

A suggestion is only made when the customer allows personalisation, may
receive marketing, and has no sensitive circumstance on record; it is built
from the categories they bought *for themselves* (gift purchases never shape
preferences) and never repeats what they have just bought (no cross-sell of a
category bought in the past 30 days). The bot says why it suggests it.
"""

from __future__ import annotations

from bot.actions_support.conversation import Context

__all__ = ["interests", "may_suggest"]


def may_suggest(ctx: Context, marketing_consent: bool | None = None) -> bool:
    """``marketing_consent`` overrides the stored consent when the customer has just given it."""
    profile = ctx.profile
    if profile is None or not ctx.personalise or ctx.sensitive:
        return False
    suppressions = profile.suppressions
    if "no_cross_sell" in suppressions:
        return False
    if marketing_consent is None:
        return profile.marketing_allowed
    # consent given just now: only a suppression other than missing consent still applies
    reasons = suppressions.get("no_marketing", "")
    blocking = [r for r in reasons.split("; ") if r and r not in ("no marketing consent", "unsubscribed")]
    return marketing_consent and not blocking


def interests(ctx: Context) -> list[str]:
    """The customer's own preferred categories, minus gifts and what was just bought."""
    profile = ctx.profile
    if profile is None:
        return []
    suppressed = profile.suppressions
    return [
        c
        for c in profile.preferred_categories
        if f"preference:{c}" not in suppressed and f"cross_sell:{c}" not in suppressed
    ]
