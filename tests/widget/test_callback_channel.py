"""Rasa's callback channel (credentials.yml) end to end on loopback: a customer's message comes in
over HTTP, the bot's replies are POSTed to a local receiver, and so is a message sent later
through the HTTP API on the customer's latest channel, which is how an agent's reply travels."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aiohttp
import pytest
from aiohttp import web

pytestmark = pytest.mark.slow


async def test_replies_and_later_messages_reach_the_callback_receiver(stack: Any, callback_port: int) -> None:
    received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def receive(request: web.Request) -> web.Response:
        await received.put(await request.json())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/bot", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", callback_port)
    await site.start()
    settings = stack.settings
    sender = f"callback-{uuid.uuid4().hex[:8]}"
    try:
        async with aiohttp.ClientSession() as http:
            url = f"{settings.rasa_url}/webhooks/callback/webhook"
            async with http.post(url, json={"sender": sender, "message": "/greet"}) as resp:
                assert resp.status == 200 and await resp.text() == "success"
            first = await asyncio.wait_for(received.get(), 60)
            assert first["recipient_id"] == sender and first["text"]

            # later, from outside the turn: the handoff service's way of delivering an agent's reply
            events_url = f"{settings.rasa_url}/conversations/{sender}/tracker/events"
            params = {"token": settings.rasa_token, "output_channel": "latest", "execute_side_effects": "true"}
            body = [{"event": "bot", "text": "Hi, this is Alice from customer service.", "metadata": {"agent": "alice"}}]
            async with http.post(events_url, params=params, json=body) as resp:
                assert resp.status == 200, await resp.text()

            async def agent_line() -> dict[str, Any]:
                while True:
                    msg = await received.get()
                    if "this is Alice" in (msg.get("text") or ""):
                        return msg

            later = await asyncio.wait_for(agent_line(), 60)
            assert later["recipient_id"] == sender
    finally:
        await runner.cleanup()
