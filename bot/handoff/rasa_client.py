"""Client of Rasa's HTTP API (``rasa run --enable-api --auth-token``) for the handoff service.

Everything the agent says reaches the customer by appending events to the tracker with
``output_channel=latest&execute_side_effects=true``: Rasa sends ``bot`` events to the channel
the customer last wrote on, and the transcript in the tracker stays complete.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import quote

import aiohttp

from bot.handoff.errors import NotFound, RasaUnavailable

logger = logging.getLogger(__name__)

#: answers worth retrying (Rasa restarting, lock contention on the tracker store)
RETRY_STATUSES = {502, 503, 504, 409, 429}


class RasaClient:
    """Talks to one Rasa server. The :class:`aiohttp.ClientSession` is passed in (owned by the app)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        token: str,
        *,
        timeout_s: float = 5.0,
        retries: int = 2,
        backoff_s: float = 0.2,
    ) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._retries = retries
        self._backoff = backoff_s

    async def append_events(self, sender_id: str, events: list[dict[str, Any]]) -> dict[str, Any]:
        """Append events and run their side effects (deliver bot messages on the latest channel).

        Raises :class:`RasaUnavailable` after the retries; the message says why, for the agent.
        Retrying can in the worst case deliver a message twice (the first attempt reached Rasa but
        its answer was lost); losing an agent's message silently would be worse.
        """
        path = f"/conversations/{quote(sender_id, safe='')}/tracker/events"
        params = {"output_channel": "latest", "execute_side_effects": "true", "include_events": "NONE"}
        return await self._request("POST", path, params=params, json=events)

    async def send_bot_message(
        self, sender_id: str, text: str, *, agent: str | None = None, extra: dict[str, Any] | None = None
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

    async def tracker(self, sender_id: str) -> dict[str, Any]:
        path = f"/conversations/{quote(sender_id, safe='')}/tracker"
        return await self._request("GET", path, params={"include_events": "ALL"})

    async def health(self) -> bool:
        try:
            async with self._session.get(self._base + "/", timeout=self._timeout) as resp:
                return resp.status == 200
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return False

    async def _request(self, method: str, path: str, *, params: dict[str, str], json: Any = None) -> dict[str, Any]:
        params = {**params, "token": self._token}
        last_error = "no attempt"
        for attempt in range(self._retries + 1):
            if attempt:
                await asyncio.sleep(self._backoff * (2 ** (attempt - 1)))
            try:
                async with self._session.request(
                    method, self._base + path, params=params, json=json, timeout=self._timeout
                ) as resp:
                    if resp.status == 200:
                        return await resp.json()
                    body = (await resp.text())[:300]
                    if resp.status == 404:
                        raise NotFound(f"Rasa has no conversation for this customer ({body})")
                    if resp.status in (401, 403):
                        raise RasaUnavailable("Rasa refused the handoff service's token (check RASA_TOKEN)")
                    last_error = f"Rasa answered {resp.status}: {body}"
                    if resp.status not in RETRY_STATUSES and resp.status < 500:
                        raise RasaUnavailable(last_error)
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                last_error = f"Rasa is unreachable at {self._base} ({type(exc).__name__}: {exc})"
            logger.warning("Rasa %s %s failed (attempt %d): %s", method, path, attempt + 1, last_error)
        raise RasaUnavailable(last_error)
