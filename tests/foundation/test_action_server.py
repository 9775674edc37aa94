"""The real action server process serves every custom action the domain names."""

from __future__ import annotations

import json
import urllib.request

import pytest
from rasa.shared.core.domain import Domain

from bot.security import ACTION_TOKEN_HEADER
from bot.settings import ROOT, Settings

pytestmark = pytest.mark.slow


def test_every_domain_action_is_served(action_server: Settings) -> None:
    base = action_server.action_server_url.rsplit("/webhook", 1)[0]
    request = urllib.request.Request(f"{base}/actions", headers={ACTION_TOKEN_HEADER: action_server.action_token})
    with urllib.request.urlopen(request, timeout=10) as response:
        served = {entry["name"] for entry in json.load(response)}
    domain = Domain.load(str(ROOT / "domain"))
    custom = {
        name for name in domain.user_actions
        if not name.startswith("utter_")
    }
    assert custom <= served, f"missing on the action server: {sorted(custom - served)}"
