"""The REST channel (``/webhooks/rest/webhook``) behind :mod:`bot.channels.guard`.

Configured in credentials.yml as ``bot.channels.rest.GuardedRestInput`` instead of Rasa's
``rest``; it keeps Rasa's URL, request and reply format, and differs in what it lets through:

- every message passes the guard (size, emptiness, per-sender rate) before NLU;
- a body that is not a JSON object, or has no usable ``sender``, gets a 400 with a JSON
  error, instead of a stack trace and a conversation called ``default``;
- a body larger than ``max_body_bytes`` gets a 413 without being parsed;
- the ``input_channel`` is always ``rest``: Rasa's channel lets the caller name any channel,
  and a messaging channel's sender id is taken as that customer's verified phone number.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Mapping

import rasa.utils.endpoints
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

from bot.channels.guard import Accepted, BadRequest, Guard, GuardConfig, render

logger = logging.getLogger(__name__)

#: a 1 MB message is still answered politely; anything far larger is refused unparsed
DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024


class GuardedRestInput(RestInput):
    """Rasa's REST channel with the guard in front (see the module docstring)."""

    def __init__(self, config: GuardConfig | None = None, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.guard = Guard(config)
        self.max_body_bytes = max_body_bytes

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Mapping[str, Any] | None) -> "GuardedRestInput":
        credentials = credentials or {}
        return cls(GuardConfig.from_settings(credentials),
                   int(credentials.get("max_body_bytes") or DEFAULT_MAX_BODY_BYTES))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint(f"guarded_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> ResponseStream | HTTPResponse:
            return await self._receive(request, on_new_message)

        return webhook

    async def _receive(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> ResponseStream | HTTPResponse:
        if len(request.body or b"") > self.max_body_bytes:
            logger.info("rest: refused a body of %d bytes", len(request.body))
            return response.json({"error": f"the body is larger than {self.max_body_bytes} bytes"}, status=413)
        try:
            body = request.json
        except Exception:  # noqa: BLE001 - Sanic's parse error: the caller's mistake, not ours
            body = None
        try:
            if not isinstance(body, dict):
                raise BadRequest("the body must be a JSON object with 'sender' and 'message'")
            verdict = self.guard.check(body.get("sender"), body.get("message"), body.get("metadata"))
        except BadRequest as exc:
            logger.info("rest: bad request: %s", exc)
            return response.json({"error": str(exc)}, status=400)
        if not isinstance(verdict, Accepted):
            return response.json(await render(request.app.ctx.agent, verdict.response, verdict.sender, self.name()))
        if rasa.utils.endpoints.bool_arg(request, "stream", default=False):
            return response.stream(
                self.stream_response(on_new_message, verdict.text, verdict.sender, self.name(), verdict.metadata),
                content_type="text/event-stream",
            )
        collector = CollectingOutputChannel()
        await on_new_message(
            UserMessage(verdict.text, collector, verdict.sender, input_channel=self.name(), metadata=verdict.metadata)
        )
        return response.json(collector.messages)
