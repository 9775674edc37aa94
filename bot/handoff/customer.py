"""The customer's side of the handoff service: widget files, the widget's endpoints, the demo shop.

``setup_customer_routes(app)`` adds, to the service ``create_app`` builds:

====================================  ==========================================================
``GET  /widget/tandem-widget.js``     the widget bundle (``widget/dist``, built by install.sh)
``GET  /widget/api/messages``         ``?session_id=&since=`` the conversation's lines since a
                                      point (unix seconds), for a widget back from a reload or a
                                      network drop
``GET  /widget/api/status``           ``?session_id=`` the conversation's handoff: status, queue
                                      position and wait, agent, whether a rating is due
``POST /widget/api/rating``           ``{"session_id", "rating": 1-5, "comment"?}`` after an
                                      agent closed the conversation
``GET  /shop``                        the demo shop page with the widget embedded
``GET  /shop/api/identity``           ``?as=<demo customer>`` a signed identity token for one of
                                      the demo customers (the shop's "signed in as" switch)
====================================  ==========================================================

The ``/widget/api`` endpoints need ``Authorization: Bearer <conversation token>``: the token the
socket.io channel gave that browser for that conversation (:mod:`bot.channels.session_token`),
never Rasa's API token, which stays on the server. The rating is stored as the ``csat_rating``
and ``csat_comment`` slots appended to the Rasa tracker, so the supervisor reports read it from
the event broker like every other event. The demo shop is for trying tandem on one machine:
``TANDEM_DEMO_SHOP=0`` turns it off (its identity endpoint signs in anyone as a demo customer).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from aiohttp import web

from bot import identity_token
from bot.channels import session_token
from bot.handoff import routing
from bot.handoff.errors import BadRequest, Unauthorized
from bot.handoff.models import Conversation, MessageKind, Status
from bot.handoff.store import conversations as conversations_table
from bot.handoff.store import utcnow
from bot.rasa_api import RasaNotFound
from bot.settings import ROOT

WIDGET_DIST = ROOT / "widget" / "dist"
SHOP_DIR = Path(__file__).parent / "shop"
RATING_PREFIX = "Customer rating: "

#: the demo shop's customers (bot/profile/README.md, "Demo data"); the key is the shop's login
DEMO_CUSTOMERS: dict[str, dict[str, str]] = {
    "amelia": {"subject": "shop-user-1001", "name": "Amelia Hart", "customer_number": "C1000001",
               "email": "amelia.hart@example.com"},
    "ben": {"subject": "shop-user-1002", "name": "Ben Okafor", "customer_number": "C1000002",
            "email": "ben.okafor@example.net"},
    "chloe": {"subject": "shop-user-1003", "name": "Chloe Martin", "customer_number": "C1000003"},
}

SESSION_SECRET = web.AppKey("customer_session_secret", bytes)
IDENTITY_SECRET = web.AppKey("customer_identity_secret", str)


def setup_customer_routes(app: web.Application) -> None:
    """Register the widget's files and endpoints and (unless turned off) the demo shop."""
    from bot.handoff.app import CONFIG, SETTINGS

    settings = app[SETTINGS]
    app[SESSION_SECRET] = app[CONFIG].secret  # the same secret the socket.io channel signs with
    app.router.add_get("/widget/tandem-widget.js", widget_script)
    app.router.add_get("/widget/api/messages", missed_messages)
    app.router.add_get("/widget/api/status", conversation_status)
    app.router.add_post("/widget/api/rating", rating)
    if os.environ.get("TANDEM_DEMO_SHOP", "1") != "0":
        app[IDENTITY_SECRET] = identity_token.identity_secret(settings.var_dir)
        app.router.add_get("/shop", shop_page)
        app.router.add_get("/shop/api/identity", shop_identity)
        app.router.add_static("/shop/assets", SHOP_DIR)


# -- files ----------------------------------------------------------------------------------------


async def widget_script(_request: web.Request) -> web.StreamResponse:
    path = WIDGET_DIST / "tandem-widget.js"
    if not path.exists():
        return web.json_response(
            {"error": "WidgetNotBuilt", "message": "the widget is not built: run scripts/install.sh (needs npm)"},
            status=503,
        )
    return web.FileResponse(path, headers={"Cache-Control": "no-cache", "Content-Type": "text/javascript"})


