"""A new delivery address, checked before anyone is asked to deliver to it.

:func:`check_address` takes what the customer typed (one message: street,
town and postcode) and the destination country of the order, and says
whether it is plausible: not empty, has a street-like part with letters, and
contains a postcode of that country's format. It does not claim the address
exists; it catches the mistakes a person would (a missing or malformed
postcode, an empty answer, a sentence instead of an address).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

__all__ = ["AddressCheck", "POSTCODES", "check_address", "MAX_ADDRESS_CHARS"]

MAX_ADDRESS_CHARS = 200

_D4 = r"\d{4}"
_D5 = r"\d{5}"
#: ISO country -> its postcode format (a regular expression searched in the address, linear time)
POSTCODES: Mapping[str, str] = {
    "GB": r"[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}",
    "IE": r"[AC-FHKNPRTV-Y]\d{2}\s?[0-9AC-FHKNPRTV-Y]{4}",
    "US": r"\d{5}(?:-\d{4})?",
    "CA": r"[A-Z]\d[A-Z]\s?\d[A-Z]\d",
    "NL": r"\d{4}\s?[A-Z]{2}",
    "PL": r"\d{2}-\d{3}",
    "PT": r"\d{4}-\d{3}",
    "SE": r"\d{3}\s?\d{2}",
    "CZ": r"\d{3}\s?\d{2}",
    "SK": r"\d{3}\s?\d{2}",
    "GR": r"\d{3}\s?\d{2}",
    "JP": r"\d{3}-\d{4}",
    "IN": r"\d{6}",
    "CN": r"\d{6}",
    "BR": r"\d{5}-?\d{3}",
    **{code: _D5 for code in ("DE", "FR", "IT", "ES", "FI", "EE", "HR", "LT", "MX", "CY")},
    **{code: _D4 for code in ("BE", "AT", "CH", "DK", "NO", "LU", "HU", "SI", "BG", "AU", "NZ", "IS", "LV")},
}
#: anything else: 3 to 10 letters, digits, spaces or dashes with at least one digit
_GENERIC = r"(?=[A-Z\d -]{0,9}\d)[A-Z\d][A-Z\d -]{1,8}[A-Z\d]"


@dataclass(frozen=True)
class AddressCheck:
    ok: bool
    #: why not, naming ``utter_address_invalid_<problem>``: "empty", "too_long", "no_street", "postcode"
    problem: str | None = None
    address: str | None = None
    postcode: str | None = None


def check_address(text: object, country: str | None) -> AddressCheck:
    """Is ``text`` a plausible delivery address in ``country`` (ISO code)? See the module docstring."""
    if not isinstance(text, str) or not text.strip():
        return AddressCheck(False, "empty")
    address = " ".join(text.split())
    if len(address) > MAX_ADDRESS_CHARS:
        return AddressCheck(False, "too_long")
    pattern = POSTCODES.get((country or "").upper(), _GENERIC)
    match = re.search(rf"(?<![A-Za-z\d])(?:{pattern})(?![A-Za-z\d])", address, flags=re.IGNORECASE)
    if match is None:
        return AddressCheck(False, "postcode")
    rest = (address[: match.start()] + address[match.end() :]).strip(" ,")
    if sum(ch.isalpha() for ch in rest) < 3:
        return AddressCheck(False, "no_street")
    return AddressCheck(True, None, address, match.group(0).upper())
