"""Entity scores: precision and recall per entity type, after normalisation.

The assistant compares values, not spans: an order "#0004587345" and "4587345"
are the same order to the actions (they strip the "#", the "INV-" prefix and
leading zeros before looking a number up), "Premium" and "premium" the same
account type, "$1,499" and "1499" the same amount. Both the gold value of the
evaluation set and the model's extracted value go through :func:`normalise`,
so the score measures what the actions would get.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

#: the entity types the assistant's actions use (and the dev set annotates)
SCORED_TYPES: tuple[str, ...] = (
    "order_id",
    "invoice_id",
    "account_type",
    "refund_amount",
    "delivery_city",
    "delivery_country",
    "person_name",
)

_TITLES = re.compile(r"^(?:mr|mrs|ms|miss|dr|mx)\.?\s+", re.IGNORECASE)
_AMOUNT = re.compile(r"\d[\d,]*(?:\.\d+)?")


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[^\w]+", " ", text).strip()


def normalise(entity_type: str, value: object) -> str:
    """The value as the actions would use it (an empty string when nothing usable is left)."""
    text = str(value or "").strip()
    if entity_type in ("order_id", "invoice_id"):
        digits = re.sub(r"^(?:#|inv[-_ ]?)", "", text, flags=re.IGNORECASE)
        digits = re.sub(r"\D", "", digits)
        return digits.lstrip("0") or ("0" if digits else "")
    if entity_type == "refund_amount":
        match = _AMOUNT.search(text)
        if not match:
            return ""
        amount = float(match.group(0).replace(",", ""))
        return f"{amount:.2f}"
    if entity_type == "person_name":
        return _plain(_TITLES.sub("", text))
    return _plain(text)


@dataclass(frozen=True)
class EntityScore:
    precision: float | None
    recall: float | None
    f1: float | None
    #: gold values (support), predicted values, and how many of them matched
    gold: int
    predicted: int
    correct: int


def score_entities(
    gold: Sequence[Mapping[str, Iterable[str]]],
    predicted: Sequence[Mapping[str, Iterable[str]]],
    types: Sequence[str] = SCORED_TYPES,
) -> dict[str, EntityScore]:
    """Per-type scores over utterances; each item maps a type to that utterance's raw values.

    A predicted value counts as correct when its normalised form equals one of the
    utterance's normalised gold values of the same type (each gold value matches once).
    """
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted must have one entry per utterance")
    scores: dict[str, EntityScore] = {}
    for entity_type in types:
        n_gold = n_pred = n_correct = 0
        for gold_row, pred_row in zip(gold, predicted):
            wanted = Counter(v for v in (normalise(entity_type, x) for x in gold_row.get(entity_type, ())) if v)
            got = [v for v in (normalise(entity_type, x) for x in pred_row.get(entity_type, ())) if v]
            n_gold += sum(wanted.values())
            n_pred += len(got)
            for value in got:
                if wanted[value] > 0:
                    wanted[value] -= 1
                    n_correct += 1
        precision = n_correct / n_pred if n_pred else None
        recall = n_correct / n_gold if n_gold else None
        f1 = (
            2 * precision * recall / (precision + recall)
            if precision is not None and recall is not None and precision + recall > 0
            else (0.0 if precision is not None and recall is not None else None)
        )
        scores[entity_type] = EntityScore(precision, recall, f1, n_gold, n_pred, n_correct)
    return scores
