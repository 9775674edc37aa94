"""The services an action-server process shares, created once and lazily.

Nothing is opened at import time: the first action that needs the profile
store creates the repository from :class:`bot.settings.Settings` (so the
action server starts even when the store is down, and tests can install
their own services with :func:`use_services` before any action runs).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass, field
from typing import Any, Callable

from bot.actions_support.assurance import VERIFIED_FOR_S, seal_key
from bot.actions_support.code_sender import CodeSender, OutboxSender
from bot.actions_support.gateway import ProfileGateway
from bot.handoff.intake import IntakeClient
from bot.processes.catalogue import Catalogue, default_catalogue, load_catalogue
from bot.profile.errors import ProfileStoreUnavailable

logger = logging.getLogger(__name__)

__all__ = ["Services", "get_services", "use_services", "build_services"]


_PROCESS_SEAL_SECRET = secrets.token_urlsafe(32)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class Services:
    gateway: ProfileGateway
    catalogue: Catalogue = field(default_factory=default_catalogue)
    clock: Callable[[], dt.datetime] = _utc_now
    #: secret the website signs verified identities with (None: unsigned metadata is trusted, dev only)
    identity_secret: str | None = None
    #: the handoff service's intake (None: no service configured; the broker still brings requests)
    handoff: IntakeClient | None = None
    #: delivers one-time codes (None: none configured; a claimed identity then cannot be verified)
    code_sender: CodeSender | None = None
    #: how long a claim proved with a one-time code stays verified (TANDEM_REVERIFY_AFTER_S)
    verified_for_s: float = VERIFIED_FOR_S

    @property
    def seal_key(self) -> bytes:
        """The key the action server seals its identity slots with (see ``assurance``)."""
        # without an identity secret nothing sealed survives this process (nothing planted is trusted)
        return seal_key(self.identity_secret or _PROCESS_SEAL_SECRET)

    def now(self) -> dt.datetime:
        """The shop's local time now (naive), as the process catalogue counts it."""
        return self.catalogue.calendar.local(self.clock())


class _UnavailableStore:
    """Stands in for a repository that could not even be created; every call fails honestly."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __getattr__(self, name: str) -> Any:
        async def fail(*args: Any, **kwargs: Any) -> Any:
            raise ProfileStoreUnavailable(self.reason)

        return fail


def build_services(settings: Any = None) -> Services:
    """Services from the environment's settings (the action server's normal path)."""
    from bot.settings import Settings

    settings = settings or Settings.from_env()
    try:
        from bot.profile import ProfileRepository

        store: Any = ProfileRepository.from_url(settings.profile_db_url)
    except Exception as exc:  # noqa: BLE001 - the server must start anyway and answer honestly
        logger.error("profile repository could not be created: %s", exc)
        store = _UnavailableStore(f"profile store not available: {type(exc).__name__}")
    from bot.identity_token import identity_secret

    # the widget's identity tokens are verified with it (TANDEM_IDENTITY_SECRET or var/identity_secret)
    secret = getattr(settings, "identity_secret", None) or identity_secret(settings.var_dir)
    holidays = settings.holidays_file
    catalogue = load_catalogue(holidays_path=holidays) if holidays else default_catalogue()
    return Services(
        gateway=ProfileGateway(store, timeout_s=settings.profile_timeout_s),
        catalogue=catalogue,
        identity_secret=secret,
        handoff=_intake_client(settings),
        # the embedded set-up: codes go to var/outbox/ (0600), where a person trying it reads them
        code_sender=_code_sender(settings),
        verified_for_s=getattr(settings, "reverify_after_s", VERIFIED_FOR_S),
    )


def _code_sender(settings: Any) -> CodeSender | None:
    var_dir = getattr(settings, "var_dir", None)
    return OutboxSender(var_dir / "outbox") if var_dir is not None else None


def _intake_client(settings: Any) -> IntakeClient | None:
    from bot.handoff.config import service_secret

    url = getattr(settings, "handoff_url", None)
    if not url:
        return None
    return IntakeClient(url, service_secret(var_dir=getattr(settings, "var_dir", None)))


_services: Services | None = None


def get_services() -> Services:
    global _services
    if _services is None:
        _services = build_services()
    return _services


def use_services(services: Services | None) -> None:
    """Install (or with None, forget) the process's services; for tests and embedding."""
    global _services
    _services = services
