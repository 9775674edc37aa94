"""Personal data masked in every log record a tandem process makes, whoever logs it.

:func:`bot.pii.install_log_masking` filters the handlers that exist when it is called; Rasa
and Sanic add theirs later, and Rasa's structured logs (structlog) reach the standard
library as ready-made strings. A log *record factory* sees every record at its creation,
before any handler: the message (arguments merged) and any exception text are masked
there once, with :func:`bot.pii.mask`, so no handler added later can write them unmasked.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import unquote

from bot.pii import mask

_installed = False


def install() -> None:
    """Mask every log record of this process from now on (idempotent)."""
    global _installed
    if _installed:
        return
    make_record = logging.getLogRecordFactory()

    def masked_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        _mask_record(record)
        return record

    logging.setLogRecordFactory(masked_record)
    _installed = True


def mask_line(message: str) -> str:
    """:func:`bot.pii.mask`, also seeing through percent-encoding (URLs in access logs carry
    sender ids such as ``whatsapp%3A%2B447700900199``)."""
    masked = mask(message)
    if "%" in masked:
        decoded = unquote(masked)
        remasked = mask(decoded)
        if remasked != decoded:
            return remasked
    return masked


def _mask_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a malformed record is left for logging to report
        return
    masked = mask_line(message)
    if masked != message:
        record.msg, record.args = masked, None
    if record.exc_info and record.exc_info[0] is not None:
        # the traceback's text (frames, exception message) is formatted here once, masked;
        # formatters use exc_text when it is set
        record.exc_text = mask_line(logging.Formatter().formatException(record.exc_info))
