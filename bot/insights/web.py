"""The supervisor view in the agent console's service: JSON API, CSV export, PNG plots, inbox.

Registered by the handoff app with one call, ``setup_insights_routes(app)``. Every route needs
an agent's session token (the console's login) *and* the supervisor role: agent names listed in
``TANDEM_SUPERVISORS`` (comma-separated). Unset, with the development agents (``TANDEM_AGENTS``
unset), ``alice`` is the supervisor; unset with real agents, nobody is (a warning says so).

====================================  ==============================================================
``GET  /supervisor``                  the page (log in with an agent's name and password)
``GET  /api/insights/report``         the report as JSON; ``since``, ``until``, ``channel``, ``topic``
``GET  /api/insights/report.csv``     the same figures as CSV (a download)
``GET  /api/insights/plots/{name}``   ``daily_containment.png``, ``handoffs_by_reason.png``,
                                      ``wait_distribution.png``, ``ratings.png``
``GET  /api/insights/inbox``          unlabelled messages grouped by similarity
``POST /api/insights/inbox/label``    ``{"ids": [..], "kind": "intent"|"out_of_scope"|"ignore",
                                      "intent": ".."}``
====================================  ==============================================================

The service also runs the insights consumer every few seconds (``TANDEM_INSIGHTS_CONSUME=0``
turns that off, e.g. when ``python -m bot insights consume --follow`` runs elsewhere).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
from datetime import date
from pathlib import Path
from typing import AsyncIterator

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.insights.consumer import InsightsConsumer
from bot.insights.db import InsightsSettings, create_schema, make_engine
from bot.insights.inbox import InboxError, group, label, open_entries
from bot.insights.render import PLOTS, as_csv, write_plots
from bot.insights.report import Filters, build_report

logger = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
ENGINE = web.AppKey("insights_engine", AsyncEngine)
SUPERVISORS = web.AppKey("insights_supervisors", frozenset)


def supervisors_from_env(env: dict[str, str] | None = None) -> frozenset[str]:
    env = dict(os.environ) if env is None else env
    raw = env.get("TANDEM_SUPERVISORS")
    if raw is None:
        if env.get("TANDEM_AGENTS"):
            logger.warning("TANDEM_SUPERVISORS is unset: nobody can open the supervisor view")
            return frozenset()
        return frozenset({"alice"})
    return frozenset(n.strip() for n in raw.split(",") if n.strip())


def setup_insights_routes(app: web.Application) -> None:
    """Register the supervisor view's routes and its database (and consumer) on ``app``."""
    app[SUPERVISORS] = supervisors_from_env()
    app.cleanup_ctx.append(_resources)
    app.router.add_get("/supervisor", page)
    app.router.add_static("/insights-static", STATIC)
    app.router.add_get("/api/insights/report", report_json)
    app.router.add_get("/api/insights/report.csv", report_csv)
    app.router.add_get("/api/insights/plots/{name}", plot)
    app.router.add_get("/api/insights/inbox", inbox)
    app.router.add_post("/api/insights/inbox/label", inbox_label)


async def _resources(app: web.Application) -> AsyncIterator[None]:
    from bot.handoff.app import SETTINGS  # the service's own settings (tests pass isolated ones)

    settings = InsightsSettings.from_settings(app[SETTINGS]) if SETTINGS in app else InsightsSettings.from_env()
    engine = make_engine(settings.db_url)
    await create_schema(engine)
    app[ENGINE] = engine
    task = None
    consumer = None
    stop = asyncio.Event()
    if os.environ.get("TANDEM_INSIGHTS_CONSUME", "1") != "0":
        consumer = InsightsConsumer.from_settings(settings)
        task = asyncio.ensure_future(consumer.run_forever(stop, interval_s=5.0))
    yield
    stop.set()
    if task is not None:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    if consumer is not None:
        await consumer.dispose()
    await engine.dispose()


async def _supervisor(request: web.Request) -> str:
    """The caller's agent name if a supervisor; 401 without a valid session, 403 without the role."""
    from bot.handoff.app import AUTH  # the console's sessions (imported here: app.py imports us)

    header = request.headers.get("Authorization", "")
    account = await request.app[AUTH].verify(header[7:] if header.startswith("Bearer ") else None)
    if account.name not in request.app[SUPERVISORS]:
        raise web.HTTPForbidden(text='{"error": "Forbidden", "message": "the supervisor view needs the supervisor role"}',
                                content_type="application/json")
    return account.name


def _filters(request: web.Request) -> Filters:
    q = request.query

    def day(name: str) -> date | None:
        if not q.get(name):
            return None
        try:
            return date.fromisoformat(q[name])
        except ValueError as exc:
            raise web.HTTPBadRequest(text=f'{{"error": "BadRequest", "message": "{name} must be a date like 2026-03-02"}}',
                                     content_type="application/json") from exc

    return Filters(day("since"), day("until"), q.get("channel") or None, q.get("topic") or None)


async def page(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "supervisor.html", headers={"Cache-Control": "no-store"})


async def report_json(request: web.Request) -> web.Response:
    await _supervisor(request)
    rep = await build_report(request.app[ENGINE], _filters(request))
    return web.json_response(rep.to_json())


async def report_csv(request: web.Request) -> web.Response:
    await _supervisor(request)
    rep = await build_report(request.app[ENGINE], _filters(request))
    return web.Response(text=as_csv(rep), content_type="text/csv", headers={
        "Content-Disposition": 'attachment; filename="tandem-insights.csv"'})


async def plot(request: web.Request) -> web.Response:
    await _supervisor(request)
    name = request.match_info["name"]
    if name not in PLOTS:
        raise web.HTTPNotFound(text=f'{{"error": "NotFound", "message": "plots are {", ".join(PLOTS)}"}}',
                               content_type="application/json")
    rep = await build_report(request.app[ENGINE], _filters(request))
    with tempfile.TemporaryDirectory() as tmp:
        # matplotlib is synchronous and takes ~0.1 s a figure: keep the event loop free
        paths = await asyncio.get_running_loop().run_in_executor(None, write_plots, rep, Path(tmp))
        body = next(p for p in paths if p.name == name).read_bytes()
    return web.Response(body=body, content_type="image/png", headers={"Cache-Control": "no-store"})


async def inbox(request: web.Request) -> web.Response:
    await _supervisor(request)
    entries = await open_entries(request.app[ENGINE])
    groups = await asyncio.get_running_loop().run_in_executor(None, group, entries)
    return web.json_response({"messages": len(entries), "groups": [g.to_json() for g in groups]})


async def inbox_label(request: web.Request) -> web.Response:
    who = await _supervisor(request)
    try:
        body = await request.json()
        ids = [int(i) for i in body["ids"]]
        n = await label(request.app[ENGINE], ids, str(body.get("kind")), body.get("intent"), by=who)
    except (ValueError, KeyError, TypeError, InboxError) as exc:
        message = str(exc) if isinstance(exc, InboxError) else "send {\"ids\": [..], \"kind\": .., \"intent\": ..}"
        return web.json_response({"error": "BadRequest", "message": message}, status=400)
    return web.json_response({"labelled": n})
