"""``python -m bot.action_server``: rasa_sdk's action server, closed by default.

rasa_sdk 3.6 listens on 0.0.0.0 and runs any action for anyone who can reach it: a
``POST /webhook`` naming ``customer_id`` in its tracker slots got that customer's data.
Here, with everything else rasa_sdk's own:

- it binds :func:`bot.security.bind_host` (127.0.0.1 unless ``TANDEM_BIND_HOST`` says otherwise);
- every call but ``/health`` must carry the shared token (``ACTION_SERVER_TOKEN``, or the one
  generated into var/) in the :data:`bot.security.ACTION_TOKEN_HEADER` header, which Rasa
  sends from endpoints.yml; anything else gets a 401 before an action runs;
- it answers no browser (no CORS: only Rasa calls it);
- personal data is masked in its log (:mod:`bot.logmask`).
"""

from __future__ import annotations

import hmac
import logging
import os
from typing import Any, Sequence

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.security import ACTION_TOKEN_HEADER, bind_host

logger = logging.getLogger(__name__)

#: paths anyone may call (the runner's health check)
OPEN_PATHS = frozenset({"/health"})


def require_token(app: Sanic, token: str) -> None:
    """Refuse every request to ``app`` (but :data:`OPEN_PATHS`) without ``token`` in the header."""
    if not token:
        raise ValueError("the action server needs a token (ACTION_SERVER_TOKEN)")
    expected = token.encode()

    @app.middleware("request")
    async def _check_token(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        supplied = request.headers.get(ACTION_TOKEN_HEADER, "").encode()
        if hmac.compare_digest(supplied, expected):
            return None
        logger.warning("refused a call to %s without the action server token", request.path)
        return response.json({"error": "this action server answers only calls with its token"}, status=401)


def endpoint_config(url: str, token: str) -> Any:
    """The ``EndpointConfig`` an in-process Rasa agent uses to call this server (as endpoints.yml does)."""
    from rasa.utils.endpoints import EndpointConfig

    return EndpointConfig(url=url, headers={ACTION_TOKEN_HEADER: token})


def main(argv: Sequence[str] | None = None) -> None:
    import rasa_sdk.endpoint as endpoint
    from rasa_sdk import utils
    from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME

    from bot import logmask
    from bot.settings import Settings

    logmask.install()
    args = endpoint.create_argument_parser().parse_args(argv)
    token = Settings.from_env().action_token
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME), args.log_file, args.loglevel, args.logging_config_file
    )
    utils.update_sanic_log_level()

    create_app = endpoint.create_app

    def create_closed_app(*a: Any, **kw: Any) -> Sanic:
        app = create_app(*a, **kw)
        require_token(app, token)
        return app

    endpoint.create_app = create_closed_app  # what endpoint.run builds its app with
    os.environ["SANIC_HOST"] = bind_host()  # endpoint.run's only way to choose the interface
    endpoint.run(args.actions, args.port, args.cors, args.ssl_certificate, args.ssl_keyfile,
                 args.ssl_password, args.auto_reload)


if __name__ == "__main__":
    main()
