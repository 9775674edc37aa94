"""Real conversations with the trained assistant, in-process (rasa.core.agent.Agent),
with the real action server running beside it."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from rasa.core.agent import Agent, load_agent
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.utils.endpoints import EndpointConfig

from bot.settings import Settings

pytestmark = pytest.mark.slow


class Conversation:
    """One customer talking to an in-process agent; returns what the bot did per message."""

    def __init__(self, driver: "AgentDriver") -> None:
        self.driver = driver
        self.sender = f"test-{uuid.uuid4().hex[:12]}"

    def say(self, text: str) -> "Turn":
        return self.driver.run(self._say(text))

    async def _say(self, text: str) -> "Turn":
        agent = self.driver.agent
        replies = await agent.handle_text(text, sender_id=self.sender)
        tracker = await agent.tracker_store.retrieve(self.sender)
        assert tracker is not None
        events = list(tracker.events)
        last_user = max(i for i, e in enumerate(events) if isinstance(e, UserUttered))
        user = events[last_user]
        actions = [
            e.action_name for e in events[last_user + 1:]
            if isinstance(e, ActionExecuted) and e.action_name not in ("action_listen", None)
        ]
        return Turn(intent=user.intent.get("name"), actions=actions,
                    texts=[r.get("text", "") for r in replies], slots=tracker.current_slot_values())


class Turn:
    def __init__(self, intent: str | None, actions: list[str], texts: list[str], slots: dict) -> None:
        self.intent, self.actions, self.texts, self.slots = intent, actions, texts, slots

    def __repr__(self) -> str:
        return f"Turn(intent={self.intent!r}, actions={self.actions!r}, texts={self.texts!r})"


class AgentDriver:
    def __init__(self, loop: asyncio.AbstractEventLoop, agent: Agent) -> None:
        self.loop, self.agent = loop, agent

    def run(self, coroutine):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(coroutine)


@pytest.fixture(scope="module")
def driver(trained_model: Path, action_server: Settings) -> Iterator[AgentDriver]:
    loop = asyncio.new_event_loop()
    agent = loop.run_until_complete(
        load_agent(model_path=str(trained_model),
                   action_endpoint=EndpointConfig(url=action_server.action_server_url))
    )
    yield AgentDriver(loop, agent)
    loop.close()


@pytest.mark.parametrize(
    ("text", "intent", "action"),
    [
        ("hey, good morning", "greet", "utter_greet"),
        ("are you a real person or a program", "bot_challenge", "utter_iamabot"),
        ("what payment options can i use", "check_payment_methods", "utter_payment_methods"),
        ("how long do i have to send something back for a refund", "check_refund_policy", "utter_refund_policy"),
        ("i forgot the password to my account", "recover_password", "utter_recover_password"),
        ("do you deliver to switzerland", "delivery_options", "utter_delivery_options"),
        ("who won the football world cup in 1966", "out_of_scope", "utter_out_of_scope"),
    ],
)
def test_single_turn_answers(driver: AgentDriver, text: str, intent: str, action: str) -> None:
    turn = Conversation(driver).say(text)
    assert turn.intent == intent, turn
    assert turn.actions[:1] == [action], turn
    assert all(t and "{" not in t and "None" not in t for t in turn.texts), turn


def test_form_asks_for_the_order_number_once_and_answers_with_it(driver: AgentDriver) -> None:
    conversation = Conversation(driver)
    first = conversation.say("where is my parcel")
    assert first.actions == ["track_order_form"], first
    assert any("order number" in t for t in first.texts), first
    second = conversation.say("it is 40512398")
    assert second.slots["order_id"] == "40512398", second
    assert second.actions[-1] == "utter_track_order", second
    assert any("40512398" in t for t in second.texts), second


def test_an_order_number_given_up_front_is_not_asked_for_again(driver: AgentDriver) -> None:
    turn = Conversation(driver).say("i want a refund for order 731245566 please")
    assert turn.intent == "get_refund", turn
    assert turn.slots["order_id"] == "731245566", turn
    assert turn.actions[-1] == "utter_get_refund", turn
    assert not any("order number" in t.lower() and "?" in t for t in turn.texts), turn


def test_cancellation_needs_confirmation_and_deny_keeps_the_order(driver: AgentDriver) -> None:
    conversation = Conversation(driver)
    asked = conversation.say("cancel order 40512398")
    assert asked.actions[-1] == "utter_confirm_cancel_order", asked
    kept = conversation.say("no, leave it")
    assert kept.intent == "deny" and kept.actions == ["utter_cancel_order_kept"], kept


def test_gibberish_gets_a_request_to_rephrase(driver: AgentDriver) -> None:
    turn = Conversation(driver).say("flurb wobbly skrrrt plonk")
    assert turn.intent == "nlu_fallback", turn
    assert turn.actions == ["utter_ask_rephrase"], turn
