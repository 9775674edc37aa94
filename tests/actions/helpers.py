"""Assertions shared by the action tests."""

from __future__ import annotations

from bot.processes.render import placeholder_problems
from bot.processes.statement import LABEL_HOW_LONG, LABEL_NEXT, LABEL_RISK

AMELIA = {"customer": {"verified_email": "amelia.hart@example.com"}}  # dispatched order, expired card
BEN = {"customer": {"verified_email": "ben.okafor@example.net"}}  # approved card refund
CHLOE = {"customer": {"verified_email": "chloe.martin@example.com"}}  # open complaint, old orders
EMMA = {"customer": {"verified_email": "emma.wilson@example.org"}}  # recent gift order
JACK = {"customer": {"verified_email": "jack.turner@example.net"}}  # stale CRM record
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
