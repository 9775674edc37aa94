"""The eval-nlu core: readers, metric maths, report writing (stub parser, no model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.nlu.evaluation import (
    OOS_LABEL,
    REJECTED_LABEL,
    EvalDataError,
    LabelledUtterance,
    Prediction,
    compute_report,
    format_table,
    percentile,
    read_bitext_csv,
    read_eval_file,
    read_oos_json,
    run_parser,
    write_report,
)
from bot.nlu.intents import BUSINESS_INTENTS, is_business_intent


# ---------------------------------------------------------------- fixtures (written here, not eval data)

BITEXT_CSV = """text,intent,entity_type,entity_value,tags
where is parcel 77,track_order,order_id,77,BQ
"i want to stop order 5, please",cancel_order,order_id,5,BL
money back for the broken kettle,get_refund,,,B
status of my money back,track_refund,,,BQ
"""

OOS_JSON = [
    {"text": "how tall is the eiffel tower", "source": "trivia"},
    {"text": "book me a table for two", "source": "dining"},
    {"text": "tell me a joke", "source": "trivia"},
    {"text": "cancel my dentist appointment", "source": "health"},
]


@pytest.fixture
def bitext_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.csv"
    path.write_text(BITEXT_CSV, encoding="utf-8")
    return path


@pytest.fixture
def oos_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny_oos.json"
    path.write_text(json.dumps(OOS_JSON), encoding="utf-8")
    return path


# ---------------------------------------------------------------- readers


def test_intents_are_the_27_business_intents() -> None:
    assert len(BUSINESS_INTENTS) == len(set(BUSINESS_INTENTS)) == 27
    assert is_business_intent("track_order")
    assert not is_business_intent("out_of_scope")
    assert not is_business_intent("nlu_fallback")
    assert not is_business_intent(None)


def test_read_bitext_csv(bitext_file: Path) -> None:
    rows = read_bitext_csv(bitext_file)
    assert [r.intent for r in rows] == ["track_order", "cancel_order", "get_refund", "track_refund"]
    assert rows[1].text == "i want to stop order 5, please"  # quoted comma kept
    assert all(r.source == "tiny.csv" for r in rows)


def test_read_oos_json(oos_file: Path) -> None:
    rows = read_oos_json(oos_file)
    assert len(rows) == 4
    assert all(r.intent is None for r in rows)
    assert rows[1] == LabelledUtterance("book me a table for two", None, "dining")


def test_read_eval_file_dispatches_on_suffix(bitext_file: Path, oos_file: Path, tmp_path: Path) -> None:
    assert len(read_eval_file(bitext_file)) == 4
    assert len(read_eval_file(oos_file)) == 4
    other = tmp_path / "x.txt"
    other.write_text("hello")
    with pytest.raises(EvalDataError, match="unknown kind"):
        read_eval_file(other)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("text,label\nhi,greet\n", "missing column"),
        ("text,intent\nhello there,greet\n", "not one of the 27"),
        ("text,intent\n   ,track_order\n", "empty 'text'"),
        ("text,intent\n", "no rows"),
    ],
)
def test_bad_csv_gets_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(EvalDataError, match=message):
        read_bitext_csv(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"text": "a"}', "expected a JSON list"),
        ('[{"source": "x"}]', "expected an object with 'text'"),
        ('[{"text": 5}]', "must be a string"),
        ("[]", "empty list"),
    ],
)
def test_bad_json_gets_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(EvalDataError, match=message):
        read_oos_json(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(EvalDataError, match="no such file"):
        read_eval_file(tmp_path / "nope.csv")


# ---------------------------------------------------------------- metrics


STUB_ANSWERS = {
    # in scope: 3 of 4 right; the refund status goes to get_refund
    "where is parcel 77": Prediction("track_order", 0.9),
    "i want to stop order 5, please": Prediction("cancel_order", 0.8),
    "money back for the broken kettle": Prediction("get_refund", 0.7),
    "status of my money back": Prediction("get_refund", 0.4),
    # out of scope: a fallback, the explicit class and small talk are rejections;
    # the dentist query is wrongly accepted as cancel_order
    "how tall is the eiffel tower": Prediction("nlu_fallback", 0.3),
    "book me a table for two": Prediction("out_of_scope", 0.9),
    "tell me a joke": Prediction("greet", 0.6),
    "cancel my dentist appointment": Prediction("cancel_order", 0.95),
}


def stub_parse(text: str) -> Prediction:
    return STUB_ANSWERS.get(text, Prediction("nlu_fallback", 0.0))


class FakeClock:
    """Each parse takes 10 ms, except texts containing 'joke' which take 100 ms."""

    def __init__(self) -> None:
        self.now = 0.0
        self.calls = 0

    def __call__(self) -> float:
        return self.now


def timed_stub(clock: FakeClock):
    def parse(text: str) -> Prediction:
        clock.now += 0.1 if "joke" in text else 0.01
        return stub_parse(text)

    return parse


def test_report_metrics(bitext_file: Path, oos_file: Path) -> None:
    clock = FakeClock()
    utterances = read_bitext_csv(bitext_file) + read_oos_json(oos_file)
    outcomes = run_parser(utterances, timed_stub(clock), clock=clock, warmup=())
    report = compute_report(outcomes)

    assert report.n_in_scope == 4 and report.n_out_of_scope == 4
    assert report.in_scope_accuracy == pytest.approx(0.75)
    assert report.oos_rejection == pytest.approx(0.75)
    assert report.in_scope_rejected == 0.0

    get_refund = report.per_intent["get_refund"]
    assert (get_refund.precision, get_refund.recall) == (pytest.approx(0.5), 1.0)
    assert report.per_intent["track_refund"].recall == 0.0
    assert report.per_intent["track_refund"].precision is None  # never predicted
    # the accepted out-of-scope query costs cancel_order precision, not recall
    cancel = report.per_intent["cancel_order"]
    assert (cancel.precision, cancel.recall, cancel.predicted) == (0.5, 1.0, 2)
    assert report.per_intent["delete_account"].recall is None  # no support
    assert report.oos_accepted_as == {"cancel_order": 1}
    assert report.oos_rejection_by_source == {"health": 0.0, "dining": 1.0, "trivia": 1.0}
    assert report.top_confusions == {"track_refund -> get_refund": 1}

    # confusion matrix: 27 intents + out-of-scope row / rejected column
    assert report.confusion_labels_true[-1] == OOS_LABEL
    assert report.confusion_labels_pred[-1] == REJECTED_LABEL
    matrix = report.confusion_matrix
    oos_row = matrix[-1]
    assert oos_row[-1] == 3
    assert oos_row[BUSINESS_INTENTS.index("cancel_order")] == 1
    assert sum(map(sum, matrix)) == 8

    # speed: 7 parses at 10 ms, one at 100 ms
    assert report.throughput_per_s == pytest.approx(8 / 0.17)
    assert report.latency_ms_p50 == pytest.approx(10.0)
    assert report.latency_ms_max == pytest.approx(100.0)
    assert 10.0 < report.latency_ms_p99 <= 100.0


def test_warmup_is_parsed_but_not_counted() -> None:
    seen: list[str] = []

    def parse(text: str) -> Prediction:
        seen.append(text)
        return Prediction("track_order", 1.0)

    outcomes = run_parser([LabelledUtterance("where is it", "track_order", "x")], parse, warmup=("hi",))
    assert seen == ["hi", "where is it"]
    assert len(outcomes) == 1


def test_percentile_matches_linear_interpolation() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([5.0], 99) == 5.0
    assert percentile(list(map(float, range(101))), 99) == pytest.approx(99.0)


def test_only_out_of_scope_data_has_no_accuracy(oos_file: Path) -> None:
    report = compute_report(run_parser(read_oos_json(oos_file), stub_parse, warmup=()))
    assert report.in_scope_accuracy is None
    assert report.oos_rejection == 0.75
    assert "n/a" in format_table(report)


# ---------------------------------------------------------------- report writing


def test_write_report(bitext_file: Path, oos_file: Path, tmp_path: Path) -> None:
    utterances = read_bitext_csv(bitext_file) + read_oos_json(oos_file)
    report = compute_report(run_parser(utterances, stub_parse, warmup=()))
    json_path, png_path = write_report(report, tmp_path / "reports", {"model": "m.tar.gz"})

    payload = json.loads(json_path.read_text())
    assert payload["meta"] == {"model": "m.tar.gz"}
    assert payload["in_scope_accuracy"] == 0.75
    assert payload["per_intent"]["get_refund"]["precision"] == 0.5
    assert len(payload["confusion_matrix"]) == 28
    # metrics only: no utterance text is copied into the report
    assert "eiffel" not in json_path.read_text()
    assert png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    table = format_table(report)
    assert "in-scope accuracy       75.0%" in table
    assert "out-of-scope rejection  75.0%" in table
    assert "cancel_order" in table
