"""tandem's one client of Rasa's HTTP API (``rasa run --enable-api --auth-token``).

Used by the handoff service (agents' messages, hand-back, transcripts) and by the proactive
follow-ups (external events). One policy for every call: a total time limit per attempt, a
few retries with exponential back-off on answers worth retrying (Rasa restarting, lock
contention on the tracker store) and on connection errors, and one error type with a message
that says why, for an agent or an operator.

Messages reach the customer on the channel they last wrote on (``output_channel=latest``):
appended ``bot`` events with ``execute_side_effects=true``, or an external event's answer.
Retrying can in the worst case deliver a message twice (the first attempt reached Rasa but its
answer was lost); losing it silently would be worse.

Sender ids are opaque strings (any Unicode, ``+``, ``:``, ``/``, ``%``, spaces): encoded once,
here, into the URL path (``bot/rasa_server.py`` decodes them once on Rasa's side), and a call
counts as delivered only when Rasa's answer names that same conversation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, AsyncIterator, Mapping
from urllib.parse import quote

import aiohttp
from yarl import URL

logger = logging.getLogger(__name__)

#: answers worth retrying (Rasa restarting, lock contention on the tracker store)
RETRY_STATUSES = frozenset({502, 503, 504, 409, 429})


class RasaAPIError(RuntimeError):
    """Rasa could not be reached, refused, or failed after the retries; nothing was delivered."""


class RasaNotFound(RasaAPIError):
    """Rasa has no such conversation."""


class RasaClient:
    """Talks to one Rasa server. Pass the :class:`aiohttp.ClientSession` of a long-lived process
    (it stays the caller's); without one, each call opens and closes its own."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        session: aiohttp.ClientSession | None = None,
        timeout_s: float = 5.0,
        retries: int = 2,
        backoff_s: float = 0.2,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._session = session
        self.timeout_s = timeout_s
        self._retries = retries
        self._backoff = backoff_s

    # -- the calls ------------------------------------------------------------------------------

    async def append_events(self, sender_id: str, events: list[dict[str, Any]]) -> dict[str, Any]:
        """Append events and run their side effects (deliver bot messages on the latest channel)."""
        params = {"output_channel": "latest", "execute_side_effects": "true", "include_events": "NONE"}
        answer = await self._request(
            "POST", f"{self._conversation(sender_id)}/tracker/events", params=params, json=events
        )
        return self._for_conversation(answer, sender_id)

    async def send_bot_message(
        self, sender_id: str, text: str, *, agent: str | None = None, extra: Mapping[str, Any] | None = None
    ) -> None:
        metadata: dict[str, Any] = dict(extra or {})
        if agent:
            metadata.update({"agent": agent, "handoff": True})
        await self.append_events(sender_id, [{"event": "bot", "text": text, "metadata": metadata}])

    async def resume(self, sender_id: str, text: str, reset_slots: list[str] | None = None) -> None:
        """Hand back: ``resume`` (ConversationResumed), reset handoff slots, then say so."""
        events: list[dict[str, Any]] = [{"event": "resume"}]
        events += [{"event": "slot", "name": name, "value": None} for name in reset_slots or ()]
        events.append({"event": "bot", "text": text, "metadata": {"handoff": True, "handed_back": True}})
        # The bot was paused right after action_handoff, so it never predicted action_listen;
        # without it the next message would not match any rule ("intent after action_listen").
        events.append({"event": "action", "name": "action_listen"})
        await self.append_events(sender_id, events)

    async def typing(self, sender_id: str, on: bool, agent: str | None = None) -> None:
        """Show (or stop showing) the typing indicator in the customer's widget: tandem's socket.io
        channel emits it to that conversation's room only (bot/channels/socketio.py)."""
        await self._request("POST", "/webhooks/socketio/typing", params={},
                            json={"session_id": sender_id, "typing": on, "agent": agent})

    async def tracker(self, sender_id: str) -> dict[str, Any]:
        answer = await self._request("GET", f"{self._conversation(sender_id)}/tracker", params={"include_events": "ALL"})
        return self._for_conversation(answer, sender_id)

    def trigger_url(self, conversation_id: str) -> str:
        return f"{self.base_url}{self._conversation(conversation_id)}/trigger_intent"

    async def trigger_intent(
        self, conversation_id: str, intent: str, entities: Mapping[str, Any] | None = None
    ) -> list[str]:
        """An external event (``EXTERNAL_*`` intent): the bot speaks first on the customer's latest
        channel. Returns the texts of the bot's messages."""
        data = await self._request(
            "POST", f"{self._conversation(conversation_id)}/trigger_intent",
            params={"output_channel": "latest"}, json={"name": intent, "entities": dict(entities or {})},
        )
        self._for_conversation(data.get("tracker") if isinstance(data, dict) else None, conversation_id)
        return [m.get("text", "") for m in data.get("messages", []) if isinstance(m, dict) and m.get("text")]

    async def health(self) -> bool:
        try:
            async with self._http() as http, http.get(self.base_url + "/", timeout=self._timeout()) as resp:
                return resp.status == 200
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return False

    # -- the policy -----------------------------------------------------------------------------

    @staticmethod
    def _conversation(sender_id: str) -> str:
        """The path of one conversation: the id percent-encoded once, every reserved
        character included (``/`` too: the id is one opaque segment)."""
        return f"/conversations/{quote(sender_id, safe='')}"

    @staticmethod
    def _for_conversation(answer: Any, sender_id: str) -> dict[str, Any]:
        """Rasa's answer, if it is about ``sender_id``: a 200 for another conversation (an id
        decoded differently on the way) delivered nothing to this customer."""
        got = answer.get("sender_id") if isinstance(answer, dict) else None
        if got != sender_id:
            raise RasaAPIError(
                f"Rasa answered for conversation {got!r}, not {sender_id!r}: nothing reached this customer"
            )
        return answer

    def _timeout(self) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(total=self.timeout_s)

    @contextlib.asynccontextmanager
    async def _http(self) -> AsyncIterator[aiohttp.ClientSession]:
        if self._session is not None:
            yield self._session
            return
        async with aiohttp.ClientSession() as session:
            yield session

    async def _request(
        self, method: str, path: str, *, params: dict[str, str], json: Any = None
    ) -> dict[str, Any]:
        params = {**params, "token": self._token}
        last_error = "no attempt"
        async with self._http() as http:
            for attempt in range(self._retries + 1):
                if attempt:
                    await asyncio.sleep(self._backoff * (2 ** (attempt - 1)))
                try:
                    # encoded=True: the path is already percent-encoded exactly once
                    url = URL(self.base_url + path, encoded=True)
                    async with http.request(method, url, params=params, json=json, timeout=self._timeout()) as resp:
                        if resp.status == 200:
                            return await resp.json(content_type=None)
                        body = (await resp.text())[:300]
                        if resp.status == 404:
                            raise RasaNotFound(f"Rasa has no conversation for this customer ({body})")
                        if resp.status in (401, 403):
                            raise RasaAPIError("Rasa refused the token (check RASA_TOKEN)")
                        last_error = f"Rasa answered {resp.status}: {body}"
                        if resp.status not in RETRY_STATUSES and resp.status < 500:
                            raise RasaAPIError(last_error)
                except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                    last_error = f"Rasa is unreachable at {self.base_url} ({type(exc).__name__}: {exc})"
                logger.warning("Rasa %s %s failed (attempt %d): %s", method, path, attempt + 1, last_error)
        raise RasaAPIError(last_error)
