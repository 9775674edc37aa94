from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError


def test_defaults_are_the_embedded_setup(tmp_path: Path) -> None:
    settings = Settings.from_env({"TANDEM_VAR_DIR": str(tmp_path)})
    assert settings.profile_db_url == f"sqlite+aiosqlite:///{tmp_path}/profiles.db"
    assert settings.tracker_db_url == f"sqlite:///{tmp_path}/tracker.db?timeout=30"
    assert settings.rasa_url == "http://127.0.0.1:5005"
    assert settings.action_server_url == "http://127.0.0.1:5055/webhook"


def test_every_url_and_secret_comes_from_the_environment(tmp_path: Path) -> None:
    env = {
        "TANDEM_VAR_DIR": str(tmp_path),
        "RASA_TOKEN": "s3cret",
        "TRACKER_DB_URL": "postgresql://bot:pw@db.internal:5432/tracker",
        "TANDEM_PROFILE_DB_URL": "postgresql+asyncpg://bot:pw@db.internal:5432/profiles",
        "ACTION_SERVER_URL": "http://actions:5055/webhook",
        "RASA_PORT": "6005",
    }
    settings = Settings.from_env(env)
    rasa_env = settings.rasa_env()
    assert settings.rasa_token == "s3cret"
    assert rasa_env["TRACKER_DB_URL"] == env["TRACKER_DB_URL"]
    assert rasa_env["TRACKER_DIALECT"] == "postgresql"
    assert rasa_env["EVENT_BROKER_DIALECT"] == "sqlite"
    assert rasa_env["ACTION_SERVER_URL"] == "http://actions:5055/webhook"
    assert settings.rasa_url == "http://127.0.0.1:6005"


def test_token_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    first = Settings.from_env({"TANDEM_VAR_DIR": str(tmp_path)}).rasa_token
    second = Settings.from_env({"TANDEM_VAR_DIR": str(tmp_path)}).rasa_token
    assert first == second and len(first) >= 24
    assert (tmp_path / "rasa_token").stat().st_mode & 0o077 == 0
    assert first not in repr(Settings.from_env({"TANDEM_VAR_DIR": str(tmp_path)}))


@pytest.mark.parametrize(
    ("name", "value"),
    [("RASA_PORT", "fifty"), ("TANDEM_PROFILE_TIMEOUT_S", "soon"), ("RASA_URL", "localhost")],
)
def test_malformed_settings_fail_with_a_clear_message(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({"TANDEM_VAR_DIR": str(tmp_path), name: value})
