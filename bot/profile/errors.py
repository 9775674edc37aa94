"""Errors of the profile store.

The bot only ever has to catch :class:`ProfileError`: bad input, an unknown
customer and a broken database each get their own subclass with a message
that can be logged as is (it never contains the full identifier, which may be
personal data, only its kind).
"""

from __future__ import annotations


class ProfileError(Exception):
    """Base class of everything the profile repository raises on purpose."""


class InvalidProfileInput(ProfileError, ValueError):
    """An argument is malformed (wrong type, too long, unknown kind...)."""


class InvalidIdentifier(InvalidProfileInput):
    """An identifier (e-mail, phone, order number...) is malformed."""


class ProfileNotFound(ProfileError, LookupError):
    """No customer matches the identifier."""


class AmbiguousIdentifier(ProfileNotFound):
    """The identifier belongs to more than one customer (e.g. a family e-mail).

    It is a :class:`ProfileNotFound` on purpose: the bot must not pick one of
    them, it asks for another identifier instead.
    """

    def __init__(self, message: str, candidates: int) -> None:
        super().__init__(message)
        self.candidates = candidates


class ProfileStoreUnavailable(ProfileError):
    """The database failed, timed out or has not been built."""
