"""The channel guard's decisions, without a server: sizes, emptiness, rates, settings."""

from __future__ import annotations

import pytest

from bot.channels.guard import (
    Accepted,
    BadRequest,
    Guard,
    GuardConfig,
    GuardConfigError,
    Refused,
    TokenBuckets,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_message_over_the_limit_is_refused_before_nlu() -> None:
    guard = Guard(GuardConfig(max_message_chars=10))
    assert isinstance(guard.check("s", "a" * 10), Accepted)
    refused = guard.check("s", "a" * 11)
    assert isinstance(refused, Refused) and refused.response == "utter_message_too_long"


@pytest.mark.parametrize("message", ["", "   \n\t", None, 42, 4.2, True, {"text": "hi"}, ["hi"]])
def test_empty_and_non_text_messages_are_answered(message: object) -> None:
    verdict = Guard().check("s", message)
    assert isinstance(verdict, Refused) and verdict.response == "utter_message_empty"


@pytest.mark.parametrize("metadata", ["a string", 5, ["x"], True])
def test_metadata_that_is_not_an_object_is_dropped_and_the_message_kept(metadata: object) -> None:
    verdict = Guard().check("s", "hello", metadata)
    assert verdict == Accepted("s", "hello", None)
    assert Guard().check("s", "hello", {"k": 1}) == Accepted("s", "hello", {"k": 1})


@pytest.mark.parametrize("sender", [None, "", "  ", 5, {"id": "x"}, "x" * 513])
def test_a_request_without_a_usable_sender_is_a_bad_request(sender: object) -> None:
    with pytest.raises(BadRequest):
        Guard().check(sender, "hello")


def test_the_rate_limit_is_per_sender_and_refills() -> None:
    clock = Clock()
    guard = Guard(GuardConfig(rate_limit_burst=3, rate_limit_per_s=0.5), clock=clock)
    verdicts = [guard.check("flood", "hi") for _ in range(5)]
    assert [isinstance(v, Accepted) for v in verdicts] == [True, True, True, False, False]
    assert verdicts[-1].response == "utter_rate_limited"  # type: ignore[union-attr]
    assert isinstance(guard.check("someone else", "hi"), Accepted)
    clock.now += 2.0  # one token back
    assert isinstance(guard.check("flood", "hi"), Accepted)
    assert isinstance(guard.check("flood", "hi"), Refused)


def test_bad_messages_count_against_the_rate_too() -> None:
    guard = Guard(GuardConfig(rate_limit_burst=2, rate_limit_per_s=0.001), clock=Clock())
    guard.check("s", "")
    guard.check("s", "x" * 10_000)
    assert guard.check("s", "hi").response == "utter_rate_limited"  # type: ignore[union-attr]


def test_the_buckets_forget_the_least_recently_seen_sender_first() -> None:
    buckets = TokenBuckets(burst=1, per_s=0.0, max_keys=2, clock=Clock())
    assert buckets.take("a") and buckets.take("b")
    assert not buckets.take("a")  # a is now the most recent
    assert buckets.take("c")  # evicts b
    assert len(buckets._buckets) == 2 and "b" not in buckets._buckets


def test_settings_come_from_credentials_and_the_environment_wins() -> None:
    credentials = {"max_message_chars": 500, "rate_limit_burst": 4, "rate_limit_per_s": "0.5"}
    assert GuardConfig.from_settings(credentials, env={}) == GuardConfig(
        max_message_chars=500, rate_limit_burst=4, rate_limit_per_s=0.5
    )
    config = GuardConfig.from_settings(credentials, env={"TANDEM_RATE_LIMIT_BURST": "9"})
    assert config.rate_limit_burst == 9 and config.max_message_chars == 500
    assert GuardConfig.from_settings(None, env={}) == GuardConfig()
    with pytest.raises(GuardConfigError, match="max_message_chars"):
        GuardConfig.from_settings({"max_message_chars": "lots"}, env={})
    with pytest.raises(GuardConfigError, match="rate_limit_per_s"):
        GuardConfig.from_settings({"rate_limit_per_s": 0}, env={})
