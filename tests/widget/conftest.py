"""Fixtures for the customer's side: the real stack (Rasa with tandem's socket.io channel, action
server, handoff service with the widget's endpoints and the demo shop), started once for this
package, and socket.io clients that speak the widget's protocol."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.conftest import free_port, isolated_settings
from tests.handoff.live import AGENTS

WIDGET_DIR = Path(__file__).resolve().parents[2] / "widget"


@pytest.fixture(scope="package")
def widget_built() -> Path:
    """The bundle scripts/install.sh builds; the tests fail (not skip) without it."""
    bundle = WIDGET_DIR / "dist" / "tandem-widget.js"
    if not bundle.exists() or not (WIDGET_DIR / "node_modules" / "socket.io-client").exists():
        pytest.fail("the widget is not built: run scripts/install.sh (needs Node.js and npm)", pytrace=False)
    return bundle


@pytest.fixture(scope="package")
def callback_port() -> int:
    """Where the stack's callback channel posts replies (a test's receiver listens there)."""
    return free_port()


@pytest.fixture(scope="package")
def stack(
    trained_model: Path, widget_built: Path, callback_port: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    from bot.runner import Stack, _prepare_demo_data

    settings = isolated_settings(tmp_path_factory.mktemp("widget-e2e"))
    _prepare_demo_data(settings, quiet=True)
    extra = {
        "TANDEM_VAR_DIR": str(settings.var_dir),
        "TANDEM_AGENTS": ",".join(f"{name}:{password}" for name, password in AGENTS.items()),
        "TANDEM_HANDOFF_POLL_S": "0.05",
        "TANDEM_CALLBACK_URL": f"http://127.0.0.1:{callback_port}/bot",
        # position updates as soon as the queue moves (the default waits 30 s between two)
        "TANDEM_HANDOFF_POSITION_UPDATE_S": "0",
    }
    stack = Stack(settings, trained_model, extra_env=extra)
    stack.start(timeout_s=600)  # loading the model takes minutes when the machine is shared
    try:
        yield stack
    finally:
        stack.stop()
