from __future__ import annotations

from pathlib import Path

from bot.rasa_server import rasa_argv
from bot.runner import Stack
from bot.settings import Settings


def test_the_token_is_not_on_the_command_line_and_reaches_rasa_intact(tmp_path: Path) -> None:
    settings = Settings.from_env({"TANDEM_VAR_DIR": str(tmp_path), "RASA_TOKEN": "-starts-with-a-dash"})
    stack = Stack(settings, model=tmp_path / "model.tar.gz", services=("rasa",))
    cmd = stack.services["rasa"].cmd
    assert not any("-starts-with-a-dash" in arg for arg in cmd)
    assert stack.env["RASA_TOKEN"] == "-starts-with-a-dash"
    assert "--auth-token=-starts-with-a-dash" in rasa_argv(cmd[2:], stack.env)  # after "python -m"
