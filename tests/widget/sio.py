"""A socket.io client speaking the widget's protocol (python-socketio), for the channel's tests."""

from __future__ import annotations

import asyncio
from typing import Any

import socketio


class WidgetClient:
    def __init__(self, url: str, identity_token: str | None = None) -> None:
        self.url = url
        self.identity_token = identity_token
        self.client = socketio.AsyncClient(reconnection=False)
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.answers: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.refusals: list[dict[str, Any]] = []
        self.typing: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.session_id: str | None = None
        self.session_token: str | None = None
        self.client.on("bot_uttered", self._bot)
        self.client.on("session_token", self._token)
        self.client.on("session_confirm", self._confirm)
        self.client.on("session_refused", self._refused)
        self.client.on("message_refused", self._message_refused)
        self.client.on("typing", self._typing)

    async def _typing(self, data: dict[str, Any]) -> None:
        await self.typing.put(data)

    async def _bot(self, data: dict[str, Any]) -> None:
        await self.inbox.put(data)

    async def _token(self, data: dict[str, Any]) -> None:
        self.session_token = data["token"]

    async def _confirm(self, session_id: str) -> None:
        await self.answers.put(("confirm", session_id))

    async def _refused(self, data: dict[str, Any]) -> None:
        await self.answers.put(("refused", data.get("reason")))

    async def _message_refused(self, data: dict[str, Any]) -> None:
        self.refusals.append(data)

    async def connect(self, origin: str | None = None) -> "WidgetClient":
        """``origin``: the Origin header a browser page on that site would send."""
        auth = {"identity_token": self.identity_token} if self.identity_token else {}
        headers = {"Origin": origin} if origin else {}
        await self.client.connect(self.url, socketio_path="/socket.io", transports=["websocket"], auth=auth,
                                  headers=headers)
        return self

    async def request(self, session_id: str | None = None, token: str | None = None) -> tuple[str, Any]:
        """``("confirm", session_id)`` or ``("refused", reason)``."""
        await self.client.emit("session_request", {"session_id": session_id, "session_token": token})
        kind, value = await asyncio.wait_for(self.answers.get(), 20)
        if kind == "confirm":
            self.session_id = value
        return kind, value

    async def say(self, text: str, session_id: str | None = None, **custom: Any) -> Any:
        """Send a message; the server's acknowledgement (after the bot answered)."""
        payload = {"message": text, "session_id": session_id or self.session_id, "customData": custom}
        return await self.client.call("user_uttered", payload, timeout=90)

    async def expect(self, timeout: float = 60) -> dict[str, Any]:
        return await asyncio.wait_for(self.inbox.get(), timeout)

    def drain(self) -> list[dict[str, Any]]:
        got = []
        while not self.inbox.empty():
            got.append(self.inbox.get_nowait())
        return got

    async def close(self) -> None:
        await self.client.disconnect()
