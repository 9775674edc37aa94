"""Proactive follow-ups end to end: a real Rasa server, the real action server, the real profile store.

The model is trained here (core only, a few seconds) from the project's domain
plus the follow-up dialogue in ``domain/followups.yml`` and ``data/rules/followups.yml`` (formerly staged
until validation accepts ``EXTERNAL_*`` intents), because the external intents
must be in the model. Then: a customer identifies in a REST conversation;
``notify`` (``RasaClient.trigger_intent``) sends ``EXTERNAL_refund_paid`` with
``output_channel=latest`` and the customer's channel receives the message;
``python -m bot processes remind`` finds the stalled refund through Rasa's
tracker store, checks back once, and not twice.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from bot.actions_support.followups import ExternalEvent, Notification, notify
from bot.rasa_api import RasaAPIError, RasaClient
from bot.settings import ROOT, Settings

from ..conftest import isolated_settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def followup_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("followup-model")
    (work / "domain").mkdir()
    (work / "data").mkdir()
    for path in (ROOT / "domain").glob("*.yml"):
        shutil.copy(path, work / "domain" / path.name)
    shutil.copy(ROOT / "data" / "rules" / "followups.yml", work / "data" / "followups.yml")
    (work / "data" / "hello.yml").write_text(
        'version: "3.1"\nrules:\n  - rule: a greeting identifies the customer\n    steps:\n'
        "      - intent: greet\n      - action: action_create_account\n"
    )
    (work / "config.yml").write_text(
        'recipe: default.v1\nlanguage: en\nassistant_id: followups-e2e\npipeline: []\npolicies:\n  - name: RulePolicy\n'
    )
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "rasa"), "train", "core", "--domain", "domain", "--stories", "data",
         "--config", "config.yml", "--out", "models", "--fixed-model-name", "followups"],
        cwd=work, check=True, capture_output=True, env={"TF_CPP_MIN_LOG_LEVEL": "2", "PATH": "/usr/bin:/bin"},
        timeout=600,
    )
    return work / "models" / "followups.tar.gz"


@pytest.fixture(scope="module")
def stack(followup_model: Path, demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    from bot.runner import Stack

    settings = isolated_settings(tmp_path_factory.mktemp("followup-stack"))
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(demo_db, settings.var_dir / "profiles.db")
    with Stack(settings, followup_model, services=("actions", "rasa"), extra_env={"TANDEM_VAR_DIR": str(settings.var_dir)}):
        yield settings


def _post(url: str, body: dict) -> list[dict]:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def test_refund_paid_reaches_the_customer_and_a_stalled_refund_is_followed_up_once(
    stack: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot import identity_token

    sender = "e2e-ben"
    # a typed e-mail address is only a claim: Ben is signed in on the website (a signed token)
    secret = identity_token.identity_secret(stack.var_dir)
    token = identity_token.issue(secret, "site:ben", email="ben.okafor@example.net")
    hello = _post(
        f"{stack.rasa_url}/webhooks/rest/webhook",
        {
            "sender": sender,
            "message": '/greet{"email": "ben.okafor@example.net"}',
            "metadata": {identity_token.METADATA_KEY: token},
        },
    )
    assert any("already have an account" in m.get("text", "") for m in hello), hello

    client = RasaClient(stack.rasa_url, stack.rasa_token, timeout_s=60)
    messages = asyncio.run(
        notify(client, Notification(sender, ExternalEvent.REFUND_PAID, {"order_id": "4000000201"}))
    )
    assert messages[0] == "Good news: your refund of £59.99 for order 4000000201 has been paid.", messages
    assert any(m.startswith("What happens next: ") and "If something goes wrong: " in m for m in messages)

    for key, value in stack.rasa_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("RASA_URL", stack.rasa_url)
    from bot.cli import main

    # Thursday 3 December: Ben's card refund was due on Friday 27 November
    assert main(["processes", "remind", "--now", "2026-12-03T12:00:00"]) == 0
    assert "reminders sent: 1, failed: 0" in capsys.readouterr().out
    assert main(["processes", "remind", "--now", "2026-12-03T12:00:00"]) == 0
    assert "reminders sent: 0, failed: 0" in capsys.readouterr().out  # checked back once, not twice


def test_a_wrong_token_is_an_error_not_a_crash(stack: Settings) -> None:
    client = RasaClient(stack.rasa_url, "wrong-token", timeout_s=30)
    with pytest.raises(RasaAPIError, match="refused the token"):
        asyncio.run(notify(client, Notification("e2e-x", ExternalEvent.PARCEL_DELAYED, {"order_id": "1"})))
