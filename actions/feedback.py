"""Complaint and review capture (stored against the profile) and the newsletter."""

from __future__ import annotations

from actions.base import ProfileAction
from bot.actions_support import feedback
from bot.actions_support.conversation import Context, Reply


class ActionRecordComplaint(ProfileAction):
    action_name = "action_record_complaint"

    async def handle(self, ctx: Context) -> Reply:
        return await feedback.record_complaint(ctx)


class ActionRecordReview(ProfileAction):
    action_name = "action_record_review"

    async def handle(self, ctx: Context) -> Reply:
        return await feedback.record_review(ctx)


class ActionNewsletter(ProfileAction):
    action_name = "action_newsletter"

    async def handle(self, ctx: Context) -> Reply:
        return await feedback.newsletter(ctx)
