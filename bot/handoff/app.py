"""The handoff service's aiohttp application: ``create_app(settings)``.

HTTP API (JSON; every route but ``/health``, ``/console`` and ``/api/login`` needs
``Authorization: Bearer <token>`` from ``POST /api/login``; see ``auth.py`` for sessions and
login throttling). Nothing is authenticated by a cookie, so a page of another site cannot act
as an agent (no CSRF); JSON bodies must say ``Content-Type: application/json``, which a
cross-site form cannot send. An agent sees and acts on the conversations waiting in their
queues and those assigned to them; supervisors (``TANDEM_SUPERVISORS``) see every one.

====================================  ==========================================================
``GET  /health``                      200 when the database answers (consumer state included)
``GET  /console``                     the agent console page
``POST /api/login``                   ``{"name", "password"}`` → ``{"token", "agent", "skills"}``
                                      (429 with ``Retry-After`` after too many failures)
``POST /api/logout``                  ends the session: the token is refused from then on, and the
                                      agent's conversations go back to the front of the queue
``GET  /api/queue``                   active conversations the agent may see
``POST /api/queue/next``              claim the best waiting conversation (``204`` if none)
``GET  /api/conversations/{id}``      transcript, profile summary, reason, notes
``POST /api/conversations/{id}/accept``
``POST /api/conversations/{id}/reply``      ``{"text"}``, delivered on the customer's channel
``POST /api/conversations/{id}/note``       ``{"text"}``, internal
``POST /api/conversations/{id}/transfer``   ``{"topic"}``
``POST /api/conversations/{id}/handback``
``POST /api/conversations/{id}/close``      ``{"disposition"}``
``GET  /ws?token=...``                live updates (``snapshot``, ``conversation``, ``message``);
                                      the console sends ``{"type": "typing", ...}`` on it
``POST /api/intake``                  ``action_handoff`` hands over a request (HMAC-signed body,
                                      header ``X-Tandem-Signature``) and gets the queue position,
                                      wait and opening hours back (see ``bot/handoff/intake.py``)
====================================  ==========================================================
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable

import aiohttp
import sqlalchemy as sa
from aiohttp import web

from bot.handoff.auth import AgentAuth, LoginThrottle
from bot.handoff.broker import EventBrokerConsumer, consumer_for
from bot.handoff.config import AgentAccount, HandoffConfig
from bot.handoff.console_bus import hub_for
from bot.handoff.cors import cors_middleware
from bot.handoff.customer import setup_customer_routes
from bot.handoff.errors import BadRequest, Conflict, Forbidden, HandoffError, NotFound, TooManyAttempts, Unauthorized
from bot.handoff.intake import SIGNATURE_HEADER, signature_ok
from bot.handoff.models import HandoffRequest
from bot.handoff.profiles import ProfileLookup
from bot.handoff.service import ConsoleHub, HandoffService
from bot.handoff.store import QueueStore
from bot.insights.web import setup_insights_routes
from bot.rasa_api import RasaAPIError, RasaClient, RasaNotFound
from bot.security import cors_origins
from bot.settings import Settings

logger = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
MAX_BODY = 64 * 1024

SETTINGS = web.AppKey("settings", Settings)
CONFIG = web.AppKey("config", HandoffConfig)
STORE = web.AppKey("store", QueueStore)
SERVICE = web.AppKey("service", HandoffService)
AUTH = web.AppKey("auth", AgentAuth)
HUB = web.AppKey("hub", ConsoleHub)
CONSUMER = web.AppKey("consumer", EventBrokerConsumer)
TASKS = web.AppKey("tasks", list)
SHUTTING_DOWN = web.AppKey("shutting_down", asyncio.Event)


def create_app(settings: Settings, config: HandoffConfig | None = None, *, consume: bool = True) -> web.Application:
    """Build the service. ``consume=False`` leaves the broker consumer to the caller (tests)."""
    config = config or HandoffConfig.from_env(var_dir=settings.var_dir)
    # CORS outermost: its headers go on error answers too (bot/handoff/cors.py)
    cors = cors_middleware(cors_origins(settings.handoff_url))
    app = web.Application(middlewares=[cors, error_middleware], client_max_size=MAX_BODY)
    app[SETTINGS] = settings
    app[CONFIG] = config
    app[HUB] = hub_for(settings.redis_url)  # shared through Redis in production (console_bus.py)
    app[TASKS] = []
    app[SHUTTING_DOWN] = asyncio.Event()
    app.cleanup_ctx.append(_resources)
    if consume:
        app.cleanup_ctx.append(_background)
    app.on_shutdown.append(_close_sockets)
    setup_routes(app)
    setup_insights_routes(app)
    setup_customer_routes(app)  # widget files and endpoints, demo shop (bot/handoff/customer.py)
    return app


async def _resources(app: web.Application) -> AsyncIterator[None]:
    settings, config = app[SETTINGS], app[CONFIG]
    store = QueueStore.from_url(settings.handoff_db_url)
    await store.create_schema()
    session = aiohttp.ClientSession()
    profiles = ProfileLookup.from_url(settings.profile_db_url, settings.profile_timeout_s)
    rasa = RasaClient(settings.rasa_url, settings.rasa_token, session=session, timeout_s=config.rasa_timeout_s,
                      retries=config.rasa_retries)
    app[STORE] = store
    app[AUTH] = AgentAuth(
        config.agents, config.secret, store,
        session_idle_s=config.session_idle_s, session_max_s=config.session_max_s,
        by_name=LoginThrottle(config.login_failures, config.login_window_s, "name"),
        by_address=LoginThrottle(config.login_failures * 4, config.login_window_s, "address"),
    )
    app[SERVICE] = HandoffService(store, rasa, app[HUB], profiles, config)
    app[CONSUMER] = consumer_for(app[SERVICE], settings, poll_interval_s=config.poll_interval_s)
    await app[HUB].start()
    try:
        yield
    finally:
        await app[HUB].stop()
        await app[SERVICE].cancel_away_timers()
        await app[CONSUMER].dispose()
        await profiles.close()
        await session.close()
        await store.dispose()


async def _background(app: web.Application) -> AsyncIterator[None]:
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(app[CONSUMER].run_forever(stop), name="handoff-broker-consumer"),
        asyncio.create_task(app[SERVICE].position_updates_forever(stop), name="handoff-position-updates"),
    ]
    app[TASKS].extend(tasks)
    try:
        yield
    finally:
        stop.set()
        _done, pending = await asyncio.wait(tasks, timeout=10)
        for task in pending:  # stuck on a slow database or Rasa call
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _close_sockets(app: web.Application) -> None:
    app[SHUTTING_DOWN].set()
    await app[HUB].close_all()


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Domain errors → JSON with their HTTP status; anything unexpected → logged 500."""
    try:
        return await handler(request)
    except HandoffError as exc:
        headers = {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, TooManyAttempts) else None
        return web.json_response({"error": type(exc).__name__, "message": str(exc)}, status=exc.status,
                                 headers=headers)
    except RasaAPIError as exc:  # nothing reached the customer; the agent reads why
        status = 404 if isinstance(exc, RasaNotFound) else 502
        return web.json_response({"error": type(exc).__name__, "message": str(exc)}, status=status)
    except web.HTTPException:
        raise
    except asyncio.CancelledError:
        raise
    except Exception:
        logger.exception("unexpected error on %s %s", request.method, request.path)
        return web.json_response({"error": "InternalError", "message": "unexpected server error (logged)"}, status=500)


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/health", health)
    app.router.add_get("/", _redirect_console)
    app.router.add_get("/console", console_page)
    app.router.add_static("/static", STATIC, append_version=True)
    app.router.add_post("/api/login", login)
    app.router.add_post("/api/logout", logout)
    app.router.add_get("/api/queue", queue)
    app.router.add_post("/api/queue/next", claim_next)
    app.router.add_get("/api/conversations/{id:\\d+}", conversation_detail)
    app.router.add_post("/api/conversations/{id:\\d+}/accept", accept)
    app.router.add_post("/api/conversations/{id:\\d+}/reply", reply)
    app.router.add_post("/api/conversations/{id:\\d+}/note", note)
    app.router.add_post("/api/conversations/{id:\\d+}/transfer", transfer)
    app.router.add_post("/api/conversations/{id:\\d+}/handback", hand_back)
    app.router.add_post("/api/conversations/{id:\\d+}/close", close)
    app.router.add_get("/ws", websocket)
    app.router.add_post("/api/intake", intake)


