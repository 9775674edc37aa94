"""Domain errors of the handoff service; the web layer maps them to HTTP statuses."""

from __future__ import annotations


class HandoffError(Exception):
    """Base class; ``status`` is the HTTP status the error middleware answers with."""

    status = 500


class NotFound(HandoffError):
    status = 404


class Conflict(HandoffError):
    """The conversation is not in a state that allows this (e.g. already accepted by another agent)."""

    status = 409


class Forbidden(HandoffError):
    status = 403


class Unauthorized(HandoffError):
    status = 401


class BadRequest(HandoffError):
    status = 400


class TooManyAttempts(HandoffError):
    """Throttled (failed logins): answered 429 with ``Retry-After``."""

    status = 429

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
