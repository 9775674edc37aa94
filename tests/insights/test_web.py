"""The supervisor view's API in the handoff service: role check, JSON = report, CSV, plots, inbox."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from bot.handoff.app import create_app
from bot.settings import Settings
from tests.insights.helpers import Sources
from tests.insights.test_inbox import _not_understood
from tests.insights.test_metrics import _mixed_traffic, _served


@pytest.fixture
async def client(sources: Sources, aiohttp_client: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("TANDEM_AGENTS", "alice:pw-a,bob:pw-b")
    monkeypatch.setenv("TANDEM_SUPERVISORS", "alice")
    monkeypatch.setenv("TANDEM_INSIGHTS_CONSUME", "0")  # the test consumes explicitly, then reads
    settings = Settings.from_env({"TANDEM_VAR_DIR": str(sources.tmp), "RASA_TOKEN": "test-token",
                                  "RASA_URL": "http://127.0.0.1:9"})
    _mixed_traffic(sources)
    _served(sources, "v", "h-v", wait=45, reply=5, handle=100, rating=4, channel="socketio", topic="account")
    _not_understood(sources)
    await sources.consume()
    return await aiohttp_client(create_app(settings, consume=False))


async def _login(client: Any, name: str) -> dict[str, str]:
    resp = await client.post("/api/login", json={"name": name, "password": {"alice": "pw-a", "bob": "pw-b"}[name]})
    assert resp.status == 200
    return {"Authorization": f"Bearer {(await resp.json())['token']}"}


async def test_only_supervisors_get_in(client: Any) -> None:
    assert (await client.get("/api/insights/report")).status == 401
    bob = await _login(client, "bob")
    for path in ("/api/insights/report", "/api/insights/report.csv", "/api/insights/plots/ratings.png",
                 "/api/insights/inbox"):
        resp = await client.get(path, headers=bob)
        assert resp.status == 403, path
    assert (await client.post("/api/insights/inbox/label", json={"ids": [1], "kind": "ignore"}, headers=bob)).status == 403
    page = await client.get("/supervisor")
    assert page.status == 200 and "Supervisor insights" in await page.text()


async def test_json_csv_and_plots_show_the_report(client: Any, sources: Sources) -> None:
    alice = await _login(client, "alice")
    data = await (await client.get("/api/insights/report?since=2026-03-01&channel=socketio", headers=alice)).json()
    assert data == (await sources.report(since=__import__("datetime").date(2026, 3, 1), channel="socketio")).to_json()
    assert data["conversations"] == 1 and data["handoffs_by_topic"] == {"account": 1}
    resp = await client.get("/api/insights/report.csv?topic=account", headers=alice)
    assert resp.status == 200 and "attachment" in resp.headers["Content-Disposition"]
    figures = {(r["section"], r["key"]): r["value"] for r in csv.DictReader(io.StringIO(await resp.text()))}
    assert figures[("filter", "topic")] == "account" and figures[("total", "handoffs")] == "1"
    png = await client.get("/api/insights/plots/wait_distribution.png", headers=alice)
    assert png.status == 200 and png.content_type == "image/png" and (await png.read())[:4] == b"\x89PNG"
    assert (await client.get("/api/insights/plots/secrets.png", headers=alice)).status == 404
    assert (await client.get("/api/insights/report?since=yesterday", headers=alice)).status == 400


async def test_inbox_and_labels(client: Any) -> None:
    alice = await _login(client, "alice")
    data = await (await client.get("/api/insights/inbox", headers=alice)).json()
    assert data["messages"] == 7 and "@" not in str(data)  # 5 + 2 fallbacks of the mixed traffic
    football = next(g for g in data["groups"] if "football" in g["representative"]["text"])
    ids = [e["id"] for e in football["entries"]]
    bad = await client.post("/api/insights/inbox/label", json={"ids": ids, "kind": "intent", "intent": "nope"},
                            headers=alice)
    assert bad.status == 400 and "not an intent of the domain" in (await bad.json())["message"]
    ok = await client.post("/api/insights/inbox/label", json={"ids": ids, "kind": "out_of_scope"}, headers=alice)
    assert (await ok.json()) == {"labelled": 2}
    assert (await (await client.get("/api/insights/inbox", headers=alice)).json())["messages"] == 5
