"""The process catalogue: typed records loaded from ``catalogue.yml``.

A *process* (refund, cancellation, handoff ...) has *variants* (a refund to a
card or to PayPal; standard or express delivery) because steps, service
levels and risks differ between them. A variant is an ordered list of
:class:`Step` s, each a state the case can be in, what happens while it is in
that state, and how long that takes; the last step is the finished state.

The loader validates everything once (unknown units, duplicate ids, missing
failure modes, malformed templates), so the statement builder can trust the
data and a typo in the YAML fails a test, not a customer conversation.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import yaml

from bot.processes.calendar import BusinessCalendar, Duration
from bot.processes.render import TemplateSyntaxError, render

__all__ = [
    "CATALOGUE_PATH",
    "CatalogueError",
    "Catalogue",
    "FailureMode",
    "Policies",
    "Process",
    "Step",
    "Variant",
    "When",
    "default_catalogue",
    "load_catalogue",
]

CATALOGUE_PATH = Path(__file__).with_name("catalogue.yml")


class CatalogueError(ValueError):
    """The catalogue file is malformed; the message names the place."""


class When(str, enum.Enum):
    """The situation a failure mode applies to."""

    PENDING = "pending"  # waiting, still within the promise
    OVERDUE = "overdue"  # the promised time has passed
    DONE = "done"  # the process has finished


@dataclass(frozen=True)
class Step:
    """A state of a case: ``text`` is what happens while in it, ``takes`` how long."""

    id: str
    text: str
    takes: Duration


@dataclass(frozen=True)
class FailureMode:
    """What can go wrong, and what the customer can do then."""

    risk: str
    remedy: str
    when: When = When.PENDING
    #: step ids this applies to (empty: any step)
    stages: frozenset[str] = frozenset()

    def applies(self, when: When, stage: str) -> bool:
        return self.when is when and (not self.stages or stage in self.stages)


@dataclass(frozen=True)
class Variant:
    key: str
    label: str
    steps: tuple[Step, ...]
    failure_modes: tuple[FailureMode, ...]
    fee: str | None = None
    #: what "finished" means to the customer, e.g. "The money should be back on your card"
    outcome: str = "It should all be done"

    def step_index(self, step_id: str) -> int:
        for index, step in enumerate(self.steps):
            if step.id == step_id:
                return index
        raise KeyError(f"variant {self.key!r} has no step {step_id!r}; steps: {[s.id for s in self.steps]}")

    @property
    def final_step(self) -> Step:
        return self.steps[-1]

    def failure_modes_for(self, when: When, stage: str | None = None) -> tuple[FailureMode, ...]:
        """Failure modes for a situation, those specific to ``stage`` first."""
        stage = stage or self.steps[0].id
        modes = [f for f in self.failure_modes if f.applies(when, stage)]
        return tuple(sorted(modes, key=lambda f: not f.stages))


@dataclass(frozen=True)
class Process:
    key: str
    title: str
    summary: str
    default_variant: str
    variants: Mapping[str, Variant]

    def variant(self, key: str | None = None) -> Variant:
        """The named variant, or the default one for ``None``."""
        name = key or self.default_variant
        try:
            return self.variants[name]
        except KeyError:
            raise KeyError(
                f"process {self.key!r} has no variant {name!r}; variants: {sorted(self.variants)}"
            ) from None


@dataclass(frozen=True)
class Policies:
    """Business figures used by the rules (``bot.actions_support``)."""

    currency: str = "GBP"
    home_country: str = "GB"
    refund_window_days: int = 30
    cancellation_fee_before_dispatch: Decimal = Decimal("0")
    cancellation_possible_after_dispatch: bool = False
    change_possible_after_dispatch: bool = False
    return_shipping_fee: Decimal = Decimal("0")
    zones: Mapping[str, frozenset[str]] = field(default_factory=dict)
    delivery_fees: Mapping[str, Decimal] = field(default_factory=dict)
    free_standard_domestic_from: Decimal | None = None
    stalled_after_business_days: int = 1

    def zone_of(self, country_code: str | None) -> str:
        """``domestic``, ``europe`` or ``international`` for an ISO country code."""
        code = (country_code or self.home_country).upper()
        for zone, codes in self.zones.items():
            if code in codes:
                return zone
        return "international"


@dataclass(frozen=True)
class Catalogue:
    processes: Mapping[str, Process]
    calendar: BusinessCalendar
    policies: Policies

    def process(self, key: str) -> Process:
        try:
            return self.processes[key]
        except KeyError:
            raise KeyError(f"no process {key!r} in the catalogue; known: {sorted(self.processes)}") from None

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.processes.values())


# -- loading -------------------------------------------------------------


def _require(mapping: Mapping[str, Any], key: str, where: str) -> Any:
    if not isinstance(mapping, Mapping):
        raise CatalogueError(f"{where}: expected a mapping, got {type(mapping).__name__}")
    if key not in mapping or mapping[key] in (None, ""):
        raise CatalogueError(f"{where}: missing {key!r}")
    return mapping[key]


def _check_template(text: str, where: str) -> str:
    text = str(text).strip()
    try:
        render(text, {})
    except TemplateSyntaxError as exc:
        raise CatalogueError(f"{where}: {exc}") from None
    return text


def _decimal(value: Any, where: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise CatalogueError(f"{where}: not a number: {value!r}") from None


def _load_variant(
    key: str, raw: Mapping[str, Any], where: str, process_defaults: Mapping[str, Any]
) -> Variant:
    steps_raw = _require(raw, "steps", where)
    if not isinstance(steps_raw, list) or not steps_raw:
        raise CatalogueError(f"{where}: steps must be a non-empty list")
    steps = []
    for index, step_raw in enumerate(steps_raw):
        step_where = f"{where}.steps[{index}]"
        try:
            takes = Duration.parse(_require(step_raw, "takes", step_where))
        except ValueError as exc:
            raise CatalogueError(f"{step_where}: {exc}") from None
        steps.append(
            Step(
                id=str(_require(step_raw, "id", step_where)),
                text=_check_template(_require(step_raw, "text", step_where), step_where),
                takes=takes,
            )
        )
    ids = [s.id for s in steps]
    if len(set(ids)) != len(ids):
        raise CatalogueError(f"{where}: duplicate step ids in {ids}")
    modes = []
    for index, mode_raw in enumerate(_require(raw, "failure_modes", where)):
        mode_where = f"{where}.failure_modes[{index}]"
        try:
            when = When(mode_raw.get("when", "pending"))
        except ValueError:
            raise CatalogueError(f"{mode_where}: 'when' must be one of {[w.value for w in When]}") from None
        stages = frozenset(str(s) for s in (mode_raw.get("stages") or ()))
        unknown = stages - set(ids)
        if unknown:
            raise CatalogueError(f"{mode_where}: unknown stages {sorted(unknown)}; steps are {ids}")
        modes.append(
            FailureMode(
                risk=_check_template(_require(mode_raw, "risk", mode_where), mode_where),
                remedy=_check_template(_require(mode_raw, "remedy", mode_where), mode_where),
                when=when,
                stages=stages,
            )
        )
    # Every situation a case can be in must have an answer to "what could go wrong".
    for step in steps[:-1]:
        for when in (When.PENDING, When.OVERDUE):
            if not any(m.applies(when, step.id) for m in modes):
                raise CatalogueError(f"{where}: no failure mode for step {step.id!r} when={when.value!r}")
    if not any(m.applies(When.DONE, steps[-1].id) for m in modes):
        raise CatalogueError(f"{where}: no failure mode for when='done'")
    fee = raw.get("fee")
    outcome = raw.get("outcome") or process_defaults.get("outcome") or "It should all be done"
    return Variant(
        key=key,
        label=str(_require(raw, "label", where)),
        steps=tuple(steps),
        failure_modes=tuple(modes),
        fee=None if fee in (None, "") else str(fee),
        outcome=_check_template(str(outcome), f"{where}.outcome"),
    )


def _load_process(key: str, raw: Mapping[str, Any]) -> Process:
    where = f"processes.{key}"
    variants_raw = _require(raw, "variants", where)
    if not isinstance(variants_raw, Mapping) or not variants_raw:
        raise CatalogueError(f"{where}.variants must be a non-empty mapping")
    variants = {
        str(vkey): _load_variant(str(vkey), vraw, f"{where}.variants.{vkey}", raw)
        for vkey, vraw in variants_raw.items()
    }
    default = str(raw.get("default_variant") or next(iter(variants)))
    if default not in variants:
        raise CatalogueError(f"{where}: default_variant {default!r} is not one of {sorted(variants)}")
    return Process(
        key=key,
        title=str(_require(raw, "title", where)),
        summary=str(_require(raw, "summary", where)),
        default_variant=default,
        variants=variants,
    )


def _load_policies(raw: Mapping[str, Any] | None) -> Policies:
    raw = raw or {}
    where = "policies"
    zones = {str(z): frozenset(str(c).upper() for c in codes) for z, codes in (raw.get("zones") or {}).items()}
    fees = {str(k): _decimal(v, f"{where}.delivery_fees.{k}") for k, v in (raw.get("delivery_fees") or {}).items()}
    free_from = raw.get("free_standard_domestic_from")
    return Policies(
        currency=str(raw.get("currency", "GBP")),
        home_country=str(raw.get("home_country", "GB")).upper(),
        refund_window_days=int(raw.get("refund_window_days", 30)),
        cancellation_fee_before_dispatch=_decimal(raw.get("cancellation_fee_before_dispatch", 0), where),
        cancellation_possible_after_dispatch=bool(raw.get("cancellation_possible_after_dispatch", False)),
        change_possible_after_dispatch=bool(raw.get("change_possible_after_dispatch", False)),
        return_shipping_fee=_decimal(raw.get("return_shipping_fee", 0), where),
        zones=zones,
        delivery_fees=fees,
        free_standard_domestic_from=None if free_from in (None, "") else _decimal(free_from, where),
        stalled_after_business_days=int(raw.get("stalled_after_business_days", 1)),
    )


def _load_calendar(raw: Mapping[str, Any] | None, holidays: list[dt.date] | None) -> BusinessCalendar:
    raw = raw or {}
    try:
        return BusinessCalendar.build(
            holidays=holidays if holidays is not None else (raw.get("holidays") or ()),
            weekend=raw.get("weekend") or (6, 7),
            opening=str(raw.get("opening", "08:00")),
            closing=str(raw.get("closing", "20:00")),
            timezone=str(raw.get("timezone", "Europe/London")),
        )
    except (ValueError, TypeError) as exc:
        raise CatalogueError(f"calendar: {exc}") from None


def parse_catalogue(data: Mapping[str, Any], holidays: list[dt.date] | None = None) -> Catalogue:
    """Build a :class:`Catalogue` from already-parsed YAML (``holidays`` overrides the file's list)."""
    if not isinstance(data, Mapping):
        raise CatalogueError("the catalogue must be a YAML mapping")
    processes_raw = _require(data, "processes", "catalogue")
    processes = {str(k): _load_process(str(k), v) for k, v in processes_raw.items()}
    return Catalogue(
        processes=processes,
        calendar=_load_calendar(data.get("calendar"), holidays),
        policies=_load_policies(data.get("policies")),
    )


def load_holidays(path: Path) -> list[dt.date]:
    """Read a holiday list: a YAML list of ISO dates, or one date per line."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path}: not valid YAML: {exc}") from None
    if isinstance(raw, Mapping):
        raw = raw.get("holidays")
    if not isinstance(raw, list):
        raise CatalogueError(f"{path}: expected a list of ISO dates")
    try:
        return [d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d).strip()) for d in raw]
    except ValueError as exc:
        raise CatalogueError(f"{path}: {exc}") from None


def load_catalogue(path: Path | str = CATALOGUE_PATH, holidays_path: Path | str | None = None) -> Catalogue:
    """Load and validate a catalogue file (the packaged one by default)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogueError(f"catalogue file not found: {path}") from None
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path}: not valid YAML: {exc}") from None
    holidays = load_holidays(Path(holidays_path)) if holidays_path else None
    return parse_catalogue(data, holidays)


@lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    """The packaged catalogue, loaded once per process (it is immutable)."""
    return load_catalogue()
