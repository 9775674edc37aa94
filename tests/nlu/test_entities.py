"""Entity scoring compares values as the actions use them."""

from __future__ import annotations

import pytest

from bot.nlu.entities import normalise, score_entities


@pytest.mark.parametrize(
    ("entity_type", "raw", "expected"),
    [
        ("order_id", "#0004587345", "4587345"),
        ("order_id", "4587345", "4587345"),
        ("invoice_id", "INV-00108", "108"),
        ("invoice_id", "#00108", "108"),
        ("refund_amount", "$1,499", "1499.00"),
        ("refund_amount", "1499 dollars", "1499.00"),
        ("refund_amount", "no amount", ""),
        ("account_type", "Premium", "premium"),
        ("person_name", "Ms. Hawkings", "hawkings"),
        ("delivery_city", "  São Paulo ", "são paulo"),
    ],
)
def test_normalise(entity_type: str, raw: str, expected: str) -> None:
    assert normalise(entity_type, raw) == expected


def test_scores_count_each_gold_value_once() -> None:
    gold = [{"order_id": ["00123"]}, {"order_id": ["555"]}, {}]
    predicted = [{"order_id": ["#123", "123"]}, {}, {"order_id": ["777"], "account_type": ["gold"]}]
    scores = score_entities(gold, predicted, types=("order_id", "account_type"))
    order = scores["order_id"]
    assert (order.gold, order.predicted, order.correct) == (2, 3, 1)
    assert order.precision == pytest.approx(1 / 3)
    assert order.recall == pytest.approx(1 / 2)
    assert scores["account_type"].recall is None
    assert scores["account_type"].precision == 0.0


def test_gold_and_predictions_must_align() -> None:
    with pytest.raises(ValueError):
        score_entities([{}], [])
