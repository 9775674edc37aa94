"""Account actions: create, delete (check + confirm), edit, switch, password, sign-up problems."""

from __future__ import annotations

from actions.base import ProfileAction
from bot.actions_support import account
from bot.actions_support.conversation import Context, Reply


class ActionCreateAccount(ProfileAction):
    action_name = "action_create_account"

    def handle(self, ctx: Context) -> Reply:
        return account.create_account(ctx)


class ActionCheckDeleteAccount(ProfileAction):
    action_name = "action_check_delete_account"

    def handle(self, ctx: Context) -> Reply:
        return account.check_delete_account(ctx)


class ActionDeleteAccount(ProfileAction):
    action_name = "action_delete_account"

    async def handle(self, ctx: Context) -> Reply:
        return await account.delete_account(ctx)


class ActionKeepAccount(ProfileAction):
    action_name = "action_keep_account"
    needs_profile = False

    def handle(self, ctx: Context) -> Reply:
        return account.keep_account(ctx)


class ActionEditAccount(ProfileAction):
    action_name = "action_edit_account"

    def handle(self, ctx: Context) -> Reply:
        return account.edit_account(ctx)


class ActionRecoverPassword(ProfileAction):
    action_name = "action_recover_password"

    async def handle(self, ctx: Context) -> Reply:
        return await account.recover_password(ctx)


class ActionRegistrationProblems(ProfileAction):
    action_name = "action_registration_problems"

    def handle(self, ctx: Context) -> Reply:
        return account.registration_problems(ctx)


class ActionSwitchAccount(ProfileAction):
    action_name = "action_switch_account"

    def handle(self, ctx: Context) -> Reply:
        return account.switch_account(ctx)
