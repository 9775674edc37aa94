"""Helpers for the tests with real processes (test_e2e.py, test_console_browser.py).

The ``stack`` fixture that starts Rasa, the action server and the handoff service is in
``conftest.py`` (package scope: started once for every such test in this package); this module
holds what the tests themselves use.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import socketio

from bot import identity_token
from bot.settings import Settings

#: the agents of the test stack (``TANDEM_AGENTS``); both serve every queue
AGENTS = {"alice": "e2e-secret", "bob": "e2e-secret-b"}
ASK_FOR_AGENT = "/contact_human_agent"

#: a demo customer of ``python -m bot profile build`` (bot/profile/generator.py), signed in on the
#: website: :class:`Customer` turns this into the signed identity token the widget sends
AMELIA = {"customer": {"verified_email": "amelia.hart@example.com"}}


def signed_metadata(settings: Settings, metadata: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the host website's back end gives the widget for a signed-in customer: an identity
    token (bot/identity_token.py) signed with the stack's identity secret."""
    email = ((metadata or {}).get("customer") or {}).get("verified_email")
    if not email:
        return metadata
    secret = settings.identity_secret or identity_token.identity_secret(settings.var_dir)
    return {identity_token.METADATA_KEY: identity_token.issue(secret, f"site:{email}", email=email, ttl_s=3600)}


class Customer:
    """A socket.io customer, like the website widget."""

    def __init__(self, settings: Settings, metadata: dict[str, Any] | None = None) -> None:
        self.settings = settings
        self.metadata = signed_metadata(settings, metadata)
        self.session_id = f"e2e-{uuid.uuid4().hex[:10]}"
        self.client = socketio.AsyncClient(reconnection=False)
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        #: every bot message received, never consumed (what the customer saw)
        self.received: list[dict[str, Any]] = []
        self._confirmed = asyncio.Event()
        self.client.on("session_confirm", self._on_confirm)
        self.client.on("bot_uttered", self._on_bot)

    async def _on_confirm(self, *_: Any) -> None:
        self._confirmed.set()

    async def _on_bot(self, data: dict[str, Any]) -> None:
        self.received.append(data)
        await self.inbox.put(data)

    async def connect(self) -> Customer:
        # like the widget, a signed-in customer presents the token when connecting: the channel
        # binds the connection to its subject (bot/channels/socketio.py) and honours a token in a
        # message only for that same subject
        auth = {k: v for k, v in (self.metadata or {}).items() if k == identity_token.METADATA_KEY} or None
        await self.client.connect(self.settings.rasa_url, socketio_path="/socket.io", transports=["websocket"],
                                  auth=auth)
        await self.client.emit("session_request", {"session_id": self.session_id})
        await asyncio.wait_for(self._confirmed.wait(), 10)
        return self

    async def say(self, text: str) -> None:
        """Send a message; the widget's identity metadata goes with every message, as the widget does."""
        payload: dict[str, Any] = {"message": text, "session_id": self.session_id}
        if self.metadata:
            payload["metadata"] = self.metadata
        await self.client.emit("user_uttered", payload)

    async def expect(self, fragment: str, timeout: float = 30) -> dict[str, Any]:
        """The next bot message containing ``fragment`` (messages before it are consumed)."""

        async def wait() -> dict[str, Any]:
            while True:
                msg = await self.inbox.get()
                if fragment in (msg.get("text") or ""):
                    return msg

        return await asyncio.wait_for(wait(), timeout)

    async def silence(self, seconds: float) -> list[dict[str, Any]]:
        """Everything received within ``seconds`` (consumed)."""
        await asyncio.sleep(seconds)
        got = []
        while not self.inbox.empty():
            got.append(self.inbox.get_nowait())
        return got

    async def disconnect(self) -> None:
        await self.client.disconnect()
