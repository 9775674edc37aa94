"""Personal data is masked in logs and exports, and masking stays linear on hostile input."""

from __future__ import annotations

import logging
import time

import pytest

from bot.pii import MaskingFilter, mask


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my email is ben.okafor@example.net thanks", "my email is [email] thanks"),
        ("call me on +44 7700 900199", "call me on [phone]"),
        ("or 07700900123 after six", "or [phone] after six"),
        ("where is order 4000000101?", "where is order [number]?"),
        ("card 4111 1111 1111 1111 was charged", "card [card] was charged"),
        ("invoice INV-20451234 please", "invoice [number] please"),
        ("deliver to SW1A 1AA instead", "deliver to [postcode] instead"),
        ("I want 2 items for 15 pounds", "I want 2 items for 15 pounds"),
        ("", ""),
    ],
)
def test_identifiers_are_masked_and_ordinary_words_are_not(text: str, expected: str) -> None:
    assert mask(text) == expected


def test_a_log_record_with_arguments_is_masked(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tandem.test.pii")
    logger.addFilter(MaskingFilter())
    with caplog.at_level(logging.INFO, logger="tandem.test.pii"):
        logger.info("customer %s wrote from %s", "amelia.hart@example.com", "+447700900199")
    assert caplog.messages == ["customer [email] wrote from [phone]"]


@pytest.mark.parametrize("unit", ["a", "7", "a7.@-+ "])
def test_a_megabyte_of_hostile_text_is_masked_quickly(unit: str) -> None:
    text = unit * (1_048_576 // len(unit))
    started = time.perf_counter()
    mask(text)
    # linear patterns take well under a second here; a quadratic one takes minutes
    assert time.perf_counter() - started < 10
