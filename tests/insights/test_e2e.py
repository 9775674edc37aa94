"""End to end with real processes (Rasa, the action server, the handoff service with the
insights consumer in it): conversations driven through Rasa's REST channel and the agent API,
then the supervisor API's report changes by exactly what happened.

Intents are sent as ``/intent`` payloads (what the widget's buttons send) so the counts do not
depend on the NLU model's accuracy, which is measured elsewhere.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import aiohttp
import pytest

pytestmark = pytest.mark.slow

KEYS = ("conversations", "contained", "handoffs", "explicit_requests", "accepted", "abandoned", "still_waiting",
        "handed_back", "user_turns")


async def _say(http: aiohttp.ClientSession, rasa: str, sender: str, text: str) -> list[dict[str, Any]]:
    async with http.post(f"{rasa}/webhooks/rest/webhook", json={"sender": sender, "message": text}) as r:
        assert r.status == 200, await r.text()
        return await r.json()


async def _figures(http: aiohttp.ClientSession, base: str, headers: dict[str, str]) -> dict[str, Any]:
    async with http.get(f"{base}/api/insights/report", headers=headers) as r:
        assert r.status == 200, await r.text()
        data = await r.json()
    return {k: data[k] for k in KEYS}


async def _settled(http: aiohttp.ClientSession, base: str, headers: dict[str, str], figures: Any = _figures,
                   ) -> dict[str, Any]:
    """The report once the consumer (every 5 s in the service) has nothing new for a full pass."""
    last = await figures(http, base, headers)
    for _ in range(20):
        await asyncio.sleep(6)
        now = await figures(http, base, headers)
        if now == last:
            return now
        last = now
    raise AssertionError("the insights consumer never settled")


async def test_report_counts_real_conversations_exactly(running_stack: Any) -> None:
    settings = running_stack.settings
    rasa, base = settings.rasa_url, settings.handoff_url
    run = uuid.uuid4().hex[:8]
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        async with http.post(f"{base}/api/login", json={"name": "bob", "password": "bob"}) as r:
            bob = {"Authorization": f"Bearer {(await r.json())['token']}"}
        async with http.get(f"{base}/api/insights/report", headers=bob) as r:
            assert r.status == 403  # an agent without the supervisor role
        async with http.post(f"{base}/api/login", json={"name": "alice", "password": "alice"}) as r:
            alice = {"Authorization": f"Bearer {(await r.json())['token']}"}
        before = await _settled(http, base, alice)

        contained, served, left = f"ins-a-{run}", f"ins-b-{run}", f"ins-c-{run}"
        await _say(http, rasa, contained, "/greet")
        await _say(http, rasa, contained, "/goodbye")
        await _say(http, rasa, served, "/greet")
        await _say(http, rasa, served, "/contact_human_agent")
        await _say(http, rasa, left, "/contact_human_agent")

        deadline = time.monotonic() + 30
        conv = None
        while conv is None and time.monotonic() < deadline:
            async with http.get(f"{base}/api/queue", headers=alice) as r:
                conv = next((c for c in (await r.json())["conversations"] if c["sender_id"] == served), None)
            await asyncio.sleep(0.5)
        assert conv is not None, "the handoff never reached the queue"
        for path, body in (("accept", None), ("reply", {"text": "Hello, Alice here."}),
                           ("close", {"disposition": "resolved"})):
            async with http.post(f"{base}/api/conversations/{conv['id']}/{path}", json=body, headers=alice) as r:
                assert r.status == 200, await r.text()
        # the customer starts over while queued (what a widget's "new conversation" does)
        async with http.post(f"{rasa}/conversations/{left}/tracker/events", params={"token": settings.rasa_token},
                             json={"event": "restart"}) as r:
            assert r.status == 200, await r.text()

        after = await _settled(http, base, alice)
    delta = {k: after[k] - before[k] for k in KEYS}
    assert delta == {"conversations": 3, "contained": 1, "handoffs": 2, "explicit_requests": 2, "accepted": 1,
                     "abandoned": 1, "still_waiting": 0, "handed_back": 0, "user_turns": 5}


async def _demo_figures(http: aiohttp.ClientSession, base: str, headers: dict[str, str]) -> dict[str, Any]:
    async with http.get(f"{base}/api/insights/report", headers=headers) as r:
        assert r.status == 200, await r.text()
        data = await r.json()
    ratings = data["ratings"]
    return {**{k: data[k] for k in KEYS}, "requests": data["requests_by_type"], "rated": ratings["rated"],
            "with_comment": ratings["with_comment"], "distribution": ratings["distribution"]}


async def test_demo_replay_is_counted_exactly_and_adds_nothing_the_second_time(running_stack: Any, tmp_path: Any) -> None:
    """Ten demo conversations (seed 358: contained ones with an out-of-scope message, an invoice
    copy request, and handoffs served, handed back, left while queued and closed as no
    response) through the real stack; the report moves by exactly what the replay did."""
    from bot.insights.demo import Replay, plans

    settings = running_stack.settings
    base = settings.handoff_url
    record = tmp_path / "demo.json"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        async with http.post(f"{base}/api/login", json={"name": "alice", "password": "alice"}) as r:
            alice = {"Authorization": f"Bearer {(await r.json())['token']}"}
        before = await _settled(http, base, alice, _demo_figures)
        tally = await Replay(settings, record=record).run(plans(10, seed=358))
        assert tally.failed == [] and (tally.conversations, tally.skipped) == (10, 0)
        # what seed 358 asks for (a handoff the policy or NLU did not produce would show here)
        assert (tally.handoffs, tally.accepted, tally.abandoned, tally.handed_back) == (6, 5, 2, 1)
        after = await _settled(http, base, alice, _demo_figures)

        again = await Replay(settings, record=record).run(plans(10, seed=358))
        assert (again.conversations, again.skipped, again.handoffs) == (0, 10, 0)
        assert await _settled(http, base, alice, _demo_figures) == after

    delta = {k: after[k] - before[k] for k in KEYS}
    assert delta == {"conversations": 10, "contained": 10 - tally.handoffs, "handoffs": tally.handoffs,
                     "explicit_requests": tally.handoffs, "accepted": tally.accepted, "abandoned": tally.abandoned,
                     "still_waiting": 0, "handed_back": tally.handed_back, "user_turns": tally.bot_turns}
    requests = {k: after["requests"].get(k, 0) - before["requests"].get(k, 0) for k in after["requests"]}
    assert {k: v for k, v in requests.items() if v} == tally.requests == {"invoice_copy": 1}
    assert after["rated"] - before["rated"] == sum(tally.ratings.values()) == 2
    assert after["with_comment"] - before["with_comment"] == tally.commented
    assert {k: after["distribution"][k] - before["distribution"][k] for k in after["distribution"]} == {
        str(i): tally.ratings.get(i, 0) for i in range(1, 6)}