async def shop_page(request: web.Request) -> web.Response:
    """The shop page, told where the Rasa server's socket.io channel is (``RASA_URL``)."""
    from bot.handoff.app import SETTINGS

    config = json.dumps({"socketUrl": os.environ.get("TANDEM_WIDGET_SOCKET_URL") or request.app[SETTINGS].rasa_url})
    page = (SHOP_DIR / "index.html").read_text().replace("{{WIDGET_CONFIG}}", config.replace("</", "<\\/"))
    return web.Response(text=page, content_type="text/html", headers={"Cache-Control": "no-store"})


async def shop_identity(request: web.Request) -> web.Response:
    """The shop's back end: a short-lived signed token for the chosen demo customer (none: anonymous)."""
    who = request.query.get("as", "")
    if who in ("", "anonymous"):
        return web.json_response({"token": None, "customer": None})
    customer = DEMO_CUSTOMERS.get(who)
    if customer is None:
        raise BadRequest(f"unknown demo customer {who!r}; use one of {sorted(DEMO_CUSTOMERS)} or anonymous")
    claims = {k: v for k, v in customer.items() if k != "subject"}
    token = identity_token.issue(request.app[IDENTITY_SECRET], customer["subject"], **claims)
    return web.json_response({"token": token, "customer": {"login": who, "name": customer["name"]}},
                             headers={"Cache-Control": "no-store"})


# -- the widget's endpoints ---------------------------------------------------------------------------


def _session(request: web.Request, session_id: Any) -> str:
    """The conversation the bearer token proves, which must be ``session_id``."""
    if not isinstance(session_id, str) or not session_id:
        raise BadRequest("session_id is required")
    header = request.headers.get("Authorization", "")
    token = header[7:] if header.startswith("Bearer ") else None
    try:
        session_token.verify(token, request.app[SESSION_SECRET], session_id)
    except session_token.InvalidSessionToken as exc:
        raise Unauthorized(f"not this conversation's token: {exc}") from exc
    return session_id


async def missed_messages(request: web.Request) -> web.Response:
    from bot.handoff.app import SERVICE

    sender_id = _session(request, request.query.get("session_id"))
    try:
        since = float(request.query.get("since") or 0)
    except ValueError as exc:
        raise BadRequest("since must be a number of seconds") from exc
    if not math.isfinite(since):
        raise BadRequest("since must be a finite number")
    try:
        tracker = await request.app[SERVICE].rasa.tracker(sender_id)
    except RasaNotFound:
        tracker = {"events": []}
    lines = widget_lines(tracker.get("events") or [], since)
    return web.json_response({"messages": lines, "conversation": await _status(request.app, sender_id)},
                             headers={"Cache-Control": "no-store"})


def widget_lines(events: list[dict[str, Any]], since: float) -> list[dict[str, Any]]:
    """The customer's and the bot's/agents' lines at or after ``since``, as the widget shows them."""
    lines = []
    for ev in events:
        kind, ts = ev.get("event"), ev.get("timestamp")
        if kind not in ("user", "bot") or not isinstance(ts, (int, float)) or ts < since:
            continue
        meta = ev.get("metadata") or {}
        if kind == "user":
            text = meta.get("display") if isinstance(meta.get("display"), str) else ev.get("text")
            if text:
                lines.append({"kind": "customer", "text": text, "timestamp": ts, "client_id": meta.get("client_id")})
            continue
        data = ev.get("data") or {}
        buttons = data.get("quick_replies") or data.get("buttons") or []
        line: dict[str, Any] = {"kind": "agent" if meta.get("agent") else "bot", "text": ev.get("text") or "",
                                "timestamp": ts}
        if buttons:
            line["quick_replies"] = [{"title": b.get("title"), "payload": b.get("payload")}
                                     for b in buttons if isinstance(b, dict)]
        for key in ("agent", "handed_back"):
            if meta.get(key):
                line[key] = meta[key]
        if line["text"] or buttons:
            lines.append(line)
    return lines


