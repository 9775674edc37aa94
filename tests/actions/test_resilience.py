"""The profile store down, unbuilt or slow: honest answers, flagged conversations, no crash."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path
from typing import Any

import pytest

from actions.base import ProfileAction
from actions.orders import ActionTrackOrder
from bot.actions_support.conversation import Context, Reply
from bot.actions_support.runtime import build_services, use_services
from bot.processes.render import placeholder_problems
from bot.settings import Settings

from .conftest import Conversation, make_services
from .helpers import AMELIA, AMELIA_ORDER, IDENTITY_SECRET, all_actions


async def _open(url: str, timeout_s: float = 5.0):  # type: ignore[no-untyped-def]
    from bot.profile import ProfileRepository

    repo = ProfileRepository.from_url(url)
    use_services(make_services(repo, timeout_s=timeout_s))
    return repo


@pytest.fixture
async def down(tmp_path: Path):  # type: ignore[no-untyped-def]
    repo = await _open(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'profiles.db'}")
    yield repo
    use_services(None)
    await repo.close()
    await _collect_failed_connections()


async def _settle() -> None:
    """Let aiosqlite worker threads of timed-out calls finish while the loop still runs.

    A call cut off by the time limit keeps running in its thread and reports back
    to the event loop; in the action server the loop lives on, in a test it must
    not close first.
    """
    await asyncio.sleep(0.3)


async def _collect_failed_connections() -> None:
    """aiosqlite stops the worker thread of a connection that failed to open when it is
    garbage-collected, and reports back to the event loop current at that moment: collect
    while this test's loop still runs, not during a later test."""
    gc.collect()
    await asyncio.sleep(0.02)


def _conversation(domain: dict[str, Any], intent: str) -> Conversation:
    conv = Conversation(domain)
    conv.slots.update({"order_id": AMELIA_ORDER, "invoice_id": "INV-0000001", "feedback_text": "late again", "cancel_confirmation": AMELIA_ORDER, "delete_confirmation": True})
    conv.say("hello", intent, {"email": "amelia.hart@example.com"}, metadata=AMELIA)
    return conv


ACTIONS = all_actions()


async def _all_actions_answer_honestly(domain: dict[str, Any]) -> None:
    for name, cls in sorted(ACTIONS.items()):
        conv = _conversation(domain, "track_order")
        messages = await conv.run(cls())
        assert messages and "utter_action_failed" not in conv.response_names, name
        assert all(placeholder_problems(m) == [] for m in messages), (name, messages)
        if cls.needs_profile:
            assert conv.slots["data_unavailable"] is True, name
            assert any("can't reach your account details" in m or "couldn't save" in m for m in messages), (name, messages)


@pytest.mark.parametrize(
    ("outage", "timeout_s"),
    [("missing directory", 5.0), ("database never built", 5.0), ("slow", 1e-6)],
)
async def test_every_action_answers_honestly_during_an_outage(  # type: ignore[no-untyped-def]
    domain, demo_db: Path, tmp_path: Path, outage: str, timeout_s: float
) -> None:
    """down: the file can't be opened; unbuilt: no tables; slow: the real store behind a
    time limit nothing can meet. One event loop for all actions of a kind."""
    url = {
        "missing directory": f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'profiles.db'}",
        "database never built": f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}",
        "slow": f"sqlite+aiosqlite:///{demo_db}",
    }[outage]
    repo = await _open(url, timeout_s=timeout_s)
    try:
        await _all_actions_answer_honestly(domain)
    finally:
        use_services(None)
        await _settle()
        await repo.close()
        await _collect_failed_connections()


async def test_outage_message_is_honest_and_offers_a_person(domain, down) -> None:  # type: ignore[no-untyped-def]
    conv = Conversation(domain)
    conv.say("where is my order", "track_order", metadata=AMELIA)
    messages = await conv.run(ActionTrackOrder())
    assert conv.response_names == ["utter_unavailable_order", "utter_unavailable_offer"]
    assert messages[0].startswith("I can't reach your account details right now, so I can't check your order")
    assert 'say "agent"' in messages[1]


async def test_a_bug_in_an_action_becomes_an_apology_not_a_crash(domain, services) -> None:  # type: ignore[no-untyped-def]
    class Broken(ProfileAction):
        def handle(self, ctx: Context) -> Reply:
            raise RuntimeError("boom")

    conv = Conversation(domain)
    conv.say("hi", "greet")
    await conv.run(Broken())
    assert conv.response_names == ["utter_action_failed"]
    assert conv.slots["data_unavailable"] is True


async def test_services_from_settings_with_an_unreachable_database(domain, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings.from_env(
        {"TANDEM_VAR_DIR": str(tmp_path), "TANDEM_PROFILE_DB_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/none", "RASA_TOKEN": "t", "TANDEM_PROFILE_TIMEOUT_S": "2", "TANDEM_IDENTITY_SECRET": IDENTITY_SECRET}
    )
    services = build_services(settings)
    use_services(services)
    try:
        conv = Conversation(domain)
        conv.say("where is my order", "track_order", metadata=AMELIA)
        messages = await conv.run(ActionTrackOrder())
        assert "can't reach your account details" in messages[0]
    finally:
        use_services(None)
        await services.gateway.store.close()


def test_services_take_holidays_and_identity_secret_from_settings(tmp_path: Path) -> None:
    import dataclasses
    import datetime as dt

    holidays = tmp_path / "holidays.yml"
    holidays.write_text("- 2026-11-24\n")

    @dataclasses.dataclass(frozen=True)
    class Extended:  # the Settings fields these hooks expect once the lead adds them
        profile_db_url: str
        profile_timeout_s: float
        holidays_file: str
        identity_secret: str

    services = build_services(Extended(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}", 1.0, str(holidays), "k"))
    assert services.catalogue.calendar.holidays == frozenset({dt.date(2026, 11, 24)})
    assert services.identity_secret == "k"
    asyncio.run(services.gateway.store.close())
