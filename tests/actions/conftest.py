"""Fixtures for the action tests: a real SQLite profile store built by the profile
package's generator (its well-known demo customers included), the real domain,
and helpers that run an action with rasa_sdk's Tracker and CollectingDispatcher.

The store is built once per session and copied for every test, so tests that
write (feedback, consent, erasure) never see each other's changes.
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator, Iterable

import pytest

from bot.actions_support.gateway import ProfileGateway
from bot.actions_support.runtime import Services, use_services
from bot.processes.catalogue import default_catalogue
from bot.settings import ROOT

#: the generator's and the repository's "now" (naive UTC): Monday 23 November 2026, noon
NOW = dt.datetime(2026, 11, 23, 12, 0, 0)


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from bot.profile.build import build_demo, sync_engine

    path = tmp_path_factory.mktemp("profiles") / "profiles.db"
    engine = sync_engine(f"sqlite:///{path}")
    try:
        build_demo(engine, customers=40, seed=7, now=NOW)
    finally:
        engine.dispose()
    return path


@pytest.fixture
async def repo(demo_db: Path, tmp_path: Path) -> AsyncIterator[Any]:
    from bot.profile import ProfileRepository

    copy = tmp_path / "profiles.db"
    shutil.copyfile(demo_db, copy)
    ticks = itertools.count()
    # the store's clock moves one second per call, so "latest choice wins" has a latest
    repository = ProfileRepository.from_url(
        f"sqlite+aiosqlite:///{copy}", clock=lambda: NOW + dt.timedelta(seconds=next(ticks))
    )
    yield repository
    await repository.close()


def make_services(store: Any, timeout_s: float = 5.0, outbox: Path | None = None) -> Services:
    from bot.actions_support.code_sender import OutboxSender

    from .helpers import IDENTITY_SECRET

    return Services(
        gateway=ProfileGateway(store, timeout_s=timeout_s),
        catalogue=default_catalogue(),
        clock=lambda: NOW.replace(tzinfo=dt.timezone.utc),
        identity_secret=IDENTITY_SECRET,
        code_sender=OutboxSender(outbox) if outbox is not None else None,
    )


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    """Where the test services' one-time codes are delivered (the embedded set-up's outbox)."""
    return tmp_path / "outbox"


@pytest.fixture
def services(repo: Any, outbox: Path) -> Iterable[Services]:
    svc = make_services(repo, outbox=outbox)
    use_services(svc)
    yield svc
    use_services(None)


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    import warnings

    with warnings.catch_warnings():
        # pykwalify (Rasa's YAML schema checker) uses a deprecated importlib call
        warnings.filterwarnings("ignore", message=r"the load_module\(\) method is deprecated")
        from rasa.shared.core.domain import Domain

        return Domain.load(str(ROOT / "domain")).as_dict()


@dataclass
class Conversation:
    """A conversation driven through actions directly (no NLU, no policies).

    ``say`` appends a user message with its intent and entities (and fills the
    entity slots the way Rasa's slot mappings would); ``run`` executes an
    action with the current state and applies its SlotSet events.
    """

    domain: dict[str, Any]
    sender_id: str = "test-conversation"
    input_channel: str = "rest"
    slots: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    latest: dict[str, Any] = field(default_factory=dict)
    bot_messages: list[str] = field(default_factory=list)
    #: every response sent, as (response name, variables)
    responses: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    #: the latest run's events that were not slots (e.g. FollowupAction)
    other_events: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for name, spec in self.domain.get("slots", {}).items():
            self.slots.setdefault(name, spec.get("initial_value"))

    def say(
        self,
        text: str,
        intent: str,
        entities: dict[str, str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> "Conversation":
        ents = [{"entity": k, "value": v, "start": 0, "end": 0} for k, v in (entities or {}).items()]
        self.latest = {
            "text": text,
            "intent": {"name": intent, "confidence": 1.0},
            "entities": ents,
            "metadata": metadata or {},
        }
        self.events.append(
            {"event": "user", "text": text, "parse_data": self.latest, "input_channel": self.input_channel, "metadata": metadata or {}}
        )
        for k, v in (entities or {}).items():
            if k in self.slots:  # what Rasa's action_extract_slots does with entity mappings
                self.slots[k] = v
                self.events.append({"event": "slot", "name": k, "value": v})
        return self

    def tracker(self) -> Any:
        from rasa_sdk import Tracker

        return Tracker(
            sender_id=self.sender_id,
            slots=dict(self.slots),
            latest_message=self.latest,
            events=list(self.events),
            paused=False,
            followup_action=None,
            active_loop={},
            latest_action_name=None,
        )

    async def run(self, action: Any) -> list[str]:
        """Run ``action``; return its messages as the customer reads them.

        Responses are rendered by Rasa's own templated NLG from the domain
        with the conversation's slots and the variables the action passed,
        exactly as the Rasa server would; every message is checked for
        placeholders on the way.
        """
        from rasa_sdk.executor import CollectingDispatcher

        dispatcher = CollectingDispatcher()
        result = await action.run(dispatcher, self.tracker(), self.domain)
        # as Rasa logs it: the action ran (what a later "yes" answers), then its events
        self.events.append({"event": "action", "name": action.name()})
        slots_before = dict(self.slots)
        for event in result:
            if event.get("event") == "slot":
                self.slots[event["name"]] = event["value"]
        self.events.extend(result)
        self.other_events = [e for e in result if e.get("event") != "slot"]
        texts = []
        for message in dispatcher.messages:
            assert not message.get("text"), f"text sent instead of a domain response: {message}"
            name = message.get("response")
            variables = {k: v for k, v in message.items() if k not in _MESSAGE_KEYS and v is not None}
            self.responses.append((name, variables))
            texts.append(await render_response(name, variables, slots_before))
        self.bot_messages.extend(texts)
        return texts

    async def run_and_follow(self, action: Any) -> list[str]:
        """Run ``action`` and then, as Rasa would, the ``FollowupAction`` it asked for (if any)."""
        from .helpers import all_actions

        texts = await self.run(action)
        followup = self.followup()
        if followup:
            texts += await self.run(all_actions()[followup]())
        return texts

    @property
    def response_names(self) -> list[str]:
        return [name for name, _ in self.responses]

    def followup(self) -> str | None:
        """The action the latest run asked Rasa to run next (``FollowupAction``), if any."""
        for event in self.other_events:
            if event.get("event") == "followup":
                return event.get("name")
        return None


_MESSAGE_KEYS = {"text", "response", "buttons", "elements", "custom", "template", "image", "attachment", "json_message"}


def _rasa_domain() -> Any:
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"the load_module\(\) method is deprecated")
        from rasa.shared.core.domain import Domain

        return Domain.load(str(ROOT / "domain"))


_DOMAIN: Any = None


async def render_response(name: str, variables: dict[str, Any], slots: dict[str, Any] | None = None) -> str:
    """``name`` rendered by Rasa's TemplatedNaturalLanguageGenerator, as the Rasa server sends it.

    Fails if the domain lacks the response or the result shows a placeholder,
    ``None``, ``<<`` or nothing at all.
    """
    from rasa.core.channels.channel import OutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.events import SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.processes.render import placeholder_problems

    global _DOMAIN
    if _DOMAIN is None:
        _DOMAIN = _rasa_domain()
    assert name in _DOMAIN.responses, f"the domain has no response {name}"
    known = {s.name for s in _DOMAIN.slots}
    events = [SlotSet(k, v) for k, v in (slots or {}).items() if k in known and v is not None]
    tracker = DialogueStateTracker.from_events("render", events, _DOMAIN.slots)
    message = await TemplatedNaturalLanguageGenerator(_DOMAIN.responses).generate(
        name, tracker, OutputChannel.name(), **variables
    )
    text = (message or {}).get("text") or ""
    assert text.strip(), f"{name} rendered empty"
    assert placeholder_problems(text) == [] and "<<" not in text, (name, variables, text)
    return text


@pytest.fixture
def conversation(domain: dict[str, Any], services: Services) -> Conversation:
    return Conversation(domain)
