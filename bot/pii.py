"""Masking personal data in text that leaves the conversation: logs, reports, exports.

:func:`mask` replaces e-mail addresses, card-like numbers, phone numbers, long
digit runs (order and invoice numbers, account numbers) and UK postcodes with a
typed placeholder such as ``[email]``, so a log line or an inbox entry still
says *what* the customer gave without saying *which*. :class:`MaskingFilter`
applies it to every record of a logger or handler.

Every pattern is linear in the input (no nested quantifiers, bounded
repetition), so a megabyte of hostile text costs milliseconds, not minutes.
"""

from __future__ import annotations

import logging
import re

__all__ = ["MaskingFilter", "install_log_masking", "mask"]

# Order matters: e-mails first (they contain digits and dots), then cards (13-19
# digits in groups), phones (a leading + or 0 and 9-15 digits with separators),
# then any other run of 6+ digits (order, invoice and account numbers).
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("email", re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")),
    ("card", re.compile(r"(?<![\w+])\d(?:[ -]?\d){12,18}(?!\w)")),
    ("phone", re.compile(r"(?<![\w+])(?:\+|00|0)\d(?:[ ().-]{0,2}\d){7,14}(?!\w)")),
    ("number", re.compile(r"(?<!\w)[A-Za-z]{0,3}-?\d{6,}(?!\w)")),
    ("postcode", re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b", re.IGNORECASE)),
)


def mask(text: str) -> str:
    """``text`` with personal identifiers replaced by ``[email]``, ``[card]``, ``[phone]``,
    ``[number]`` or ``[postcode]``."""
    if not text:
        return text
    for kind, pattern in _PATTERNS:
        text = pattern.sub(f"[{kind}]", text)
    return text


class MaskingFilter(logging.Filter):
    """Masks the fully formatted message of every record (arguments included)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is logged as it is
            return True
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install_log_masking(logger: logging.Logger | None = None) -> MaskingFilter:
    """Attach one :class:`MaskingFilter` to every handler of ``logger`` (default: root)."""
    logger = logger or logging.getLogger()
    flt = MaskingFilter()
    for handler in logger.handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(flt)
    return flt