async def _redirect_console(_request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/console")


# -- helpers ----------------------------------------------------------------------------------------


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:] if header.startswith("Bearer ") else None


async def _agent(request: web.Request) -> AgentAccount:
    return await request.app[AUTH].verify(_bearer(request))


async def _json(request: web.Request) -> dict[str, Any]:
    raw = await request.read()  # 413 first for a body over the limit
    if request.content_type != "application/json":
        raise BadRequest("the body must be JSON (Content-Type: application/json)")
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest("the body must be JSON") from exc
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def _id(request: web.Request) -> int:
    return int(request.match_info["id"])


# -- handlers ---------------------------------------------------------------------------------------


async def health(request: web.Request) -> web.Response:
    store = request.app[STORE]
    try:
        async with store.begin() as conn:
            await conn.execute(sa.text("SELECT 1"))
            cursor = await store.cursor(conn)
    except Exception as exc:  # noqa: BLE001 - health reports, never raises
        return web.json_response({"status": "down", "database": str(exc)}, status=503)
    consumer = request.app.get(CONSUMER)
    return web.json_response(
        {
            "status": "ok",
            "broker_cursor": cursor,
            "broker_error": consumer.last_error if consumer else None,
            "agents_online": sorted(request.app[HUB].online_agents()),
        }
    )


