"""Shared fixtures: the trained model (once per session, cached by a hash of its
inputs) and real processes of the product started on free ports."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Iterator

import pytest

from bot.settings import ROOT, Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The assistant's model: the one `make test` trained, or trained here (cached in models/)."""
    from bot.training import ensure_model

    given = os.environ.get("TANDEM_MODEL")
    if given and Path(given).exists():
        return Path(given)
    return ensure_model()


def isolated_settings(tmp: Path, **overrides: str) -> Settings:
    """Settings for processes started by a test: own var dir, own free ports."""
    env = {
        "TANDEM_VAR_DIR": str(tmp),
        "RASA_PORT": str(free_port()),
        "ACTION_PORT": str(free_port()),
        "HANDOFF_PORT": str(free_port()),
        "RASA_TOKEN": "test-token",
        **overrides,
    }
    return Settings.from_env(env)


@pytest.fixture(scope="session")
def stack_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return isolated_settings(tmp_path_factory.mktemp("stack"))


@pytest.fixture(scope="session")
def running_stack(trained_model: Path, stack_settings: Settings) -> Iterator["object"]:
    """Action server, Rasa server and handoff service as real processes, for the whole session."""
    from bot.runner import Stack, _prepare_demo_data

    _prepare_demo_data(stack_settings, quiet=True)
    stack = Stack(stack_settings, trained_model, extra_env={"TANDEM_VAR_DIR": str(stack_settings.var_dir)})
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def action_server(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Only the action server, for in-process agents."""
    from bot.runner import Stack, _prepare_demo_data

    settings = isolated_settings(tmp_path_factory.mktemp("actions"))
    _prepare_demo_data(settings, quiet=True)
    with Stack(settings, services=("actions",), extra_env={"TANDEM_VAR_DIR": str(settings.var_dir)}):
        yield settings


ROOT_DIR = ROOT
