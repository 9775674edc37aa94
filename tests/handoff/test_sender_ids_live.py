"""Issue 10, finding 4, through the real Rasa server and handoff service: customers whose sender
ids are ``whatsapp:+447700900199`` and ``zoë müller`` ask for a person on the REST channel; the
agent sees their transcript and their reply lands in that same conversation of Rasa's tracker
(before: an empty transcript, and the reply stored under ``whatsapp:%2B447700900199`` while the
service answered ``{"delivered": true}``)."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from bot.rasa_api import RasaClient
from tests.handoff.live import AGENTS, ASK_FOR_AGENT

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("sender", ["whatsapp:+447700900199", "zoë müller"])
async def test_an_agent_reply_reaches_a_sender_with_any_characters(stack: Any, sender: str) -> None:
    settings = stack.settings
    rasa = RasaClient(settings.rasa_url, settings.rasa_token, timeout_s=60)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
        async with http.post(f"{settings.rasa_url}/webhooks/rest/webhook",
                             json={"sender": sender, "message": ASK_FOR_AGENT}) as resp:
            assert resp.status == 200, await resp.text()
        async with http.post(f"{settings.handoff_url}/api/login",
                             json={"name": "alice", "password": AGENTS["alice"]}) as resp:
            headers = {"Authorization": f"Bearer {(await resp.json())['token']}"}

        conv: dict[str, Any] = {}
        for _ in range(600):  # the broker brings the request to the queue
            async with http.get(f"{settings.handoff_url}/api/queue", headers=headers) as resp:
                mine = [c for c in (await resp.json())["conversations"] if c["sender_id"] == sender]
            if mine:
                conv = mine[0]
                break
            await asyncio.sleep(0.1)
        assert conv, f"{sender!r} never reached the queue"
        cid = conv["id"]
        async with http.post(f"{settings.handoff_url}/api/conversations/{cid}/accept", headers=headers) as resp:
            assert resp.status == 200, await resp.text()
        async with http.get(f"{settings.handoff_url}/api/conversations/{cid}", headers=headers) as resp:
            detail = await resp.json()
        assert detail["conversation"]["sender_id"] == sender
        assert detail["transcript_source"] == "rasa"
        assert ASK_FOR_AGENT in [line["text"] for line in detail["transcript"] if line["kind"] == "customer"]

        text = f"Hello {sender}, I'm looking at your order."
        async with http.post(f"{settings.handoff_url}/api/conversations/{cid}/reply",
                             json={"text": text}, headers=headers) as resp:
            assert resp.status == 200 and await resp.json() == {"delivered": True}
        tracker = await rasa.tracker(sender)
        agent_lines = [e for e in tracker["events"] if e.get("event") == "bot" and (e.get("metadata") or {}).get("agent")]
        assert agent_lines[-1]["text"] == text
        # and nothing went to the conversation the old, undecoded path named
        misfiled = await rasa.tracker(quote(sender, safe=""))
        assert not [e for e in misfiled["events"] if e.get("event") == "bot"]

        async with http.post(f"{settings.handoff_url}/api/conversations/{cid}/close",
                             json={"disposition": "resolved"}, headers=headers) as resp:
            assert resp.status == 200, await resp.text()