async def console_page(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "console.html", headers={"Cache-Control": "no-store"})


async def login(request: web.Request) -> web.Response:
    body = await _json(request)
    name, password = body.get("name"), body.get("password")
    if not isinstance(name, str) or not isinstance(password, str):
        raise BadRequest("name and password are required")
    token = await request.app[AUTH].login(name, password, address=request.remote)
    account = request.app[AUTH].agents[name]
    return web.json_response({"token": token, "agent": name, "skills": sorted(t.value for t in account.skills),
                              "supervisor": account.supervisor})


async def logout(request: web.Request) -> web.Response:
    account = await request.app[AUTH].logout(_bearer(request))
    await request.app[HUB].close_agent(account.name)  # their open consoles end with the session
    # what they were serving goes back to the front of the queue now, and each customer is told
    moved = await request.app[SERVICE].agent_logged_out(account.name)
    return web.json_response({"logged_out": account.name, "requeued": [c.id for c in moved]})


async def intake(request: web.Request) -> web.Response:
    body = await request.read()
    if not signature_ok(request.app[CONFIG].secret, body, request.headers.get(SIGNATURE_HEADER)):
        raise Unauthorized("handoff request signature missing or wrong")
    try:
        data = json.loads(body)
        req = HandoffRequest.from_slot(data["request"], str(data["sender_id"]))
    except (ValueError, TypeError, KeyError) as exc:
        raise BadRequest(f"malformed handoff request: {exc}") from exc
    if not req.sender_id:
        raise BadRequest("malformed handoff request: empty sender_id")
    answer = await request.app[SERVICE].intake(req)
    return web.json_response(answer.to_json())


async def queue(request: web.Request) -> web.Response:
    agent = await _agent(request)
    return web.json_response({"conversations": await request.app[SERVICE].queue(agent)})


async def claim_next(request: web.Request) -> web.Response:
    agent = await _agent(request)
    conv = await request.app[SERVICE].claim_next(agent)
    if conv is None:
        return web.Response(status=204)
    return web.json_response({"conversation": conv.to_json()})


async def conversation_detail(request: web.Request) -> web.Response:
    agent = await _agent(request)
    return web.json_response(await request.app[SERVICE].detail(agent, _id(request)))


