"""The actions' only door to the unified profile store.

Actions must never crash and never wait for ever: every call goes through
:class:`ProfileGateway`, which applies the time limit
(``Settings.profile_timeout_s``) with :func:`asyncio.wait_for` and turns every
failure into a :class:`Lookup` with an :class:`Outcome` the action can explain
honestly ("I can't reach your account details right now"). Writes return
``True``/``False`` the same way.

The repository itself (``bot.profile.ProfileRepository``) is created once per
action-server process, lazily, by :mod:`bot.actions_support.runtime`, and
passed in here; tests pass a repository on a real SQLite file.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Protocol, TypeVar

from bot.profile.errors import (
    AmbiguousIdentifier,
    InvalidIdentifier,
    InvalidProfileInput,
    ProfileError,
    ProfileNotFound,
    ProfileStoreUnavailable,
)
from bot.profile.model import CustomerProfile

logger = logging.getLogger(__name__)

T = TypeVar("T")

__all__ = ["Lookup", "Outcome", "ProfileGateway", "ProfileStore"]


class ProfileStore(Protocol):
    """What the gateway needs from ``bot.profile.ProfileRepository``."""

    async def find(self, identifier: str, kind: str | None = None) -> CustomerProfile: ...

    async def get(self, customer_id: str) -> CustomerProfile: ...


class Outcome(str, enum.Enum):
    FOUND = "found"
    NOT_FOUND = "not_found"
    AMBIGUOUS = "ambiguous"
    INVALID = "invalid"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class Lookup:
    outcome: Outcome
    profile: CustomerProfile | None = None
    #: for logs only: never contains the identifier itself
    detail: str = ""

    @property
    def found(self) -> bool:
        return self.outcome is Outcome.FOUND and self.profile is not None


class ProfileGateway:
    """Time-limited, failure-proof access to a profile repository."""

    def __init__(self, store: Any, timeout_s: float = 2.0) -> None:
        self.store = store
        self.timeout_s = timeout_s

    async def _call(self, what: str, awaitable: Awaitable[T]) -> T:
        try:
            return await asyncio.wait_for(awaitable, timeout=self.timeout_s)
        except asyncio.TimeoutError:
            raise ProfileStoreUnavailable(f"{what} took longer than {self.timeout_s:g}s") from None

    async def find(self, identifier: str, kind: str | None = None) -> Lookup:
        return await self._lookup(f"find by {kind or 'identifier'}", lambda: self.store.find(identifier, kind=kind))

    async def get(self, customer_id: str) -> Lookup:
        return await self._lookup("get by customer id", lambda: self.store.get(customer_id))

    async def _lookup(self, what: str, call: Any) -> Lookup:
        try:
            profile = await self._call(what, call())
        except AmbiguousIdentifier as exc:
            return Lookup(Outcome.AMBIGUOUS, detail=str(exc))
        except ProfileNotFound as exc:
            return Lookup(Outcome.NOT_FOUND, detail=str(exc))
        except (InvalidIdentifier, InvalidProfileInput) as exc:
            return Lookup(Outcome.INVALID, detail=str(exc))
        except ProfileStoreUnavailable as exc:
            logger.warning("profile store unavailable (%s): %s", what, exc)
            return Lookup(Outcome.UNAVAILABLE, detail=str(exc))
        except ProfileError as exc:
            logger.warning("profile store error (%s): %s", what, exc)
            return Lookup(Outcome.UNAVAILABLE, detail=str(exc))
        except Exception as exc:  # a broken store must not take the action server down
            logger.exception("unexpected error from the profile store (%s)", what)
            return Lookup(Outcome.UNAVAILABLE, detail=f"{type(exc).__name__}")
        return Lookup(Outcome.FOUND, profile=profile)

    async def write(self, what: str, method: str, *args: Any, **kwargs: Any) -> bool:
        """Call a write method of the repository; False (logged) when it fails."""
        ok, _ = await self.write_result(what, method, *args, **kwargs)
        return ok

    async def write_result(self, what: str, method: str, *args: Any, **kwargs: Any) -> tuple[bool, Any]:
        """Like :meth:`write` but also returns what the repository returned."""
        func = getattr(self.store, method, None)
        if func is None:
            logger.error("profile store has no method %r (%s)", method, what)
            return False, None
        try:
            result = await self._call(what, func(*args, **kwargs))
        except ProfileError as exc:
            logger.warning("profile store write failed (%s): %s", what, exc)
            return False, None
        except Exception:
            logger.exception("unexpected error writing to the profile store (%s)", what)
            return False, None
        return True, result
