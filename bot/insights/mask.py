"""Masking of personal data in customer messages before they are stored, shown or exported.

Rule-based on purpose: what must go (e-mail addresses, phone numbers, card-like and order-like
numbers, account references) has a recognisable shape, and a rule is predictable and testable.
Names and street addresses have no such shape and are not detected: the inbox is for supervisors,
and the export is reviewed before it joins ``data/``.

Each match becomes a placeholder in square brackets, so a labelled message still reads naturally
("my order [number] never arrived") and NLU training data keeps the sentence's structure.
"""

from __future__ import annotations

import re

EMAIL = "[email]"
CARD = "[card]"
PHONE = "[phone]"
NUMBER = "[number]"
REFERENCE = "[reference]"

_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE), EMAIL),
    # 13-19 digits, optionally grouped by spaces or dashes (payment cards)
    (re.compile(r"(?<![\w])(?:\d[ -]?){12,18}\d(?![\w])"), CARD),
    # phone numbers, international (+) or national (leading 0): +44 7700 900123, 07700-900123, (020) 7946 0000
    (re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .-]?|\(?0)\d{1,5}\)?(?:[ .-]?\d{2,5}){1,4}(?![\w])"), PHONE),
    # references mixing letters and digits: C1000002, RF-20931, FB8812
    (re.compile(r"(?<![\w])[A-Za-z]{1,4}-?\d{4,}(?![\w])"), REFERENCE),
    # any remaining run of 5+ digits (years stay), with an optional '#': order and invoice numbers
    (re.compile(r"#?(?<![\w])\d{5,}(?![\w])"), NUMBER),
)


def mask(text: str) -> str:
    """``text`` with every e-mail, phone, card-like, order-like number and reference masked."""
    for pattern, placeholder in _RULES:
        text = pattern.sub(placeholder, text)
    return text
