"""One stack for the security tests: action server, Rasa and handoff service as real processes,
with a small rate limit so a burst is quick to provoke; and the action tests' fixtures (real
profile store, real domain) for the identity checks of test_assurance.py."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests.actions.conftest import conversation, demo_db, domain, outbox, repo, services  # noqa: F401 - test_assurance
from tests.conftest import isolated_settings

#: messages one sender may send at once in these tests
BURST = 5
#: a model load takes minutes when the machine is shared; a slow start is not what is tested
STARTUP_S = 900.0


@pytest.fixture(scope="session")
def secured_stack(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from bot.runner import Stack, _prepare_demo_data

    settings = isolated_settings(tmp_path_factory.mktemp("secured"))
    _prepare_demo_data(settings, quiet=True)
    env = {"TANDEM_VAR_DIR": str(settings.var_dir), "TANDEM_RATE_LIMIT_BURST": str(BURST),
           "TANDEM_RATE_LIMIT_PER_S": "0.2"}
    stack = Stack(settings, trained_model, extra_env=env).start(timeout_s=STARTUP_S)
    try:
        yield stack
    finally:
        stack.stop()
