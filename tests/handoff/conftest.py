"""Fixtures for the handoff service tests.

The handoff database and Rasa's event broker are real (SQLite files; the broker is Rasa's own
``SQLEventBroker`` writing its ``events`` table). Rasa's HTTP API is played by ``RasaStandIn``,
a small aiohttp server with the two endpoints the service uses, which publishes appended events
through that same broker like Rasa does; the end-to-end tests (test_e2e.py,
test_console_browser.py) use the real Rasa through the package-scoped ``stack`` fixture.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from types import SimpleNamespace
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable, Iterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sanic import Sanic, response as sanic_response

from bot.rasa_server import unquote_conversation_id

from bot.handoff.app import CONSUMER, SERVICE, create_app
from bot.handoff.config import BusinessHours, HandoffConfig, parse_agents
from bot.settings import Settings
from tests.conftest import isolated_settings
from tests.handoff.live import AGENTS as LIVE_AGENTS

AGENTS = "alice:pw-a,bob:pw-b:orders,carol:pw-c:complaints+account"


def _rasa_router() -> Any:
    """Sanic's router with the routes of Rasa's HTTP API the service calls (``rasa/server.py``
    declares them the same way), finalized once."""
    app = Sanic("rasa_paths_stand_in", configure_logging=False)  # no global logging set-up from a conftest

    async def never(_request: Any, conversation_id: str) -> Any:  # pragma: no cover - never served
        return sanic_response.text(conversation_id)

    app.add_route(never, "/conversations/<conversation_id:path>/tracker/events", methods=["POST"])
    app.add_route(never, "/conversations/<conversation_id:path>/tracker", methods=["GET"])
    app.router.finalize()
    return app.router


_RASA_ROUTER = _rasa_router()


async def rasa_conversation_id(method: str, raw_path: str, *, decode: bool = True) -> str:
    """The conversation a request path reaches in Rasa: Sanic matches the raw, still
    percent-encoded path and does not decode ``:path`` parameters; ``bot/rasa_server.py``'s
    middleware decodes them once (``decode=False``: Rasa without it, as before issue 10)."""
    _route, _handler, params = _RASA_ROUTER.get(raw_path, method, None)
    request = SimpleNamespace(_match_info=dict(params))
    if decode:
        await unquote_conversation_id(request)
    return request._match_info["conversation_id"]


@dataclass
class RasaStandIn:
    """Rasa's tracker-events API over an in-memory tracker, publishing to the real SQL broker."""

    broker: Any
    token: str = "test-token"
    trackers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    delivered: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    fail_next: int = 0
    paused: dict[str, bool] = field(default_factory=dict)
    #: False: behave like Rasa before ``bot/rasa_server.py`` decoded conversation ids
    decode_ids: bool = True

    def __repr__(self) -> str:
        return f"RasaStandIn({len(self.trackers)} conversations)"

    def publish(self, sender: str, event: dict[str, Any]) -> None:
        event = {"sender_id": sender, "timestamp": time.time(), **event}
        self.trackers.setdefault(sender, []).append(event)
        if event["event"] == "pause":
            self.paused[sender] = True
        elif event["event"] == "resume":
            self.paused[sender] = False
        self.broker.publish(event)

    def publish_all(self, sender: str, events: list[dict[str, Any]]) -> None:
        for event in events:
            self.publish(sender, event)

    def customer_says(self, sender: str, text: str) -> None:
        self.publish(sender, {"event": "user", "text": text, "parse_data": {"intent": {"name": "inform"}},
                              "input_channel": "socketio"})

    def request_handoff(self, sender: str, request: dict[str, Any]) -> None:
        """What Rasa records when action_handoff runs (its message, the slot, the pause)."""
        self.publish(sender, {"event": "user", "text": "I want a person",
                              "parse_data": {"intent": {"name": "contact_human_agent"}}})
        self.publish(sender, {"event": "action", "name": "action_handoff"})
        self.publish(sender, {"event": "bot", "text": "I'm passing you to a person", "metadata": {}})
        self.publish(sender, {"event": "slot", "name": "handoff_request", "value": request})
        self.publish(sender, {"event": "pause"})

    async def append_events(self, request: web.Request) -> web.Response:
        if request.query.get("token") != self.token:
            return web.json_response({"message": "bad token"}, status=401)
        if self.fail_next:
            self.fail_next -= 1
            return web.json_response({"message": "simulated outage"}, status=503)
        assert request.query.get("output_channel") == "latest"
        assert request.query.get("execute_side_effects") == "true"
        sender = await rasa_conversation_id("POST", request.raw_path.split("?")[0], decode=self.decode_ids)
        events = await request.json()
        # in a thread, as Rasa's broker is another process: a synchronous SQLite write on the
        # test's event loop would wait for the consumer's read, which waits for that loop
        for ev in events:
            if ev["event"] == "bot":
                self.delivered.setdefault(sender, []).append(ev)
        await asyncio.to_thread(self.publish_all, sender, events)
        return web.json_response({"sender_id": sender})

    async def tracker(self, request: web.Request) -> web.Response:
        if request.query.get("token") != self.token:
            return web.json_response({"message": "bad token"}, status=401)
        sender = await rasa_conversation_id("GET", request.raw_path.split("?")[0], decode=self.decode_ids)
        return web.json_response({"sender_id": sender, "events": self.trackers.get(sender, [])})

    async def hello(self, _request: web.Request) -> web.Response:
        return web.Response(text="Hello from Rasa stand-in")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/conversations/{path:.+}/tracker/events", self.append_events)
        app.router.add_get("/conversations/{path:.+}/tracker", self.tracker)
        app.router.add_get("/", self.hello)
        return app


