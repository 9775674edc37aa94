"""Rasa's socket.io channel, with conversations bound to the connection that owns them.

Rasa 3.6's :class:`~rasa.core.channels.socketio.SocketIOInput` lets any client send
``session_request`` for any ``session_id``: it joins that room and reads another customer's
replies, and it may send messages into that conversation. This subclass keeps Rasa's protocol
(``session_request`` → ``session_confirm``, ``user_uttered``, ``bot_uttered``) and adds an owner:

- on ``connect`` the client may pass ``{"identity_token": ...}`` as socket.io ``auth``; a valid
  token (:mod:`bot.identity_token`) makes the connection's principal ``sub:<subject>``, anything
  else an anonymous visitor;
- ``session_request`` without a ``session_id`` gets a new unguessable id; with one, the request
  is granted only with the conversation token this channel issued for it (and, for a signed-in
  customer's conversation, only to the same subject), or for a conversation that does not exist
  yet and that no other connection holds. A granted request receives ``session_token``
  (``{"session_id", "token"}``, see :mod:`bot.channels.session_token`) before ``session_confirm``;
  a refused one ``session_refused`` and no room;
- ``user_uttered`` is accepted only for the conversation this connection was granted; it is
  acknowledged (socket.io ack ``{"ok": true}``) once the bot has answered, so the widget can
  resend what was not acknowledged after a drop; a repeated ``client_id`` is not processed twice.

Metadata: the message's ``metadata`` and ``customData`` (what web widgets send) are merged. An
``identity_token`` in them is kept only when it is valid for the connection's own subject; a
connection with a verified identity adds its token when the message has none (the actions verify
it, ``bot/actions_support/identity.py``) and loses any unsigned ``customer`` the browser sent.

Bot messages go out as one ``bot_uttered`` per message with its ``timestamp`` (the tracker
event's, which the widget uses to fetch and de-duplicate what it missed), quick replies, and the
``agent``/``handed_back`` markers the handoff service puts on agent messages.

``POST /webhooks/socketio/typing?token=<Rasa's API token>`` with ``{"session_id", "typing",
"agent"}`` emits ``typing`` (``{"typing": bool, "agent": name}``) to that conversation's room
only: the handoff service calls it while an agent types in the console. Nothing is stored in the
tracker (a typing indicator is not part of the conversation).

Several Rasa replicas (the production switch's ``TANDEM_REDIS_URL``): the socket.io server's
client manager is python-socketio's ``AsyncRedisManager`` on the deployment's channel
(:mod:`bot.redis_bus`), speaking JSON instead of its default pickle. Every emit (a bot reply, an
agent's message sent through any replica's HTTP API, a typing indicator) goes through Redis and
each replica delivers it to the sockets of that room it holds, so a widget connected to replica A
receives what replica B sends, once. Ownership holds across replicas as it is: a room is a
conversation id, the proof is a signed token any replica verifies, and the two things a process
alone cannot know are kept in Redis: which connection holds a conversation that has no messages
yet (``<prefix>:socketio:claim:<id>``), and the client message ids already processed (a message
resent after a reconnection to another replica is processed once). The transport must be
websocket only, or polling with sticky sessions: an Engine.IO polling session lives in one
process (docs/scaling.md). Without ``TANDEM_REDIS_URL`` (``make run``) all of this stays in memory.
"""

from __future__ import annotations

import hmac
import json
import logging
import uuid
from collections import OrderedDict
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncRedisManager, AsyncServer

from bot import identity_token, redis_bus
from bot.channels import session_token
from bot.channels.guard import Accepted, Guard, GuardConfig, render

logger = logging.getLogger(__name__)

#: metadata keys a message may carry (anything else from the browser is dropped)
ALLOWED_METADATA = {"identity_token", "client_id", "display", "customer"}
MAX_MESSAGE_CHARS = 10_000
#: client message ids remembered per conversation, to process a resent message once
REMEMBERED_IDS = 200
#: how long Redis remembers a processed client message id, and a claim on an empty conversation
SEEN_ID_TTL_S = 24 * 3600
CLAIM_TTL_S = 24 * 3600