async def accept(request: web.Request) -> web.Response:
    agent = await _agent(request)
    conv = await request.app[SERVICE].accept(agent, _id(request))
    return web.json_response({"conversation": conv.to_json()})


async def reply(request: web.Request) -> web.Response:
    agent = await _agent(request)
    body = await _json(request)
    await request.app[SERVICE].reply(agent, _id(request), body.get("text"))
    return web.json_response({"delivered": True})


async def note(request: web.Request) -> web.Response:
    agent = await _agent(request)
    body = await _json(request)
    msg = await request.app[SERVICE].note(agent, _id(request), body.get("text"))
    return web.json_response({"message": msg.to_json()})


async def transfer(request: web.Request) -> web.Response:
    agent = await _agent(request)
    body = await _json(request)
    conv = await request.app[SERVICE].transfer(agent, _id(request), str(body.get("topic") or ""))
    return web.json_response({"conversation": conv.to_json()})


async def hand_back(request: web.Request) -> web.Response:
    agent = await _agent(request)
    conv = await request.app[SERVICE].hand_back(agent, _id(request))
    return web.json_response({"conversation": conv.to_json()})


async def close(request: web.Request) -> web.Response:
    agent = await _agent(request)
    body = await _json(request)
    conv = await request.app[SERVICE].close(agent, _id(request), str(body.get("disposition") or ""))
    return web.json_response({"conversation": conv.to_json()})


async def _console_event(service: HandoffService, agent: AgentAccount, data: str) -> None:
    """``{"type": "typing", "conversation_id": N, "typing": bool}``: the agent types (or stopped)."""
    try:
        event = json.loads(data)
    except ValueError:
        return
    if not isinstance(event, dict) or event.get("type") != "typing":
        return
    conv_id, on = event.get("conversation_id"), event.get("typing")
    if not isinstance(conv_id, int) or not isinstance(on, bool):
        return
    try:
        await service.typing(agent, conv_id, on)
    except (Conflict, Forbidden, NotFound) as exc:
        logger.info("typing of %s in conversation %s ignored: %s", agent.name, conv_id, exc)


async def websocket(request: web.Request) -> web.WebSocketResponse:
    """Live console feed. Auth by ``?token=`` (browsers cannot set headers on WebSockets).

    The server pings every ``heartbeat_s`` (aiohttp closes the socket if no pong arrives) and
    refreshes the agent's presence in the database, which the ETA uses to count agents.
    """
    try:
        agent = await request.app[AUTH].verify(request.query.get("token"))
    except Unauthorized as exc:
        raise web.HTTPUnauthorized(text=str(exc)) from exc
    config, service, hub = request.app[CONFIG], request.app[SERVICE], request.app[HUB]
    ws = web.WebSocketResponse(heartbeat=config.heartbeat_s, max_msg_size=MAX_BODY)
    await ws.prepare(request)
    await service.agent_seen(agent)
    service.console_back(agent.name)
    await ws.send_json({"type": "snapshot", "agent": agent.name, "conversations": await service.queue(agent)})
    hub.add(ws, agent)

    async def presence() -> None:
        while True:
            await asyncio.sleep(config.heartbeat_s)
            await service.agent_seen(agent)

    presence_task = asyncio.create_task(presence())
    try:
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                if msg.data == "ping":
                    await ws.send_str("pong")
                elif msg.data == "snapshot":
                    await ws.send_json({"type": "snapshot", "agent": agent.name,
                                        "conversations": await service.queue(agent)})
                else:
                    await _console_event(service, agent, msg.data)
            elif msg.type == aiohttp.WSMsgType.ERROR:
                logger.info("console socket of %s closed with %s", agent.name, ws.exception())
    finally:
        presence_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await presence_task
        hub.remove(ws)
        if agent.name not in hub.online_agents():
            # offline first: the away timer then reads whether another service has them since
            with contextlib.suppress(Exception):
                await service.agent_seen(agent, online=False)
            if not request.app[SHUTTING_DOWN].is_set() and agent.name not in hub.online_agents():
                service.console_gone(agent.name)  # a restart is not the agent going away
    return ws
