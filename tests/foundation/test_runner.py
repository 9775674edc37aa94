from __future__ import annotations

from pathlib import Path

from bot.runner import Stack
from bot.settings import Settings


def test_a_token_that_looks_like_an_option_reaches_rasa_intact(tmp_path: Path) -> None:
    settings = Settings.from_env({"TANDEM_VAR_DIR": str(tmp_path), "RASA_TOKEN": "-starts-with-a-dash"})
    stack = Stack(settings, model=tmp_path / "model.tar.gz", services=("rasa",))
    assert "--auth-token=-starts-with-a-dash" in stack.services["rasa"].cmd