class JsonRedisManager(AsyncRedisManager):
    """python-socketio's Redis client manager, its messages JSON instead of pickle.

    The library pickles what it publishes and unpickles what it receives: anyone able to publish
    on the channel could run code in every Rasa replica. Everything emitted here is JSON already
    (it goes to browsers), so JSON loses nothing; a message that is not JSON is ignored."""

    async def _publish(self, data: Any) -> Any:
        from redis.exceptions import RedisError

        body = json.dumps(data)
        for attempt in (1, 2):
            try:
                if attempt == 2:
                    self._redis_connect()  # a fresh connection for the second try
                return await self.redis.publish(self.channel, body)
            except RedisError as exc:
                logger.error("socket.io: could not publish on %s (%s, attempt %d)", self.channel, exc, attempt)
        return None

    async def _listen(self) -> Any:  # an async generator, as the base class's
        async for raw in super()._listen():
            try:
                message = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                logger.warning("socket.io: a message on %s that is not JSON was ignored", self.channel)
                continue
            if isinstance(message, dict):
                yield message


class TandemSocketIOOutput(SocketIOOutput):
    """One ``bot_uttered`` per bot message, with its timestamp and handoff markers."""

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        message = dict(message)
        text = message.get("text") or ""
        buttons = message.get("quick_replies") or message.get("buttons") or []
        payload: Dict[str, Any] = {"text": text, "timestamp": message.get("timestamp")}
        if buttons:
            payload["quick_replies"] = [
                {"content_type": "text", "title": b.get("title"), "payload": b.get("payload")}
                for b in buttons if isinstance(b, dict)
            ]
        for key in ("agent", "handoff", "handed_back"):
            if message.get(key):
                payload[key] = message[key]
        if text or buttons:
            await self._send_message(recipient_id, payload)
        rest = {k: message[k] for k in ("custom", "image", "attachment", "elements") if message.get(k)}
        if rest:
            await super().send_response(recipient_id, rest)


