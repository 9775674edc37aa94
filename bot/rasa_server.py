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
errors are raised (a malformed events body still gets Rasa's 400). Everything else is ``rasa``
unchanged.
"""

from __future__ import annotations

import sys
from http import HTTPStatus
from typing import Any


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


def main() -> None:
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
