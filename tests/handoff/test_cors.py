"""CORS on the widget's endpoints (bot/handoff/cors.py): only the configured origins, none by default."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Awaitable, Callable

import pytest
from aiohttp.test_utils import TestClient

from bot.handoff.app import create_app
from tests.handoff.conftest import RasaStandIn, make_config, make_settings

SHOP = "https://shop.example"
PREFLIGHT = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}

MakeClient = Callable[[str | None], Awaitable[TestClient]]


@pytest.fixture
def service(
    aiohttp_client: Any, tmp_path: Path, rasa: tuple[RasaStandIn, str], broker_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> MakeClient:
    async def make(origins: str | None) -> TestClient:
        if origins is None:
            monkeypatch.delenv("TANDEM_CORS_ORIGINS", raising=False)
        else:
            monkeypatch.setenv("TANDEM_CORS_ORIGINS", origins)
        app = create_app(make_settings(tmp_path, rasa[1], broker_url), make_config(), consume=False)
        return await aiohttp_client(app)

    return make


async def test_by_default_no_other_site_may_call_the_widgets_endpoints(service: MakeClient) -> None:
    client = await service(None)
    resp = await client.options("/widget/api/status", headers={"Origin": SHOP, **PREFLIGHT})
    assert resp.status == 403
    assert "TANDEM_CORS_ORIGINS" in (await resp.json())["message"]
    resp = await client.get("/widget/api/status?session_id=s", headers={"Origin": SHOP})
    assert resp.status == 401 and "Access-Control-Allow-Origin" not in resp.headers


async def test_a_configured_origin_may_call_them_and_read_their_errors(service: MakeClient) -> None:
    client = await service(f"{SHOP}, https://other.example")
    resp = await client.options("/widget/api/rating", headers={
        "Origin": SHOP, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})
    assert resp.status == 204
    assert resp.headers["Access-Control-Allow-Origin"] == SHOP
    assert "POST" in resp.headers["Access-Control-Allow-Methods"]
    assert {h.strip().lower() for h in resp.headers["Access-Control-Allow-Headers"].split(",")} >= {
        "authorization", "content-type"}
    assert "Access-Control-Allow-Credentials" not in resp.headers
    # an answer (here: no conversation token) carries the header, so the widget can read why
    resp = await client.get("/widget/api/messages?session_id=s", headers={"Origin": "https://other.example"})
    assert resp.status == 401
    assert resp.headers["Access-Control-Allow-Origin"] == "https://other.example"
    assert resp.headers["Vary"] == "Origin"
    # an origin not in the list, and the agents' API (never called from other sites), get nothing
    resp = await client.options("/widget/api/status", headers={"Origin": "https://evil.example", **PREFLIGHT})
    assert resp.status == 403
    resp = await client.get("/widget/api/status?session_id=s", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in resp.headers
    resp = await client.get("/api/queue", headers={"Origin": SHOP})
    assert resp.status == 401 and "Access-Control-Allow-Origin" not in resp.headers
