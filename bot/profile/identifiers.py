"""Normalising and recognising customer identifiers.

Every silo spells identifiers its own way; resolution and lookup both go
through these functions so that "Jo.Bloggs@GMail.com", "07700 900123" and
"#0012345678" meet their stored counterparts. All functions raise
:class:`InvalidIdentifier` with a message naming what is wrong and never
echo the full value back (it may be personal data).

Formats (shared with the rest of the product):

* e-mail: lower-cased; for Gmail/Googlemail, dots and ``+tags`` in the local
  part are dropped because the provider ignores them.
* phone: E.164. National numbers are read as GB (``07700 900123``); US
  numbers are accepted as ``+1 ...``, ``1 202 555 0143`` or ten digits
  starting 2-9 without a trunk zero. Other countries only with a ``+``.
* customer number: ``C`` + 7 digits (CRM).
* order number: 8-12 digits; ``#``, spaces and leading zeros are stripped.
* invoice id: ``INV-`` + 7 digits.
* channel id: ``whatsapp:+447700900123``, ``sms:+1...``, ``phone:+44...``,
  ``messenger:<5-20 digits>``, ``web:<uuid>``, ``email:<address>``.
"""

from __future__ import annotations

import re
import uuid
from typing import Final

from bot.profile.errors import InvalidIdentifier

#: the kinds ``ProfileRepository.find`` accepts (plus None = auto-detect)
KINDS: Final = ("email", "phone", "customer_number", "order_id", "channel_id", "invoice_id")
MAX_IDENTIFIER_LENGTH: Final = 320

