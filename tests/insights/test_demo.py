"""The demo set: the same conversations for the same seed, with the mix the README describes.
(Replaying it through the real stack is tested in test_e2e.py.)"""

from __future__ import annotations

from collections import Counter

import pytest

from bot.insights.demo import HANDED_BACK, LEFT, NO_RESPONSE, SERVED, plans


def test_the_same_seed_gives_the_same_conversations_and_another_seed_new_senders() -> None:
    assert plans(300) == plans(300)
    assert plans(5, seed=2)[0].sender == "demo-2-0001"
    assert not {p.sender for p in plans(300)} & {p.sender for p in plans(300, seed=15)}


def test_the_mix_of_the_default_set() -> None:
    todo = plans(300)
    kinds = Counter(p.outcome or ("request" if p.request else "bot") for p in todo)
    assert 150 <= kinds["bot"] <= 200 and 5 <= kinds["request"] <= 30
    assert all(kinds[k] > 0 for k in (SERVED, HANDED_BACK, LEFT, NO_RESPONSE))
    rated = [p for p in todo if p.rating is not None]
    assert rated and all(p.outcome == SERVED for p in rated)  # the widget offers a rating once an agent closed
    assert any(p.comment for p in rated) and any(not p.comment for p in rated)
    assert all(1 <= p.rating <= 5 for p in rated)


def test_demo_command_refuses_a_malformed_agent(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    assert main(["insights", "demo", "--agent", "alice"]) == 2
    assert "NAME:PASSWORD" in capsys.readouterr().err
