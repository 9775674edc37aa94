"""``python -m bot.rasa_server run ...``: Rasa's own ``rasa`` command, with one fix to its HTTP API.

Rasa 3.6 checks the body of every ``POST /conversations/{id}/tracker/events`` (how agents' replies
reach customers, see ``bot/handoff/rasa_client.py``) with ``jsonschema.validate(events,
EVENTS_SCHEMA)``. That call first re-checks the constant ``EVENTS_SCHEMA`` against the JSON Schema
meta-schema, every time: py-spy put three quarters of the endpoint's time there (115 ms per
request on this machine, see bench/handoff/REPORT.md). Here the schema is checked once and its
validator reused; events are validated exactly as before, and a malformed body gets the same
400 answer. Everything else is ``rasa`` unchanged.
"""

from __future__ import annotations

import sys
from http import HTTPStatus
from typing import Any


def install() -> None:
    import jsonschema
    import rasa.server
    from rasa.server import EVENTS_SCHEMA, ErrorResponse

    validator_class = jsonschema.validators.validator_for(EVENTS_SCHEMA)
    validator_class.check_schema(EVENTS_SCHEMA)
    validator = validator_class(EVENTS_SCHEMA)
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


def main() -> None:
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
