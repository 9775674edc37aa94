"""``action_followup``: the bot speaks first when a process changes or stalls (Rasa external events)."""

from __future__ import annotations

from actions.base import ProfileAction
from bot.actions_support import proactive
from bot.actions_support.conversation import Context, Reply


class ActionFollowup(ProfileAction):
    action_name = "action_followup"

    def handle(self, ctx: Context) -> Reply:
        return proactive.follow_up(ctx)
