"""Assertions shared by the action tests."""

from __future__ import annotations

from typing import Any

from bot import identity_token
from bot.processes.render import placeholder_problems

LABEL_NEXT, LABEL_HOW_LONG, LABEL_RISK = "What happens next", "How long", "If something goes wrong"

#: the secret the test services verify the widget's identity tokens with
IDENTITY_SECRET = "test-identity-secret-for-the-action-tests-only"


def signed(email: str) -> dict[str, Any]:
    """Message metadata as the website widget sends it: a signed identity token for ``email``."""
    token = identity_token.issue(IDENTITY_SECRET, f"site:{email}", email=email, ttl_s=24 * 3600)
    return {identity_token.METADATA_KEY: token}


def signed_phone(phone: str) -> dict[str, Any]:
    """Message metadata with a signed identity token naming a phone number."""
    token = identity_token.issue(IDENTITY_SECRET, f"site:{phone}", phone=phone, ttl_s=24 * 3600)
    return {identity_token.METADATA_KEY: token}


AMELIA = signed("amelia.hart@example.com")  # dispatched order, expired card
BEN = signed("ben.okafor@example.net")  # approved card refund
CHLOE = signed("chloe.martin@example.com")  # open complaint, old orders
EMMA = signed("emma.wilson@example.org")  # recent gift order
JACK = signed("jack.turner@example.net")  # stale CRM record
IAN = signed_phone("+12025550143")  # new US customer
IAN_ORDER = "4000000901"  # processing order to the US
AMELIA_ORDER = "4000000101"  # dispatched with DPD, promised Wednesday 25 November


def three_parts(messages: list[str]) -> str:
    """The statement among ``messages``; fails unless all three parts are there."""
    for message in messages:
        if message.startswith(f"{LABEL_NEXT}: "):
            lines = message.split("\n")
            assert len(lines) == 3, message
            assert lines[1].startswith(f"{LABEL_HOW_LONG}: ") and len(lines[1]) > len(LABEL_HOW_LONG) + 4
            assert lines[2].startswith(f"{LABEL_RISK}: ") and len(lines[2]) > len(LABEL_RISK) + 4
            return message
    raise AssertionError(f"no three-part statement in {messages!r}")


def clean(messages: list[str]) -> None:
    assert messages, "the action said nothing"
    for message in messages:
        assert placeholder_problems(message) == [], message


def all_actions() -> dict[str, type]:
    """Every concrete business action of the ``actions`` package, by name (as rasa-sdk finds them)."""
    import importlib
    import inspect
    import pkgutil

    import actions
    from actions.base import ProfileAction

    for module in pkgutil.iter_modules(actions.__path__):
        importlib.import_module(f"actions.{module.name}")
    found: dict[str, type] = {}
    stack = list(ProfileAction.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if not inspect.isabstract(cls) and cls.action_name:
            found[cls.action_name] = cls
    return found


def latest_code(outbox: Any, to: str | None = None) -> str:
    """The newest one-time code in the embedded set-up's outbox (what the customer reads)."""
    from bot.actions_support.code_sender import read_outbox

    messages = read_outbox(outbox, to)
    assert messages, f"no code was sent{f' to {to}' if to else ''}"
    return messages[-1]["code"]


async def type_code(conversation: Any, outbox: Any, to: str | None = None) -> list[str]:
    """The customer types the code they received; runs action_identify_customer and what it resumes."""
    from actions.identity import ActionIdentifyCustomer

    code = latest_code(outbox, to)
    conversation.say(code, "inform", {"one_time_code": code})
    return await conversation.run_and_follow(ActionIdentifyCustomer())
