"""The REST channel's guard over HTTP against the real Rasa server (issue 10, findings 1 and 9).

Before the guard: a 1 MB message held port 5005 for over 13 minutes, empty / null / numeric /
object messages got ``200 []`` and a stack trace in rasa.log, and a burst from one sender
slowed every turn of its conversation.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from typing import Any

import aiohttp
import pytest
import yaml

from bot.settings import ROOT, Settings
from tests.security.conftest import BURST

pytestmark = pytest.mark.slow


def domain_text(name: str) -> str:
    responses = yaml.safe_load((ROOT / "domain" / "guard.yml").read_text())["responses"]
    return responses[name][0]["text"]


@pytest.fixture(scope="module")
def guarded(secured_stack: Any) -> Settings:
    return secured_stack.settings


async def say(http: aiohttp.ClientSession, settings: Settings, body: Any) -> tuple[int, Any]:
    async with http.post(f"{settings.rasa_url}/webhooks/rest/webhook", json=body) as response:
        return response.status, await response.json()


def sender() -> str:
    return f"guard-{uuid.uuid4().hex[:8]}"


def client() -> aiohttp.ClientSession:
    # generous: before the guard the big message took over 13 minutes
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))


async def test_a_megabyte_message_is_answered_politely_and_holds_nobody_up(guarded: Settings) -> None:
    async with client() as http:
        big = say(http, guarded, {"sender": sender(), "message": "a" * 1_048_576})
        other = say(http, guarded, {"sender": sender(), "message": "hello"})
        (big_status, big_reply), (other_status, other_reply) = await asyncio.gather(big, other)
    assert big_status == 200 and [m["text"] for m in big_reply] == [domain_text("utter_message_too_long")]
    assert other_status == 200 and "virtual assistant" in other_reply[0]["text"]


@pytest.mark.parametrize("message", ["", "   \n ", None, 12345, {"text": "hello"}, ["hello"]])
async def test_empty_and_malformed_messages_get_a_reply(guarded: Settings, message: Any) -> None:
    async with client() as http:
        status, reply = await say(http, guarded, {"sender": sender(), "message": message})
    assert status == 200 and [m["text"] for m in reply] == [domain_text("utter_message_empty")]


async def test_a_message_without_the_message_key_gets_a_reply(guarded: Settings) -> None:
    async with client() as http:
        status, reply = await say(http, guarded, {"sender": sender()})
    assert status == 200 and [m["text"] for m in reply] == [domain_text("utter_message_empty")]


@pytest.mark.parametrize("metadata", ["a string", 7, ["x"]])
async def test_metadata_that_is_not_an_object_still_gets_an_answer(guarded: Settings, metadata: Any) -> None:
    async with client() as http:
        status, reply = await say(http, guarded, {"sender": sender(), "message": "hello", "metadata": metadata})
    assert status == 200 and "virtual assistant" in reply[0]["text"]


@pytest.mark.parametrize("body", [{"message": "hello"}, {"sender": "", "message": "hi"}, {"sender": 5, "message": "hi"},
                                  ["hello"], "hello", None])
async def test_a_request_without_a_usable_sender_is_a_400_not_the_default_conversation(
    guarded: Settings, body: Any
) -> None:
    async with client() as http:
        status, reply = await say(http, guarded, body)
    assert status == 400 and "error" in reply


async def test_a_body_that_is_not_json_is_a_400(guarded: Settings) -> None:
    async with client() as http:
        async with http.post(f"{guarded.rasa_url}/webhooks/rest/webhook", data=b"{not json",
                             headers={"Content-Type": "application/json"}) as response:
            assert response.status == 400
            assert "error" in await response.json()


async def test_a_burst_from_one_sender_is_rate_limited_while_another_is_served(guarded: Settings) -> None:
    flooder, other = sender(), sender()
    async with client() as http:
        burst = [say(http, guarded, {"sender": flooder, "message": "hello"}) for _ in range(16)]
        results = await asyncio.gather(*burst, say(http, guarded, {"sender": other, "message": "hello"}))
    *flood, served = results
    limited = [r for s, r in flood if s == 200 and [m["text"] for m in r] == [domain_text("utter_rate_limited")]]
    answered = [r for s, r in flood if s == 200 and r and "virtual assistant" in r[0]["text"]]
    assert len(answered) == BURST and len(limited) == 16 - BURST
    assert served[0] == 200 and "virtual assistant" in served[1][0]["text"]


async def test_the_caller_cannot_claim_another_channel(guarded: Settings) -> None:
    """A messaging channel's sender id is taken as a verified phone number: REST must not pose as one."""
    name = f"whatsapp:+4477009{uuid.uuid4().int % 100000:05d}"
    async with client() as http:
        status, _ = await say(http, guarded, {"sender": name, "message": "hello", "input_channel": "whatsapp"})
    assert status == 200
    with sqlite3.connect(guarded.var_dir / "tracker.db") as db:
        channels = {row[0] for row in db.execute(
            "select json_extract(data, '$.input_channel') from events where sender_id = ? and type_name = 'user'",
            (name,))}
    assert channels == {"rest"}


def test_expected_bad_input_leaves_no_stack_trace_in_the_log(guarded: Settings) -> None:
    # runs last in this module (pytest keeps file order): every bad input above has been sent
    log = (guarded.var_dir / "logs" / "rasa.log").read_text(errors="replace")
    assert "Traceback" not in log and "ERROR" not in log
