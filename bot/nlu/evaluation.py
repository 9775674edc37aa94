"""Measure intent classification: in-scope accuracy, out-of-scope rejection, speed.

The core is independent of Rasa: :func:`run_parser` takes any ``parse``
function (text -> :class:`Prediction`), so the metric maths and the report
writing are tested with a stub, and the CLI (:mod:`bot.nlu.cli`) plugs in a
trained Rasa model.

Two input formats, as found in ``../shared/eval`` (see its README):

* Bitext CSV with at least the columns ``text`` and ``intent``: in-scope
  utterances, each labelled with one of the 27 business intents;
* a JSON list of ``{"text": ..., "source": ...}`` objects: out-of-scope
  queries (no label; any prediction other than a business intent is a
  correct rejection).

Metrics (as the evaluation README defines them): in-scope accuracy is the share
of labelled utterances whose predicted intent equals the label (a fallback is
wrong); out-of-scope rejection is the share of unlabelled queries not
classified into a business intent. Per-intent precision counts every
prediction of that intent, out-of-scope queries included, so an intent that
swallows out-of-scope traffic shows a low precision.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import time
import warnings
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from bot.nlu.entities import EntityScore, score_entities
from bot.nlu.intents import BUSINESS_INTENTS, is_business_intent

logger = logging.getLogger(__name__)

#: label of the out-of-scope row / the rejected column of the confusion matrix
OOS_LABEL = "(out of scope)"
REJECTED_LABEL = "(rejected)"
#: refuse absurd inputs instead of swallowing memory
MAX_TEXT_CHARS = 2_000
MAX_FILE_BYTES = 50 * 1024 * 1024


class EvalDataError(ValueError):
    """An evaluation file is missing, malformed or of an unknown kind; the message says which row."""


@dataclass(frozen=True)
class LabelledUtterance:
    """One evaluation utterance. ``intent`` is ``None`` for an out-of-scope query."""

    text: str
    intent: str | None
    source: str
    #: annotated (entity type, value) pairs, when the file has them
    entities: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Prediction:
    """What the model said about one utterance."""

    intent: str | None
    confidence: float
    #: extracted (entity type, value) pairs, after the pipeline's synonym mapping
    entities: tuple[tuple[str, str], ...] = ()


Parser = Callable[[str], Prediction]


@dataclass(frozen=True)
class Outcome:
    utterance: LabelledUtterance
    prediction: Prediction
    seconds: float

    @property
    def in_scope(self) -> bool:
        return self.utterance.intent is not None

    @property
    def correct(self) -> bool:
        if self.in_scope:
            return self.prediction.intent == self.utterance.intent
        return not is_business_intent(self.prediction.intent)


# --------------------------------------------------------------------------- readers


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise EvalDataError(f"{path}: no such file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise EvalDataError(f"{path}: larger than {MAX_FILE_BYTES} bytes, refusing to read it")


def _clean_text(raw: Any, where: str) -> str:
    if not isinstance(raw, str):
        raise EvalDataError(f"{where}: 'text' must be a string, got {type(raw).__name__}")
    text = raw.strip()
    if not text:
        raise EvalDataError(f"{where}: empty 'text'")
    if len(text) > MAX_TEXT_CHARS:
        raise EvalDataError(f"{where}: 'text' longer than {MAX_TEXT_CHARS} characters")
    return text


def read_bitext_csv(path: Path) -> list[LabelledUtterance]:
    """Read a Bitext-style CSV (``text,intent,...``) of in-scope utterances.

    Every ``intent`` must be one of the 27 business intents: a typo in a label
    would otherwise silently count as a model error.
    """
    _check_file(path)
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"text", "intent"} - set(reader.fieldnames or ())
        if missing:
            raise EvalDataError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        rows = []
        for number, row in enumerate(reader, start=2):
            where = f"{path}:{number}"
            intent = (row.get("intent") or "").strip()
            if not is_business_intent(intent):
                raise EvalDataError(f"{where}: intent {intent!r} is not one of the 27 business intents")
            entity_type = (row.get("entity_type") or "").strip()
            entity_value = (row.get("entity_value") or "").strip()
            entities = ((entity_type, entity_value),) if entity_type and entity_value else ()
            rows.append(LabelledUtterance(_clean_text(row.get("text"), where), intent, path.name, entities))
    if not rows:
        raise EvalDataError(f"{path}: no rows")
    return rows


def read_oos_json(path: Path) -> list[LabelledUtterance]:
    """Read a JSON list of ``{"text", "source"}`` out-of-scope queries (CLINC style)."""
    _check_file(path)
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EvalDataError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(items, list):
        raise EvalDataError(f"{path}: expected a JSON list of objects with 'text'")
    rows = []
    for index, item in enumerate(items):
        where = f"{path}[{index}]"
        if not isinstance(item, Mapping) or "text" not in item:
            raise EvalDataError(f"{where}: expected an object with 'text'")
        source = item.get("source") or path.name
        rows.append(LabelledUtterance(_clean_text(item["text"], where), None, str(source)))
    if not rows:
        raise EvalDataError(f"{path}: empty list")
    return rows


def read_eval_file(path: Path) -> list[LabelledUtterance]:
    """Read one evaluation file, choosing the reader by its suffix (.csv or .json)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_bitext_csv(path)
    if suffix == ".json":
        return read_oos_json(path)
    raise EvalDataError(f"{path}: unknown kind of file (expected .csv Bitext or .json out-of-scope list)")