class _SocketBlueprint(SocketBlueprint):
    """Rasa's blueprint, remembering the app so the channel can reach the tracker store."""

    def __init__(self, channel: "TandemSocketIOInput", *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ctx.tandem_channel = channel

    def register(self, app: Sanic, options: Dict[Text, Any]) -> None:
        self.ctx.tandem_channel.app = app
        super().register(app, options)


class TandemSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel with per-connection ownership of conversations."""

    @classmethod
    def name(cls) -> Text:
        # the same name as Rasa's: the HTTP API's output_channel=latest finds it by this name
        return "socketio"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.app: Optional[Sanic] = None
        # the checks every channel applies before NLU (size, emptiness, per-sender rate);
        # settings from the environment, as for the REST channel (bot/channels/guard.py)
        self.guard = Guard(GuardConfig.from_settings(None))
        self._identity_secret: Optional[str] = None
        self._api_token: Optional[str] = None
        self._session_secret: Optional[bytes] = None
        self._principal: Dict[str, str] = {}  # sid -> "sub:<subject>" or "anon"
        self._identity: Dict[str, str] = {}  # sid -> its verified identity token
        self._claims: Dict[str, identity_token.IdentityClaims] = {}  # sid -> that token's claims
        self._granted: Dict[str, str] = {}  # sid -> session id
        self._seen_ids: "OrderedDict[str, OrderedDict[str, bool]]" = OrderedDict()
        self._redis_url: Optional[str] = None
        self._redis_read = False
        self._redis: Any = None  # redis.asyncio.Redis, shared by the replicas (claims, seen ids)
        self._host = uuid.uuid4().hex  # this process, in the claims it holds

    # -- secrets (read on first use, in the Rasa process) ------------------------------------------

    def identity_secret(self) -> str:
        if self._identity_secret is None:
            from bot.settings import Settings

            self._identity_secret = identity_token.identity_secret(Settings.from_env().var_dir)
        return self._identity_secret

    def api_token(self) -> str:
        """Rasa's own HTTP API token (``RASA_TOKEN`` or the generated one, as ``rasa run`` gets it)."""
        if self._api_token is None:
            from bot.settings import Settings

            self._api_token = Settings.from_env().rasa_token
        return self._api_token

    def allowed_origins(self) -> list[str]:
        from bot.security import cors_origins
        from bot.settings import Settings

        return cors_origins(Settings.from_env().handoff_url)

    def session_secret(self) -> bytes:
        if self._session_secret is None:
            self._session_secret = session_token.session_secret()
        return self._session_secret

    def redis_url(self) -> Optional[str]:
        """``TANDEM_REDIS_URL``: set, the replicas share sockets' rooms and claims through Redis."""
        if not self._redis_read:
            from bot.settings import Settings

            self._redis_url = Settings.from_env().redis_url
            self._redis_read = True
        return self._redis_url

    def client_manager(self) -> Optional[JsonRedisManager]:
        """The socket.io client manager: Redis with several replicas, None (in memory) without."""
        url = self.redis_url()
        if not url:
            return None
        return JsonRedisManager(redis_bus.client_url(url), channel=redis_bus.channel(url, "socketio"))

    def shared(self) -> Any:
        """The Redis client of the claims and seen ids, or None in the embedded set-up."""
        url = self.redis_url()
        if url and self._redis is None:
            self._redis = redis_bus.client(url)
        return self._redis

    def get_output_channel(self) -> Optional[SocketIOOutput]:
        if self.sio is None:
            return super().get_output_channel()
        return TandemSocketIOOutput(self.sio, self.bot_message_evt)

    # -- ownership ---------------------------------------------------------------------------------

    def principal_for(self, auth: Any) -> tuple[str, Optional[identity_token.IdentityClaims]]:
        token = auth.get(identity_token.METADATA_KEY) if isinstance(auth, dict) else None
        if not token:
            return session_token.ANONYMOUS, None
        try:
            claims = identity_token.verify(token, self.identity_secret())
        except identity_token.InvalidIdentityToken as exc:
            logger.info("socket.io connection with an invalid identity token (%s): anonymous", exc)
            return session_token.ANONYMOUS, None
        return f"sub:{claims.subject}", claims

    def _holders(self, session_id: str) -> set[str]:
        return {sid for sid, granted in self._granted.items() if granted == session_id}

    async def _conversation_exists(self, session_id: str) -> bool:
        agent = getattr(getattr(self.app, "ctx", None), "agent", None) if self.app else None
        store = getattr(agent, "tracker_store", None)
        if store is None:
            return False
        return bool(await store.exists(session_id))

    async def decide(self, sid: str, data: Any) -> tuple[Optional[str], str]:
        """``(session_id, "")`` when the request is granted, ``(None, reason)`` when refused."""
        data = data if isinstance(data, dict) else {}
        principal = self._principal.get(sid, session_token.ANONYMOUS)
        requested = data.get("session_id")
        if not requested:
            return uuid.uuid4().hex, ""
        if not isinstance(requested, str) or len(requested) > 128:
            return None, "malformed session id"
        proof = data.get("session_token")
        if proof:
            try:
                owner = session_token.verify(proof, self.session_secret(), requested)
            except session_token.InvalidSessionToken as exc:
                return None, f"invalid conversation token ({exc})"
            if owner != session_token.ANONYMOUS and owner != principal:
                return None, "this conversation belongs to another signed-in customer"
            return requested, ""
        # no proof: only a conversation that does not exist yet, held by no other connection
        exists = await self._conversation_exists(requested)
        others = self._holders(requested) - {sid}
        if exists or others:
            return None, "this conversation belongs to another connection"
        return requested, ""

    def grant(self, sid: str, session_id: str) -> str:
        owner = self._principal.get(sid, session_token.ANONYMOUS)
        self._granted[sid] = session_id
        return session_token.issue(self.session_secret(), session_id, owner)

    def message_metadata(self, sid: str, data: Dict[str, Any]) -> Dict[str, Any]:
        merged: Dict[str, Any] = {}
        for key in (self.metadata_key or "metadata", "customData"):
            value = data.get(key)
            if isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    value = None
            if isinstance(value, dict):
                merged.update({k: v for k, v in value.items() if k in ALLOWED_METADATA})
        if isinstance(merged.get("display"), str):
            merged["display"] = merged["display"][:200]
        else:
            merged.pop("display", None)
        token = merged.get(identity_token.METADATA_KEY)
        principal = self._principal.get(sid, session_token.ANONYMOUS)
        if token:
            try:
                claims = identity_token.verify(token, self.identity_secret())
                if f"sub:{claims.subject}" != principal:
                    merged.pop(identity_token.METADATA_KEY)
            except identity_token.InvalidIdentityToken:
                merged.pop(identity_token.METADATA_KEY)
        if identity_token.METADATA_KEY not in merged and sid in self._identity:
            merged[identity_token.METADATA_KEY] = self._identity[sid]
        if sid in self._claims:
            merged.pop("customer", None)  # a verified connection carries its identity signed, nothing else
        return merged

    async def claim(self, sid: str, session_id: str) -> bool:
        """Hold ``session_id`` (a conversation with no messages yet, asked for without a token)
        for connection ``sid`` across replicas; False when another connection holds it."""
        shared = self.shared()
        if shared is None:
            return True  # one process: _holders() saw every connection
        key = redis_bus.channel(self.redis_url() or "", f"socketio:claim:{session_id}")
        holder = f"{self._host}:{sid}"
        if await shared.set(key, holder, nx=True, ex=CLAIM_TTL_S):
            return True
        return (await shared.get(key) or b"").decode() == holder

    async def release(self, sid: str, session_id: Optional[str]) -> None:
        """Let go of the claim ``sid`` may hold on ``session_id`` (it left, or took another)."""
        shared = self.shared()
        if shared is None or not session_id:
            return
        key = redis_bus.channel(self.redis_url() or "", f"socketio:claim:{session_id}")
        try:
            if (await shared.get(key) or b"").decode() == f"{self._host}:{sid}":
                await shared.delete(key)
        except Exception as exc:  # noqa: BLE001 - the claim expires on its own
            logger.info("socket.io: claim on %s not released (%s)", session_id, exc)

    async def first_time(self, session_id: str, client_id: Any) -> bool:
        """False when this conversation already received the message ``client_id`` (on any
        replica, with Redis)."""
        if not isinstance(client_id, str) or not client_id:
            return True
        shared = self.shared()
        if shared is not None:
            key = redis_bus.channel(self.redis_url() or "", f"socketio:seen:{session_id}:{client_id[:200]}")
            return bool(await shared.set(key, b"1", nx=True, ex=SEEN_ID_TTL_S))
        ids = self._seen_ids.setdefault(session_id, OrderedDict())
        self._seen_ids.move_to_end(session_id)
        if client_id in ids:
            return False
        ids[client_id] = True
        while len(ids) > REMEMBERED_IDS:
            ids.popitem(last=False)
        while len(self._seen_ids) > 10_000:
            self._seen_ids.popitem(last=False)
        return True

    def forget(self, sid: str) -> None:
        for table in (self._principal, self._identity, self._claims, self._granted):
            table.pop(sid, None)

    # -- the blueprint -----------------------------------------------------------------------------

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # CORS headers are Rasa's (sanic-cors, ``--cors``); the origin check is in ``connect``
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[], client_manager=self.client_manager())
        origins = set(self.allowed_origins())
        socketio_webhook = _SocketBlueprint(self, sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio
        namespace = self.namespace

        @socketio_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @socketio_webhook.route("/typing", methods=["POST"])
        async def typing(request: Request) -> HTTPResponse:
            given = request.args.get("token") or ""
            if not hmac.compare_digest(given.encode(), self.api_token().encode()):
                return response.json({"error": "Rasa's API token is required"}, status=401)
            try:
                body = json.loads(request.body or b"null")
            except ValueError:
                body = None
            session_id = body.get("session_id") if isinstance(body, dict) else None
            on = body.get("typing") if isinstance(body, dict) else None
            agent = body.get("agent") if isinstance(body, dict) else None
            if not isinstance(session_id, str) or not session_id or not isinstance(on, bool) \
                    or not (agent is None or isinstance(agent, str)):
                return response.json({"error": 'send {"session_id": str, "typing": bool, "agent": str or null}'},
                                     status=400)
            await sio.emit("typing", {"typing": on, "agent": agent}, room=session_id, namespace=namespace)
            return response.json({"ok": True})

        @sio.on("connect", namespace=namespace)
        async def connect(sid: Text, environ: Dict, auth: Optional[Dict] = None) -> bool:
            # browsers may connect only from the origins allowed to call Rasa (TANDEM_CORS_ORIGINS,
            # by default the handoff service's, where the demo shop is); a client that sends no
            # Origin is not a browser page another site could abuse
            origin = environ.get("HTTP_ORIGIN")
            if origin and origin not in origins:
                logger.info("socket.io connection from origin %s refused (not in TANDEM_CORS_ORIGINS)", origin)
                return False
            if self.jwt_key and not self._rasa_jwt_ok(auth):
                return False
            principal, claims = self.principal_for(auth)
            self._principal[sid] = principal
            if claims is not None:
                self._identity[sid] = auth[identity_token.METADATA_KEY]
                self._claims[sid] = claims
            return True

        @sio.on("disconnect", namespace=namespace)
        async def disconnect(sid: Text) -> None:
            granted = self._granted.get(sid)
            self.forget(sid)
            await self.release(sid, granted)

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: Text, data: Optional[Dict] = None) -> None:
            session_id, reason = await self.decide(sid, data)
            if session_id is not None:
                # decided after an await: another connection may have taken a new id meanwhile
                proof = data.get("session_token") if isinstance(data, dict) else None
                if not proof and (self._holders(session_id) - {sid} or not await self.claim(sid, session_id)):
                    session_id, reason = None, "this conversation belongs to another connection"
            if session_id is None:
                logger.info("socket.io %s refused a conversation: %s", sid, reason)
                await sio.emit("session_refused", {"reason": reason}, room=sid, namespace=namespace)
                return
            previous = self._granted.get(sid)
            if previous and previous != session_id:
                sio.leave_room(sid, previous, namespace=namespace)
                await self.release(sid, previous)
            token = self.grant(sid, session_id)
            sio.enter_room(sid, session_id, namespace=namespace)  # synchronous in python-socketio 5.9
            await sio.emit("session_token", {"session_id": session_id, "token": token}, room=sid, namespace=namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: Text, data: Any = None) -> Dict[str, Any]:
            if not isinstance(data, dict):
                return {"ok": False, "error": "a message is an object with message and session_id"}
            session_id = data.get("session_id")
            if not session_id or self._granted.get(sid) != session_id:
                await sio.emit("message_refused", {"session_id": session_id,
                                                   "reason": "not a conversation of this connection"},
                               room=sid, namespace=namespace)
                return {"ok": False, "error": "not a conversation of this connection"}
            text = data.get("message")
            if isinstance(text, str) and len(text) > MAX_MESSAGE_CHARS:
                # far past the guard's polite limit: refused unread, like the REST channel's 413
                return {"ok": False, "error": f"message must be text of at most {MAX_MESSAGE_CHARS} characters"}
            metadata = self.message_metadata(sid, data)
            if not await self.first_time(session_id, metadata.get("client_id")):
                return {"ok": True, "duplicate": True}
            output = TandemSocketIOOutput(sio, self.bot_message_evt)
            verdict = self.guard.check(session_id, text)
            if not isinstance(verdict, Accepted):
                agent = getattr(getattr(self.app, "ctx", None), "agent", None)
                for message in await render(agent, verdict.response, session_id, self.name()):
                    await output.send_response(session_id, message)
                return {"ok": True, "refused": verdict.reason}
            await on_new_message(UserMessage(text, output, session_id, input_channel=self.name(), metadata=metadata))
            return {"ok": True}

        return socketio_webhook

    def _rasa_jwt_ok(self, auth: Any) -> bool:
        """Rasa's own ``jwt_key`` check, kept for deployments that configure it."""
        from rasa.core.channels.channel import decode_bearer_token

        token = auth.get("token") if isinstance(auth, dict) else None
        return bool(token and decode_bearer_token(token, self.jwt_key, self.jwt_algorithm))