def handoff_request(handoff_id: str, sender: str, topic: str = "orders", **extra: Any) -> dict[str, Any]:
    return {"handoff_id": handoff_id, "sender_id": sender, "topic": topic,
            "reason": "explicit_request: The customer asked to speak to a person.",
            "requested_at": time.time(), "position_told": 1, "eta_told_s": 0, "mode": "chat", **extra}


@pytest.fixture
def broker_url(tmp_path: Path) -> str:
    # the busy timeout Rasa's broker needs beside a reader on a loaded machine (as in Settings)
    return f"sqlite:///{tmp_path / 'events.db'}?timeout=30"


@pytest.fixture
def broker(broker_url: str) -> Any:
    from rasa.core.brokers.sql import SQLEventBroker

    b = SQLEventBroker(host=broker_url)
    yield b
    b.engine.dispose()


@pytest.fixture
async def rasa(aiohttp_server: Any, broker: Any) -> AsyncIterator[tuple[RasaStandIn, str]]:
    stand_in = RasaStandIn(broker)
    server = await aiohttp_server(stand_in.app())
    yield stand_in, str(server.make_url("")).rstrip("/")


#: the generator's "now" for the demo profiles (Monday 23 November 2026, noon)
PROFILES_NOW = datetime(2026, 11, 23, 12, 0, 0)


@pytest.fixture(scope="session")
def profiles_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo customer profiles (the well-known demo customers among them), read-only here."""
    from bot.profile.build import build_demo, sync_engine

    path = tmp_path_factory.mktemp("handoff-profiles") / "profiles.db"
    engine = sync_engine(f"sqlite:///{path}")
    try:
        build_demo(engine, customers=12, seed=7, now=PROFILES_NOW)
    finally:
        engine.dispose()
    return path


async def demo_customer_id(profiles_db: Path, email: str) -> str:
    from bot.profile import ProfileRepository

    repo = ProfileRepository.from_url(f"sqlite+aiosqlite:///{profiles_db}")
    try:
        return (await repo.find(email)).customer_id
    finally:
        await repo.close()


def make_settings(tmp_path: Path, rasa_url: str, broker_url: str, profiles: Path | None = None, **env: str) -> Settings:
    return Settings.from_env({
        "TANDEM_VAR_DIR": str(tmp_path),
        "RASA_URL": rasa_url,
        "RASA_TOKEN": "test-token",
        "EVENT_BROKER_DB_URL": broker_url,
        "TANDEM_PROFILE_DB_URL": f"sqlite+aiosqlite:///{profiles or tmp_path / 'no-profiles.db'}",
        **env,
    })


def make_config(**overrides: Any) -> HandoffConfig:
    values: dict[str, Any] = dict(
        agents=parse_agents(AGENTS), hours=BusinessHours.always(), secret=b"k" * 32, poll_interval_s=0.01,
        position_update_s=0.0, rasa_timeout_s=2.0, rasa_retries=1, heartbeat_s=5.0,
    )
    values.update(overrides)
    return HandoffConfig(**values)


@dataclass
class Handoff:
    """A running handoff app (test client) with helpers for agents."""

    client: TestClient
    rasa: RasaStandIn
    app: web.Application

    def __repr__(self) -> str:  # short: hypothesis prints the fixtures of a failing example
        return f"Handoff({self.url})"

    async def login(self, name: str) -> dict[str, str]:
        pw = {"alice": "pw-a", "bob": "pw-b", "carol": "pw-c"}[name]
        resp = await self.client.post("/api/login", json={"name": name, "password": pw})
        assert resp.status == 200, await resp.text()
        return {"Authorization": f"Bearer {(await resp.json())['token']}"}

    async def drain(self) -> None:
        """Apply every event already in the broker (the background consumer does the same)."""
        while await self.app[CONSUMER].process_batch():
            pass

    async def until(self, check: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not await check():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("condition not reached in time")
            await asyncio.sleep(0.02)


    @property
    def url(self) -> str:
        return str(self.client.make_url("/")).rstrip("/")


@pytest.fixture
async def handoff(
    aiohttp_client: Any, tmp_path: Path, rasa: tuple[RasaStandIn, str], broker_url: str, profiles_db: Path
) -> Handoff:
    stand_in, url = rasa
    app = create_app(make_settings(tmp_path, url, broker_url, profiles_db), make_config())
    client = await aiohttp_client(app)
    return Handoff(client, stand_in, app)


@pytest.fixture(scope="package")
def stack(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Rasa server, action server and handoff service as real processes, once for this package.

    The demo customer profiles are built (``python -m bot profile build``) so a customer the
    widget identifies has a profile; agents come from ``TANDEM_AGENTS`` (``live.AGENTS``).
    Tests leave no conversation waiting or assigned, and must not assume the service was never
    restarted (test_e2e.py kills and restarts it).
    """
    from bot.runner import Stack, _prepare_demo_data

    settings = isolated_settings(tmp_path_factory.mktemp("handoff-e2e"))
    _prepare_demo_data(settings, quiet=True)
    extra = {
        "TANDEM_VAR_DIR": str(settings.var_dir),
        "TANDEM_AGENTS": ",".join(f"{name}:{password}" for name, password in LIVE_AGENTS.items()),
        "TANDEM_HANDOFF_POLL_S": "0.05",
    }
    stack = Stack(settings, trained_model, extra_env=extra)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


__all__ = ["Handoff", "RasaStandIn", "handoff_request", "make_config", "make_settings", "SERVICE"]
