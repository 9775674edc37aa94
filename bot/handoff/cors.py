"""CORS for the widget's endpoints, so a host page on another origin can embed the widget.

The widget (served from this service) calls ``/widget/api/*`` with ``Authorization: Bearer
<conversation token>`` and a JSON body, which a browser sends across origins only after a
preflight. Only the configured origins get the ``Access-Control-Allow-*`` headers:
``TANDEM_CORS_ORIGINS`` (space- or comma-separated, the same setting that lets browsers call
Rasa and its socket.io channel), by default the service's own origin alone (the demo shop),
which needs no CORS at all: the secure default allows no other site. A preflight from any other
origin is refused with 403 and a message saying which setting to change; a plain request from
one is answered without the headers, so the browser keeps its response from the page.

No cookies are involved (the token travels in a header), so credentials are never allowed.
aiohttp-cors would do the same for this one path prefix at the cost of a new dependency in a
shared environment; the rules here are the few lines of the Fetch standard the widget needs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web

PREFIXES = ("/widget/api/",)
METHODS = "GET, POST"
HEADERS = "Authorization, Content-Type"
MAX_AGE_S = "600"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _allow(response: web.StreamResponse, origin: str) -> None:
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Vary"] = "Origin"


def cors_middleware(origins: Iterable[str]) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    allowed = frozenset(origin.rstrip("/") for origin in origins)

    @web.middleware
    async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(PREFIXES):
            return await handler(request)
        origin = request.headers.get("Origin", "")
        ok = origin in allowed
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            if not ok:
                return web.json_response(
                    {"error": "Forbidden",
                     "message": f"origin {origin!r} may not call this service: add it to TANDEM_CORS_ORIGINS"},
                    status=403)
            preflight = web.Response(status=204)
            _allow(preflight, origin)
            preflight.headers["Access-Control-Allow-Methods"] = METHODS
            preflight.headers["Access-Control-Allow-Headers"] = HEADERS
            preflight.headers["Access-Control-Max-Age"] = MAX_AGE_S
            return preflight
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # the browser lets the widget read the error too
            if ok:
                _allow(exc, origin)
            raise
        if ok:
            _allow(response, origin)
        return response

    return cors
