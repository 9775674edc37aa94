"""The real Rasa server (and action server) as processes: REST, socket.io, HTTP API."""

from __future__ import annotations

import asyncio
import uuid

import aiohttp
import pytest
import socketio

pytestmark = pytest.mark.slow


async def test_rest_channel_answers(running_stack) -> None:  # type: ignore[no-untyped-def]
    settings = running_stack.settings
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        async with http.post(
            f"{settings.rasa_url}/webhooks/rest/webhook",
            json={"sender": f"rest-{uuid.uuid4().hex[:8]}", "message": "hello"},
        ) as response:
            assert response.status == 200
            replies = await response.json()
    assert replies and "virtual assistant" in replies[0]["text"]


async def test_socketio_client_receives_bot_replies(running_stack) -> None:  # type: ignore[no-untyped-def]
    """Guards the python-socketio 5.9.0 pin: newer 5.x releases never join the session room."""
    settings = running_stack.settings
    client = socketio.AsyncClient(reconnection=False)
    replies: asyncio.Queue[dict] = asyncio.Queue()
    confirmed = asyncio.Event()
    session_id = uuid.uuid4().hex

    @client.on("session_confirm")
    async def _confirmed(*_: object) -> None:
        confirmed.set()

    @client.on("bot_uttered")
    async def _uttered(data: dict) -> None:
        await replies.put(data)

    await client.connect(settings.rasa_url, socketio_path="/socket.io", transports=["websocket"])
    try:
        await client.emit("session_request", {"session_id": session_id})
        await asyncio.wait_for(confirmed.wait(), timeout=10)
        await client.emit("user_uttered", {"message": "hi there", "session_id": session_id})
        reply = await asyncio.wait_for(replies.get(), timeout=30)
    finally:
        await client.disconnect()
    assert "virtual assistant" in reply["text"]


async def test_http_api_requires_the_token(running_stack) -> None:  # type: ignore[no-untyped-def]
    settings = running_stack.settings
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        async with http.get(f"{settings.rasa_url}/status") as anonymous:
            assert anonymous.status == 401
        async with http.get(f"{settings.rasa_url}/status", params={"token": settings.rasa_token}) as allowed:
            assert allowed.status == 200
            assert (await allowed.json())["model_file"]


async def test_conversations_are_kept_in_the_sql_tracker_store(running_stack) -> None:  # type: ignore[no-untyped-def]
    settings = running_stack.settings
    sender = f"store-{uuid.uuid4().hex[:8]}"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        await (await http.post(f"{settings.rasa_url}/webhooks/rest/webhook",
                               json={"sender": sender, "message": "hello"})).json()
    assert (settings.var_dir / "tracker.db").exists()
    import sqlite3

    with sqlite3.connect(settings.var_dir / "tracker.db") as db:
        count = db.execute("select count(*) from events where sender_id = ?", (sender,)).fetchone()[0]
    assert count >= 3  # session start, user message, bot reply
