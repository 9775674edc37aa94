"""Message templates that can never show a placeholder to a customer.

The product rule: no message shows ``{name}``, ``None``, ``<<FIRST NAME>>`` or
any other trace of a value that was missing. Every customer-facing sentence
the actions build from data goes through :func:`render`, which has three ways
of coping with a missing value, chosen by the template's author:

``{order_id}``
    required: if ``order_id`` is missing the whole *sentence* containing it is
    left out (sentences end at ``.``, ``!``, ``?`` or a line break);
``{carrier|the carrier}``
    a fallback wording after ``|`` is used instead;
``[[ for {first_name}]]``
    an optional segment, left out entirely when any value inside is missing.

A value is missing when it is absent, ``None``, blank, an empty collection or
one of the strings silos use for "nothing" (``"None"``, ``"null"``, ``"nan"``
...). Values are formatted for people (dates as "Thursday 26 November", lists
as "a, b and c") and stripped of brace and chevron characters, so data can't
smuggle template syntax in either. :func:`placeholder_problems` is the check
the template-safety tests use.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from decimal import Decimal
from typing import Any, Iterable, Mapping

from bot.processes.calendar import format_day

logger = logging.getLogger(__name__)

__all__ = [
    "is_missing",
    "format_value",
    "format_money",
    "join_words",
    "render",
    "placeholder_problems",
    "TemplateSyntaxError",
]

_NOTHING_STRINGS = frozenset({"none", "null", "nan", "nat", "undefined", "n/a", "na", "-"})
_FIELD_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?:\|([^{}]*))?\}")
_SEGMENT_RE = re.compile(r"\[\[(.*?)\]\]", re.S)
_SENTINEL_RE = re.compile(r"\x00(\d+)\x00")
# A sentence ends after . ! ? (followed by space) or at a line break.
_SENTENCE_RE = re.compile(r"(?<=[.!?])[ \t]+|\n")
_PROBLEM_RE = re.compile(r"[{}]|<<|>>|\[\[|\]\]|\bNone\b|\bnull\b|\bNaN\b|\bnan\b|\bundefined\b|\x00")
_CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


class TemplateSyntaxError(ValueError):
    """A template is malformed (unbalanced braces): a programming error, found by the tests."""


def is_missing(value: Any) -> bool:
    """True for values that must not be shown: None, blanks, empties, "None"-like strings."""
    if value is None:
        return True
    if isinstance(value, str):
        stripped = value.strip()
        return not stripped or stripped.lower() in _NOTHING_STRINGS
    if isinstance(value, float) and value != value:  # NaN
        return True
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        return not any(not is_missing(v) for v in value)
    return False


def join_words(items: Iterable[Any], conjunction: str = "and") -> str:
    """``"a"``, ``"a and b"``, ``"a, b and c"`` (missing items left out)."""
    words = [format_value(i) for i in items if not is_missing(i)]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


def format_money(
    amount: Decimal | float | int | str | None, currency: str | None = None, *, minor_units: bool = False
) -> str:
    """``"£12.50"``, ``"€3"``, ``"12.50 CHF"``; ``""`` for no amount (treated as missing).

    The one money formatter of the bot: ``minor_units`` for the profile's
    integer pence/cents.
    """
    if amount is None:
        return ""
    value = Decimal(str(amount))
    if minor_units:
        value = value / 100
    value = value.quantize(Decimal("0.01"))
    text = f"{value:,.2f}"
    if text.endswith(".00"):
        text = text[:-3]
    code = (currency or "GBP").upper() if minor_units else (currency or "").upper()
    symbol = _CURRENCY_SYMBOLS.get(code)
    if symbol:
        return f"-{symbol}{text[1:]}" if text.startswith("-") else f"{symbol}{text}"
    return f"{text} {code}".strip()


def format_value(value: Any, today: dt.date | None = None) -> str:
    """A value as a person reads it; template syntax characters removed."""
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, dt.datetime):
        text = format_day(value.date(), today)
    elif isinstance(value, dt.date):
        text = format_day(value, today)
    elif isinstance(value, Decimal):
        text = f"{value:f}"
    elif isinstance(value, float):
        text = f"{value:.2f}".rstrip("0").rstrip(".")
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        text = join_words(items)
    else:
        text = str(value)
    return _clean(text)


def _clean(text: str) -> str:
    text = re.sub(r"[{}<>\x00]|\[\[|\]\]", "", text)
    return re.sub(r"\s+", " ", text).strip()


def _check_syntax(template: str) -> None:
    stripped = _FIELD_RE.sub("", _SEGMENT_RE.sub(lambda m: m.group(1), template))
    if any(ch in stripped for ch in "{}") or "[[" in stripped or "]]" in stripped:
        raise TemplateSyntaxError(f"malformed template (stray brace or bracket): {template!r}")


def _fill(text: str, values: Mapping[str, Any], today: dt.date | None) -> str | None:
    """Substitute the fields of ``text``; ``None`` if a required field is missing."""
    missing = False

    def substitute(match: re.Match[str]) -> str:
        nonlocal missing
        name, fallback = match.group(1), match.group(2)
        value = values.get(name)
        if is_missing(value) or not format_value(value, today):
            if fallback is not None and fallback.strip():
                return fallback
            missing = True
            return ""
        return format_value(value, today)

    out = _FIELD_RE.sub(substitute, text)
    return None if missing else out


def render(
    template: str,
    values: Mapping[str, Any] | None = None,
    *,
    default: str = "",
    today: dt.date | None = None,
) -> str:
    """Render ``template`` with ``values``; see the module docstring for the rules.

    Returns ``default`` when nothing of the template is left. The result is
    guaranteed free of template syntax; should a bug ever let some through it
    is removed and logged rather than shown.
    """
    _check_syntax(template)
    values = values or {}
    segments: list[str] = []

    def keep_segment(match: re.Match[str]) -> str:
        filled = _fill(match.group(1), values, today)
        segments.append(filled or "")
        return f"\x00{len(segments) - 1}\x00"

    skeleton = _SEGMENT_RE.sub(keep_segment, template)
    kept: list[str] = []
    for part in _split_keeping_breaks(skeleton):
        if part == "\n":
            kept.append(part)
            continue
        filled = _fill(part, values, today)
        if filled is None:
            continue
        kept.append(_SENTINEL_RE.sub(lambda m: segments[int(m.group(1))], filled))
    text = _tidy(kept)
    problems = placeholder_problems(text)
    if problems:  # defensive: never reached with a well-formed template
        logger.error("template left %s in a message; removed: %r", problems, template)
        text = _PROBLEM_RE.sub("", text)
    return text or default


def _split_keeping_breaks(text: str) -> list[str]:
    parts: list[str] = []
    pos = 0
    for match in _SENTENCE_RE.finditer(text):
        parts.append(text[pos : match.start()])
        if match.group(0) == "\n":
            parts.append("\n")
        pos = match.end()
    parts.append(text[pos:])
    return parts


def _tidy(parts: list[str]) -> str:
    lines: list[str] = []
    current: list[str] = []
    for part in parts:
        if part == "\n":
            lines.append(" ".join(current))
            current = []
            continue
        part = re.sub(r"[ \t]+", " ", part).strip()
        if part:
            current.append(part)
    lines.append(" ".join(current))
    cleaned = []
    for line in lines:
        line = re.sub(r"\s+([,.;:!?])", r"\1", line)
        line = re.sub(r"\(\s*\)", "", line)
        line = re.sub(r"[ \t]+", " ", line).strip()
        if line and not re.fullmatch(r"[\W_]+", line):
            cleaned.append(line)
    return "\n".join(cleaned)


def placeholder_problems(text: str) -> list[str]:
    """Every trace of template syntax or a missing value in ``text`` (empty when clean)."""
    return [m.group(0) for m in _PROBLEM_RE.finditer(text or "")]
