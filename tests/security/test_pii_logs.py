"""Personal data stays out of every process log (issue 10, item 9).

Before: the action server's log named the sender id of every handoff (for a messaging
channel, the customer's phone number), and Rasa's log repeats what a failing turn was given.
"""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

import pytest

pytestmark = pytest.mark.slow

SENDER = "whatsapp:+447700900188"
SAID = ["hi, my email is hannah.lee@example.com", "my phone number is 07700 900123",
        "where is my order 4000000101", "I want to talk to a human"]
SECRETS = ["hannah.lee@example.com", "hannah.lee", "07700 900123", "07700900123", "447700900188",
           "4000000101"]


def test_a_conversation_leaves_no_identifier_in_any_log(secured_stack: Any) -> None:
    settings = secured_stack.settings
    for text in SAID:
        request = urllib.request.Request(
            f"{settings.rasa_url}/webhooks/rest/webhook",
            data=json.dumps({"sender": SENDER, "message": text}).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.status == 200
        time.sleep(0.5)  # a customer's pace: stays under the rate limit
    time.sleep(2)  # the handoff service reads the broker every few ms; give its log a moment
    logs = sorted((settings.var_dir / "logs").glob("*.log"))
    assert {p.name for p in logs} >= {"rasa.log", "actions.log", "handoff.log"}
    actions_log = (settings.var_dir / "logs" / "actions.log").read_text(errors="replace")
    assert "whatsapp:[phone]" in actions_log  # the handoff was logged, with the number masked
    for path in logs:
        text = path.read_text(errors="replace")
        leaked = [s for s in SECRETS if s in text]
        assert not leaked, f"{path.name} contains {leaked}"
