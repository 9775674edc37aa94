"""Masking of personal data in inbox messages before they are stored, shown or exported.

The product's masker (:func:`bot.pii.mask`: e-mail addresses, card-like numbers, phone numbers,
runs of 6+ digits such as order and account numbers, UK postcodes) plus one rule the inbox needs:
short references that mix letters and 4-5 digits (``RF-20931``, ``FB8812``), which customers
quote when something did not work. Names and street addresses have no recognisable shape and are
not detected: the inbox is for supervisors, and the export is reviewed before it joins ``data/``.

Each match becomes a placeholder in square brackets, so a labelled message still reads naturally
("my order [number] never arrived") and NLU training data keeps the sentence's structure.
"""

from __future__ import annotations

import re

from bot import pii

REFERENCE = "[reference]"
#: the placeholders this module and bot.pii write (left out of the inbox's similarity vectors)
PLACEHOLDER = re.compile(r"\[(?:email|card|phone|number|postcode|reference)\]")

_SHORT_REFERENCE = re.compile(r"(?<![\w\[])[A-Za-z]{1,4}-?\d{4,5}(?![\w])")


def mask(text: str) -> str:
    """``text`` with e-mails, phones, card-like and order-like numbers, postcodes and references masked."""
    return _SHORT_REFERENCE.sub(REFERENCE, pii.mask(text))