_EMAIL_LOCAL = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_EMAIL_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
_PHONE_CHARS = re.compile(r"^\(?\+?[0-9 ()./-]+$")
_NANP = re.compile(r"^[2-9][0-9]{2}[2-9][0-9]{6}$")
_GB_NATIONAL = re.compile(r"^[1235789][0-9]{8,9}$")
_CUSTOMER_NUMBER = re.compile(r"^C([0-9]{7})$")
_INVOICE = re.compile(r"^INV-?([0-9]{7})$")
_ORDER_CHARS = re.compile(r"^#?[0-9 ]+$")
_MESSENGER = re.compile(r"^[0-9]{5,20}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CUSTOMER_ID = re.compile(r"^cus_[0-9a-f]{16}$")
CHANNELS: Final = ("whatsapp", "sms", "phone", "messenger", "web", "email")


def _clean(raw: object, what: str) -> str:
    if not isinstance(raw, str):
        raise InvalidIdentifier(f"{what} must be text, got {type(raw).__name__}")
    value = raw.strip()
    if not value:
        raise InvalidIdentifier(f"{what} is empty")
    if len(value) > MAX_IDENTIFIER_LENGTH:
        raise InvalidIdentifier(f"{what} is too long ({len(value)} characters, at most {MAX_IDENTIFIER_LENGTH})")
    if _CONTROL.search(value):
        raise InvalidIdentifier(f"{what} contains control characters")
    return value


def normalise_email(raw: object) -> str:
    """Lower-case; drop Gmail dots and ``+tags``. Raises InvalidIdentifier."""
    value = _clean(raw, "e-mail address").lower()
    if value.startswith("mailto:"):
        value = value[len("mailto:"):]
    local, sep, domain = value.rpartition("@")
    if not sep or not local or not domain:
        raise InvalidIdentifier("e-mail address must look like name@example.com")
    if len(local) > 64 or not _EMAIL_LOCAL.match(local):
        raise InvalidIdentifier("e-mail address has an invalid part before the @")
    if not _EMAIL_DOMAIN.match(domain):
        raise InvalidIdentifier("e-mail address has an invalid domain")
    if domain in _GMAIL_DOMAINS:
        local = local.split("+", 1)[0].replace(".", "")
        domain = "gmail.com"
        if not local:
            raise InvalidIdentifier("e-mail address has an invalid part before the @")
    return f"{local}@{domain}"


def _gb(national: str) -> str:
    if national.startswith("0"):
        national = national[1:]
    if not _GB_NATIONAL.match(national):
        raise InvalidIdentifier("phone number is not a valid UK number")
    return "+44" + national


def _us(national: str) -> str:
    if not _NANP.match(national):
        raise InvalidIdentifier("phone number is not a valid US number")
    return "+1" + national


def normalise_phone(raw: object) -> str:
    """E.164 with GB as the default region; US and ``+``-prefixed numbers accepted."""
    value = _clean(raw, "phone number")
    if value.lower().startswith("tel:"):
        value = value[4:].strip()
    value = value.replace("(0)", "")
    if not _PHONE_CHARS.match(value):
        raise InvalidIdentifier("phone number may only contain digits, spaces, + ( ) . and -")
    digits = re.sub(r"[^0-9]", "", value)
    international = value.lstrip("(").startswith("+")
    if not international and digits.startswith("00"):
        digits, international = digits[2:], True
    if not 7 <= len(digits) <= 15:
        raise InvalidIdentifier("phone number has the wrong number of digits")
    if international:
        if digits.startswith("44"):
            return _gb(digits[2:])
        if digits.startswith("1"):
            return _us(digits[1:])
        if digits.startswith("0") or len(digits) < 8:
            raise InvalidIdentifier("phone number has an invalid country code")
        return "+" + digits
    if digits.startswith("0"):
        return _gb(digits)
    if len(digits) == 10:
        return _us(digits)
    if len(digits) == 11 and digits.startswith("1"):
        return _us(digits[1:])
    if len(digits) in (11, 12) and digits.startswith("44"):
        return _gb(digits[2:])
    raise InvalidIdentifier("phone number is neither a UK nor a US number; add the country code with +")


def normalise_customer_number(raw: object) -> str:
    value = re.sub(r"[\s-]", "", _clean(raw, "customer number")).upper()
    match = _CUSTOMER_NUMBER.match(value)
    if not match:
        raise InvalidIdentifier("customer number must be C followed by 7 digits, e.g. C1234567")
    return "C" + match.group(1)


def normalise_order_id(raw: object) -> str:
    value = _clean(raw, "order number")
    if not _ORDER_CHARS.match(value):
        raise InvalidIdentifier("order number must be 8 to 12 digits")
    digits = value.replace("#", "").replace(" ", "").lstrip("0")
    if not 8 <= len(digits) <= 12:
        raise InvalidIdentifier("order number must be 8 to 12 digits")
    return digits


def normalise_invoice_id(raw: object) -> str:
    value = re.sub(r"\s", "", _clean(raw, "invoice number")).upper()
    match = _INVOICE.match(value)
    if not match:
        raise InvalidIdentifier("invoice number must be INV- followed by 7 digits, e.g. INV-1234567")
    return "INV-" + match.group(1)


def normalise_channel_id(raw: object) -> str:
    value = _clean(raw, "channel id")
    channel, sep, rest = value.partition(":")
    channel = channel.strip().lower()
    rest = rest.strip()
    if not sep or channel not in CHANNELS or not rest:
        raise InvalidIdentifier("channel id must look like whatsapp:+447700900123, messenger:1234567890 or web:<uuid>")
    if channel in ("whatsapp", "sms", "phone"):
        return f"{channel}:{normalise_phone(rest)}"
    if channel == "email":
        return f"email:{normalise_email(rest)}"
    if channel == "messenger":
        if not _MESSENGER.match(rest):
            raise InvalidIdentifier("messenger id must be 5 to 20 digits")
        return f"messenger:{rest}"
    try:
        return f"web:{uuid.UUID(rest)}"
    except ValueError:
        raise InvalidIdentifier("web channel id must be web:<uuid>") from None


def channel_contact(channel_id: str) -> tuple[str, str] | None:
    """The phone or e-mail a normalised channel id implies, e.g. ``("phone", "+44...")``."""
    channel, _, rest = channel_id.partition(":")
    if channel in ("whatsapp", "sms", "phone"):
        return ("phone", rest)
    if channel == "email":
        return ("email", rest)
    return None


def normalise_customer_id(raw: object) -> str:
    value = _clean(raw, "customer id").lower()
    if not _CUSTOMER_ID.match(value):
        raise InvalidIdentifier("customer id must be cus_ followed by 16 hex digits")
    return value


NORMALISERS: Final = {
    "email": normalise_email,
    "phone": normalise_phone,
    "customer_number": normalise_customer_number,
    "order_id": normalise_order_id,
    "invoice_id": normalise_invoice_id,
    "channel_id": normalise_channel_id,
}


def normalise(raw: object, kind: str) -> str:
    """Normalise ``raw`` as ``kind`` (one of :data:`KINDS`)."""
    try:
        func = NORMALISERS[kind]
    except (KeyError, TypeError):
        raise InvalidIdentifier(f"unknown identifier kind {kind!r}; expected one of {', '.join(KINDS)}") from None
    return func(raw)


def candidates(raw: object, kind: str | None = None) -> list[tuple[str, str]]:
    """The (kind, normalised value) pairs ``raw`` may stand for, most likely first.

    With ``kind`` given that is one pair, plus the phone/e-mail a channel id
    implies. Without it the kind is detected: ``@`` means e-mail, a known
    channel prefix a channel id, ``C`` + digits a customer number, ``INV-``
    an invoice; a bare number can be a phone number *and* an order number,
    so both are returned and the lookup decides.
    """
    if kind is not None:
        value = normalise(raw, kind)
        pairs = [(kind, value)]
        if kind == "channel_id":
            implied = channel_contact(value)
            if implied:
                pairs.append(implied)
        return pairs
    value = _clean(raw, "identifier")
    lowered = value.lower()
    prefix = lowered.partition(":")[0].strip()
    if ":" in lowered and prefix in CHANNELS:
        return candidates(value, "channel_id")
    if "@" in value:
        return [("email", normalise_email(value))]
    compact = re.sub(r"[\s-]", "", value).upper()
    if compact.startswith("INV"):
        return [("invoice_id", normalise_invoice_id(value))]
    if compact.startswith("C") and compact[1:].isdigit():
        return [("customer_number", normalise_customer_number(value))]
    pairs: list[tuple[str, str]] = []
    errors: list[str] = []
    for guess in ("phone", "order_id"):
        if guess == "phone" and value.startswith("#"):
            continue
        if guess == "order_id" and value.startswith("+"):
            continue
        try:
            pairs.append((guess, normalise(value, guess)))
        except InvalidIdentifier as exc:
            errors.append(str(exc))
    if not pairs:
        raise InvalidIdentifier(
            "identifier is not an e-mail, phone number, customer number (C1234567), order number "
            "(8-12 digits), invoice number (INV-1234567) or channel id"
        )
    return pairs
