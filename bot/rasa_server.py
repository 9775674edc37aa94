"""``python -m bot.rasa_server run ...``: Rasa's own ``rasa`` command, with its JSON schemas
checked once instead of on every request.

Rasa 3.6 validates two things per request with ``jsonschema.validate(instance, schema)``, which
first re-checks the constant schema against the JSON Schema meta-schema, every time:

- every action server response (``RemoteAction._validate_action_result``): py-spy put 54% of a
  handoff turn there;
- the body of every ``POST /conversations/{id}/tracker/events`` (how agents' replies reach
  customers, see ``bot/rasa_api.py``): 75% of that endpoint, 115 ms per request on
  this machine (bench/handoff/REPORT.md).

Here each schema is checked once and its validator reused: the same instances pass, the same
errors are raised (a malformed events body still gets Rasa's 400).

It also keeps ``rasa run`` closed by default (:func:`rasa_argv`): the HTTP API token comes from
``RASA_TOKEN`` in the environment and is handed to Rasa's parser inside this process, so it
never appears on a command line (``ps`` shows those to every user); the interface defaults to
:func:`bot.security.bind_host` (127.0.0.1) instead of Rasa's 0.0.0.0; personal data is
masked in every log record (:mod:`bot.logmask`); and a failed action server gets the customer
an answer and a way to a person (:mod:`bot.action_fallback`).

And one look-up is cached: ``Event.resolve_by_type``, called for every event Rasa reads back
from the tracker store, walked every subclass of ``Event`` recursively each time (py-spy: 24 %
of a turn at turn 300 of a conversation, bench/scale/REPORT.md). Here a map from type name to
class answers, built in the same order, rebuilt when a name is not found (a subclass imported
later). Everything else is ``rasa`` unchanged.

Conversation ids are opaque strings (:func:`install_unquoted_conversation_ids`): Sanic does not
percent-decode ``<conversation_id:path>`` route parameters, so a client that encodes
``whatsapp:+447700900199`` or ``zoë müller`` in the path (as it must) reached the conversation
``whatsapp:%2B447700900199``; here the id is decoded once, after routing, for every
``/conversations/...`` route of Rasa's HTTP API.
"""

from __future__ import annotations

import os
import sys
from http import HTTPStatus
from typing import Any, Mapping, Sequence


def checked_validator(schema: dict[str, Any]) -> Any:
    """What ``jsonschema.validate`` builds on every call: the schema's validator, after checking
    the schema itself, here once."""
    import jsonschema

    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def install() -> None:
    import jsonschema
    import rasa.server
    from rasa.server import EVENTS_SCHEMA, ErrorResponse

    validator = checked_validator(EVENTS_SCHEMA)
    original = rasa.server.validate_events_in_request_body

    def validate_events_in_request_body(request: Any) -> None:
        events = request.json if isinstance(request.json, list) else [request.json]
        error = jsonschema.exceptions.best_match(validator.iter_errors(events))
        if error is not None:
            raise ErrorResponse(
                HTTPStatus.BAD_REQUEST,
                "BadRequest",
                "Failed to validate the events format. "
                f"For more information about the format visit the docs. Error: {error}",
                help_url=rasa.server._docs("/pages/http-api"),
            )

    validate_events_in_request_body.__doc__ = original.__doc__
    rasa.server.validate_events_in_request_body = validate_events_in_request_body
    _install_action_result_validator()
    install_event_type_cache()
    install_unquoted_conversation_ids()


def install_unquoted_conversation_ids() -> None:
    """Every app ``rasa.server.create_app`` builds decodes its ``conversation_id`` path
    parameter once (see the module's docstring); idempotent."""
    import rasa.server

    original = rasa.server.create_app
    if getattr(original, "unquotes_by_tandem", False):
        return

    def create_app(*args: Any, **kwargs: Any) -> Any:
        app = original(*args, **kwargs)
        app.register_middleware(unquote_conversation_id, "request")
        return app

    create_app.__doc__ = original.__doc__
    create_app.unquotes_by_tandem = True  # type: ignore[attr-defined]
    rasa.server.create_app = create_app


async def unquote_conversation_id(request: Any) -> None:
    """Sanic request middleware: runs after routing, before the handler reads the id."""
    from urllib.parse import unquote

    match_info = getattr(request, "_match_info", None)
    if match_info and isinstance(match_info.get("conversation_id"), str):
        match_info["conversation_id"] = unquote(match_info["conversation_id"])


def install_event_type_cache() -> None:
    """``Event.resolve_by_type`` through a cached map (see the module's docstring)."""
    import rasa.shared.utils.common
    from rasa.shared.core.events import Event

    original = Event.resolve_by_type
    if getattr(original, "cached_by_tandem", False):
        return
    by_name: dict[str, type] = {}

    def rebuild() -> None:
        by_name.clear()
        for cls in rasa.shared.utils.common.all_subclasses(Event):
            by_name.setdefault(cls.type_name, cls)  # the first wins, as in Rasa's loop

    def resolve_by_type(type_name: str, default: type | None = None) -> type | None:
        cls = by_name.get(type_name)
        if cls is None:
            rebuild()
            cls = by_name.get(type_name)
        return cls if cls is not None else original(type_name, default)

    resolve_by_type.__doc__ = original.__doc__
    resolve_by_type.cached_by_tandem = True  # type: ignore[attr-defined]
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign,assignment]


def _install_action_result_validator() -> None:
    import jsonschema
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    validator = checked_validator(RemoteAction.action_response_format_spec())

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        error = jsonschema.exceptions.best_match(validator.iter_errors(result))
        if error is not None:
            error.message += (
                ". Failed to validate Action server response from API, "
                "make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
            )
            raise error
        return True

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


def rasa_argv(argv: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """The arguments Rasa's own parser gets: for ``run`` (the server), the API token from
    ``RASA_TOKEN`` and the interface from :func:`bot.security.bind_host` unless given."""
    from bot.security import bind_host

    args = ["rasa", *argv[1:]]
    if len(args) < 2 or args[1] != "run" or (len(args) > 2 and args[2] == "actions"):
        return args
    given = {arg.split("=", 1)[0] for arg in args}
    if env.get("RASA_TOKEN") and not given & {"-t", "--auth-token"}:
        args.append(f"--auth-token={env['RASA_TOKEN']}")  # "=": a token may start with "-"
    if not given & {"-i", "--interface"}:
        args += ["--interface", bind_host(env)]
    return args


def main() -> None:
    from bot import action_fallback, logmask

    logmask.install()
    install()
    action_fallback.install()  # a failed action server is never silence
    from rasa.__main__ import main as rasa_main

    # Python's copy of argv; the kernel's (/proc/<pid>/cmdline, what ps shows) is unchanged
    sys.argv = rasa_argv(sys.argv, os.environ)
    rasa_main()


if __name__ == "__main__":
    main()
