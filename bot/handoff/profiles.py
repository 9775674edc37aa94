"""The unified customer profile, seen from the agent console.

``bot.profile`` is another area of tandem; this adapter imports it lazily and degrades honestly:
the console shows "customer not identified" without a customer_id, and "profile unavailable"
(with the reason) when the profile store fails, never a half-guessed profile.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from typing import Any

logger = logging.getLogger(__name__)


class ProfileLookup:
    def __init__(self, profile_db_url: str, timeout_s: float = 2.0) -> None:
        self._url = profile_db_url
        self._timeout = timeout_s
        self._repo: Any = None
        self._error_type: type[BaseException] = Exception
        self._unavailable: str | None = None

    def _repository(self) -> Any:
        if self._repo is None and self._unavailable is None:
            try:
                module = importlib.import_module("bot.profile")
                self._error_type = getattr(module, "ProfileError", Exception)
                self._repo = module.ProfileRepository.from_url(self._url)
            except (ImportError, AttributeError) as exc:
                self._unavailable = f"the profile service is not installed ({exc})"
        return self._repo

    async def summary(self, customer_id: str | None) -> dict[str, Any]:
        """``{"status": "ok"|"not_identified"|"unavailable", "summary": ..., "message": ...}``."""
        if not customer_id:
            return {
                "status": "not_identified",
                "message": "Customer not identified: the bot has not matched this chat to a customer record.",
            }
        repo = self._repository()
        if repo is None:
            return {"status": "unavailable", "customer_id": customer_id, "message": self._unavailable}
        try:
            profile = await asyncio.wait_for(repo.get(customer_id), self._timeout)
            return {"status": "ok", "customer_id": customer_id, "summary": profile.to_summary()}
        except asyncio.TimeoutError:
            msg = f"the profile store did not answer within {self._timeout:g} s"
        except Exception as exc:  # noqa: BLE001 - any failure of the other area is shown, not raised
            if not isinstance(exc, self._error_type):
                logger.exception("profile lookup failed unexpectedly for %s", customer_id)
            msg = f"{type(exc).__name__}: {exc}"
        return {"status": "unavailable", "customer_id": customer_id, "message": f"Profile unavailable: {msg}"}

    async def close(self) -> None:
        repo = self._repo
        for name in ("aclose", "close", "dispose"):
            fn = getattr(repo, name, None)
            if fn is not None:
                result = fn()
                if asyncio.iscoroutine(result):
                    await result
                return
