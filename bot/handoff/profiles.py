"""The unified customer profile, seen from the handoff service.

Through the same door as the actions (:class:`bot.actions_support.gateway.ProfileGateway`: one
time limit, every failure an honest outcome): the intake reads a customer's segments, flags and
name to place their request; the console's side pane shows the summary, "customer not
identified" without a customer id, and "profile unavailable" (with the reason) when the store
fails, never a half-guessed profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.actions_support.gateway import Outcome, ProfileGateway
from bot.profile import ProfileRepository


@dataclass(frozen=True)
class CustomerTraits:
    """What the queue needs from a profile: how to call the customer in the console, and what
    decides their priority."""

    name: str | None
    segments: tuple[str, ...]
    flags: tuple[str, ...]


class ProfileLookup:
    def __init__(self, gateway: ProfileGateway) -> None:
        self.gateway = gateway

    @classmethod
    def from_url(cls, profile_db_url: str, timeout_s: float = 2.0) -> "ProfileLookup":
        return cls(ProfileGateway(ProfileRepository.from_url(profile_db_url), timeout_s=timeout_s))

    async def traits(self, customer_id: str | None) -> CustomerTraits | None:
        """None without a customer id or when the profile cannot be read (the request is queued
        with standard priority, and the console says why the profile is missing)."""
        if not customer_id:
            return None
        lookup = await self.gateway.get(customer_id)
        if not lookup.found or lookup.profile is None:
            return None
        profile = lookup.profile
        # the name the side pane shows (the agent's view; personalisation concerns what the bot says)
        name = profile.full_name or profile.given_name
        return CustomerTraits(name, tuple(sorted(profile.segments)), tuple(sorted({f.name for f in profile.flags})))

    async def summary(self, customer_id: str | None) -> dict[str, Any]:
        """``{"status": "ok"|"not_identified"|"unavailable", "summary": ..., "message": ...}``."""
        if not customer_id:
            return {
                "status": "not_identified",
                "message": "Customer not identified: the bot has not matched this chat to a customer record.",
            }
        lookup = await self.gateway.get(customer_id)
        if lookup.found and lookup.profile is not None:
            return {"status": "ok", "customer_id": customer_id, "summary": lookup.profile.to_summary()}
        if lookup.outcome is Outcome.NOT_FOUND:
            message = "Profile unavailable: no customer record with this id"
        else:
            message = f"Profile unavailable: {lookup.detail or lookup.outcome.value}"
        return {"status": "unavailable", "customer_id": customer_id, "message": message}

    async def close(self) -> None:
        await self.gateway.store.close()