async def conversation_status(request: web.Request) -> web.Response:
    sender_id = _session(request, request.query.get("session_id"))
    return web.json_response({"conversation": await _status(request.app, sender_id)},
                             headers={"Cache-Control": "no-store"})


async def _latest(app: web.Application, sender_id: str) -> Conversation | None:
    from bot.handoff.app import STORE

    store = app[STORE]
    async with store.begin() as conn:
        conv_id = (await conn.execute(
            sa.select(conversations_table.c.id)
            .where(conversations_table.c.sender_id == sender_id)
            .order_by(conversations_table.c.id.desc()).limit(1)
        )).scalar()
        return None if conv_id is None else await store.get(conn, conv_id)


async def _rated(app: web.Application, conv_id: int) -> bool:
    from bot.handoff.app import STORE

    async with app[STORE].begin() as conn:
        msgs = await app[STORE].messages(conn, conv_id)
    return any(m.kind is MessageKind.SYSTEM and m.text.startswith(RATING_PREFIX) for m in msgs)


async def _status(app: web.Application, sender_id: str) -> dict[str, Any] | None:
    """What the widget shows about the handoff: queue position and wait, agent, rating due."""
    from bot.handoff.app import CONFIG, STORE

    conv = await _latest(app, sender_id)
    if conv is None:
        return None
    out: dict[str, Any] = {"id": conv.id, "status": conv.status.value, "agent": conv.agent,
                           "topic": conv.topic.value, "mode": conv.mode.value}
    if conv.status is Status.WAITING:
        store, config = app[STORE], app[CONFIG]
        async with store.begin() as conn:
            keys = await store.waiting_keys(conn, conv.topic)
            agents, busy = await store.agents_for(conn, conv.topic, config.presence_ttl_s)
            handle = routing.typical_handle_s(await store.recent_handle_s(conn, conv.topic), config.default_handle_s)
        ids = [conv_id for conv_id, _key in keys]
        if conv.id in ids:
            position = ids.index(conv.id) + 1
            out["position"] = position
            if agents:
                out["wait"] = describe_wait(routing.estimate_wait_s(position, agents, handle, busy))
    if conv.status is Status.CLOSED and conv.agent:
        out["rating_due"] = not await _rated(app, conv.id)
    return out


def describe_wait(eta_s: int | None) -> str | None:
    """The widget's queue line: 'under a minute', 'about 4 minutes' (rounded up, as the bot does)."""
    if eta_s is None:
        return None
    return "under a minute" if eta_s < 60 else f"about {max(2, math.ceil(eta_s / 60))} minutes"


async def rating(request: web.Request) -> web.Response:
    from bot.handoff.app import SERVICE, STORE

    try:
        body = await request.json()
    except ValueError as exc:
        raise BadRequest("the body must be JSON") from exc
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    sender_id = _session(request, body.get("session_id"))
    value = body.get("rating")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value not in (1, 2, 3, 4, 5):
        raise BadRequest("rating must be a whole number from 1 to 5")
    comment = body.get("comment") or ""
    if not isinstance(comment, str) or len(comment) > 1000:
        raise BadRequest("comment must be text of at most 1000 characters")
    conv = await _latest(request.app, sender_id)
    if conv is None or conv.status is not Status.CLOSED or not conv.agent:
        raise BadRequest("there is no conversation with an agent to rate")
    if await _rated(request.app, conv.id):
        raise BadRequest("this conversation has already been rated")
    events = [{"event": "slot", "name": "csat_rating", "value": float(value)},
              {"event": "slot", "name": "csat_comment", "value": comment.strip() or None}]
    await request.app[SERVICE].rasa.append_events(sender_id, events)  # Rasa down: 503, nothing stored
    store = request.app[STORE]
    async with store.begin() as conn:
        text = f"{RATING_PREFIX}{int(value)}/5" + (f": {comment.strip()}" if comment.strip() else "")
        await store.add_message(conn, conv.id, MessageKind.SYSTEM, text)
    return web.json_response({"stored": True, "conversation_id": conv.id, "at": utcnow().isoformat() + "Z"})