# --------------------------------------------------------------------------- running


def run_parser(
    utterances: Iterable[LabelledUtterance],
    parse: Parser,
    *,
    clock: Callable[[], float] = time.perf_counter,
    warmup: Sequence[str] = ("hello", "where is my order"),
) -> list[Outcome]:
    """Parse every utterance one at a time (as a live bot does), timing each call.

    ``warmup`` texts are parsed first and not timed: the first calls of a
    TensorFlow model build its graphs and would distort the latency tail.
    """
    for text in warmup:
        parse(text)
    outcomes = []
    for utterance in utterances:
        start = clock()
        prediction = parse(utterance.text)
        outcomes.append(Outcome(utterance, prediction, clock() - start))
    return outcomes


# --------------------------------------------------------------------------- metrics


@dataclass(frozen=True)
class IntentScore:
    precision: float | None
    recall: float | None
    f1: float | None
    support: int
    predicted: int


@dataclass(frozen=True)
class EvalReport:
    n_in_scope: int
    n_out_of_scope: int
    #: None when the run had no labelled (resp. unlabelled) utterances
    in_scope_accuracy: float | None
    oos_rejection: float | None
    #: share of in-scope utterances that got no business intent at all
    in_scope_rejected: float | None
    per_intent: dict[str, IntentScore]
    #: business intents the accepted out-of-scope queries were put into
    oos_accepted_as: dict[str, int]
    #: out-of-scope rejection per ``source`` (CLINC domain), worst first
    oos_rejection_by_source: dict[str, float]
    #: most frequent in-scope confusions, "label -> predicted": count
    top_confusions: dict[str, int]
    confusion_labels_true: list[str]
    confusion_labels_pred: list[str]
    confusion_matrix: list[list[int]]
    throughput_per_s: float
    latency_ms_p50: float
    latency_ms_p99: float
    latency_ms_max: float
    extra: dict[str, Any] = field(default_factory=dict)
    #: precision / recall per entity type (only when the data annotates entities)
    entities: dict[str, EntityScore] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (as numpy's default), ``q`` in [0, 100]."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def compute_report(outcomes: Sequence[Outcome], intents: Sequence[str] = BUSINESS_INTENTS) -> EvalReport:
    """Turn parse outcomes into the project's metrics."""
    in_scope = [o for o in outcomes if o.in_scope]
    oos = [o for o in outcomes if not o.in_scope]

    def predicted_column(prediction: Prediction) -> str:
        return prediction.intent if is_business_intent(prediction.intent) else REJECTED_LABEL

    labels_true = list(intents) + [OOS_LABEL]
    labels_pred = list(intents) + [REJECTED_LABEL]
    row_index = {label: i for i, label in enumerate(labels_true)}
    col_index = {label: i for i, label in enumerate(labels_pred)}
    matrix = [[0] * len(labels_pred) for _ in labels_true]
    for outcome in outcomes:
        row = row_index.get(outcome.utterance.intent or OOS_LABEL)
        col = col_index.get(predicted_column(outcome.prediction))
        if row is not None and col is not None:
            matrix[row][col] += 1

    per_intent: dict[str, IntentScore] = {}
    for intent in intents:
        support = sum(1 for o in in_scope if o.utterance.intent == intent)
        hits = sum(1 for o in in_scope if o.utterance.intent == intent and o.prediction.intent == intent)
        predicted = sum(1 for o in outcomes if o.prediction.intent == intent)
        precision = _ratio(hits, predicted)
        recall = _ratio(hits, support)
        f1 = None
        if precision is not None and recall is not None and precision + recall > 0:
            f1 = 2 * precision * recall / (precision + recall)
        per_intent[intent] = IntentScore(precision, recall, f1, support, predicted)

    accepted = Counter(o.prediction.intent for o in oos if not o.correct)
    by_source: dict[str, list[bool]] = {}
    for outcome in oos:
        by_source.setdefault(outcome.utterance.source, []).append(outcome.correct)
    rejection_by_source = {
        source: sum(flags) / len(flags)
        for source, flags in sorted(by_source.items(), key=lambda kv: (sum(kv[1]) / len(kv[1]), kv[0]))
    }
    confusions = Counter(
        f"{o.utterance.intent} -> {o.prediction.intent}" for o in in_scope if not o.correct
    )

    entity_scores: dict[str, EntityScore] = {}
    if any(o.utterance.entities for o in outcomes):
        entity_scores = score_entities(
            [_group(o.utterance.entities) for o in outcomes], [_group(o.prediction.entities) for o in outcomes]
        )

    latencies_ms = [o.seconds * 1000.0 for o in outcomes]
    total_seconds = sum(o.seconds for o in outcomes)
    return EvalReport(
        n_in_scope=len(in_scope),
        n_out_of_scope=len(oos),
        in_scope_accuracy=_ratio(sum(o.correct for o in in_scope), len(in_scope)),
        oos_rejection=_ratio(sum(o.correct for o in oos), len(oos)),
        in_scope_rejected=_ratio(
            sum(not is_business_intent(o.prediction.intent) for o in in_scope), len(in_scope)
        ),
        per_intent=per_intent,
        oos_accepted_as=dict(accepted.most_common()),
        oos_rejection_by_source=rejection_by_source,
        top_confusions=dict(confusions.most_common(20)),
        confusion_labels_true=labels_true,
        confusion_labels_pred=labels_pred,
        confusion_matrix=matrix,
        throughput_per_s=len(outcomes) / total_seconds if total_seconds > 0 else math.inf,
        latency_ms_p50=percentile(latencies_ms, 50),
        latency_ms_p99=percentile(latencies_ms, 99),
        latency_ms_max=max(latencies_ms) if latencies_ms else math.nan,
        entities=entity_scores,
    )


def _group(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for entity_type, value in pairs:
        grouped.setdefault(entity_type, []).append(value)
    return grouped


# --------------------------------------------------------------------------- output


def _pct(value: float | None) -> str:
    return "   n/a" if value is None else f"{100 * value:5.1f}%"


def format_table(report: EvalReport) -> str:
    """A plain-text summary: headline metrics, then one line per intent."""
    lines = [
        f"in-scope accuracy      {_pct(report.in_scope_accuracy)}  ({report.n_in_scope} utterances)",
        f"out-of-scope rejection {_pct(report.oos_rejection)}  ({report.n_out_of_scope} queries)",
        f"in-scope rejected      {_pct(report.in_scope_rejected)}",
        f"throughput             {report.throughput_per_s:7.1f} utterances/s",
        f"latency p50 / p99      {report.latency_ms_p50:6.1f} / {report.latency_ms_p99:6.1f} ms",
        "",
        f"{'intent':<26} {'precision':>9} {'recall':>7} {'support':>7} {'predicted':>9}",
    ]
    for intent, score in report.per_intent.items():
        lines.append(
            f"{intent:<26} {_pct(score.precision):>9} {_pct(score.recall):>7} "
            f"{score.support:>7} {score.predicted:>9}"
        )
    if report.entities:
        lines += ["", f"{'entity (normalised value)':<26} {'precision':>9} {'recall':>7} {'F1':>7} {'gold':>5} {'found':>6}"]
        for entity_type, entity in report.entities.items():
            lines.append(
                f"{entity_type:<26} {_pct(entity.precision):>9} {_pct(entity.recall):>7} "
                f"{_pct(entity.f1):>7} {entity.gold:>5} {entity.predicted:>6}"
            )
    if report.oos_accepted_as:
        taken = ", ".join(f"{k} {v}" for k, v in list(report.oos_accepted_as.items())[:8])
        lines += ["", f"out-of-scope accepted as: {taken}"]
    worst = [f"{k} {_pct(v).strip()}" for k, v in list(report.oos_rejection_by_source.items())[:8]]
    if worst:
        lines.append(f"worst out-of-scope sources: {', '.join(worst)}")
    if report.top_confusions:
        conf = ", ".join(f"{k} ({v})" for k, v in list(report.top_confusions.items())[:8])
        lines.append(f"top in-scope confusions: {conf}")
    return "\n".join(lines)


def plot_confusion(report: EvalReport, path: Path) -> None:
    """Row-normalised confusion matrix as a PNG (rows: truth, columns: prediction)."""
    # matplotlib 3.5 (pinned by Rasa) calls pyparsing APIs that newer pyparsing
    # flags as deprecated; that noise is not ours and must not fail a run.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        _plot_confusion(report, path)


def _plot_confusion(report: EvalReport, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = report.confusion_matrix
    normalised = [[cell / (sum(row) or 1) for cell in row] for row in rows]
    size = max(6.0, 0.32 * len(report.confusion_labels_pred) + 3)
    fig, ax = plt.subplots(figsize=(size, size))
    try:
        image = ax.imshow(normalised, cmap="Blues", vmin=0.0, vmax=1.0)
        ax.set_xticks(range(len(report.confusion_labels_pred)))
        ax.set_xticklabels(report.confusion_labels_pred, rotation=90, fontsize=7)
        ax.set_yticks(range(len(report.confusion_labels_true)))
        ax.set_yticklabels(report.confusion_labels_true, fontsize=7)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(
            f"in-scope accuracy {_pct(report.in_scope_accuracy).strip()}, "
            f"out-of-scope rejection {_pct(report.oos_rejection).strip()}"
        )
        for i, row in enumerate(rows):
            for j, cell in enumerate(row):
                if cell:
                    colour = "white" if normalised[i][j] > 0.5 else "black"
                    ax.text(j, i, str(cell), ha="center", va="center", fontsize=5, color=colour)
        fig.colorbar(image, ax=ax, fraction=0.04)
        fig.tight_layout()
        fig.savefig(path, dpi=120)
    finally:
        plt.close(fig)


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def write_report(
    report: EvalReport, out_dir: Path, meta: Mapping[str, Any] | None = None
) -> tuple[Path, Path]:
    """Write ``nlu_eval.json`` and ``nlu_confusion.png`` into ``out_dir``; return both paths.

    The JSON holds metrics and counts only, never utterance texts, so a report
    can be shared without copying evaluation data around.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "nlu_eval.json"
    png_path = out_dir / "nlu_confusion.png"
    payload = _finite({"meta": dict(meta or {}), **report.to_json()})
    json_path.write_text(json.dumps(payload, indent=2, allow_nan=False, default=str) + "\n")
    plot_confusion(report, png_path)
    return json_path, png_path
