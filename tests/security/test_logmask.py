"""bot.logmask: every log record masked at its creation, whoever logs it and however."""

from __future__ import annotations

import io
import logging
from typing import Iterator

import pytest

from bot import logmask


@pytest.fixture(autouse=True)
def own_factory() -> Iterator[None]:
    """Install for this test only: the masking must not leak into other tests' log captures."""
    before = logging.getLogRecordFactory()
    yield
    logging.setLogRecordFactory(before)
    logmask._installed = False


@pytest.fixture()
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    logmask.install()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)  # a handler added after install, as Rasa's are
    logger = logging.getLogger("tests.logmask")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield logger, stream
    finally:
        logger.removeHandler(handler)


def test_messages_and_arguments_are_masked(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    logger.info("customer %s wrote: %s", "whatsapp:+447700900199", "my email is hannah.lee@example.com")
    logger.info('{"event": "user", "text": "call me on 07700 900123"}')  # structlog's JSON lines
    out = stream.getvalue()
    for secret in ("447700900199", "hannah.lee@example.com", "07700 900123"):
        assert secret not in out
    assert "[email]" in out and "[phone]" in out


def test_percent_encoded_identifiers_in_urls_are_masked(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    logger.info("POST /conversations/whatsapp%3A%2B447700900199/tracker/events 200")
    logger.info("GET /x?email=hannah.lee%40example.com 200")
    out = stream.getvalue()
    assert "447700900199" not in out and "hannah.lee" not in out


def test_tracebacks_are_masked(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    try:
        raise KeyError("hannah.lee@example.com")
    except KeyError:
        logger.exception("lookup failed")
    out = stream.getvalue()
    assert "Traceback" in out and "KeyError" in out and "hannah.lee@example.com" not in out


def test_install_is_idempotent() -> None:
    logmask.install()
    factory = logging.getLogRecordFactory()
    logmask.install()
    assert logging.getLogRecordFactory() is factory
