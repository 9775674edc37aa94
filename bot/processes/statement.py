"""The three silent questions: what happens next, how long, what could go wrong.

Every action that starts or reports on a process ends with a short statement
built here from the process catalogue and the customer's actual case. The
statement is a domain response (``utter_process_statement_<timing>`` in
``domain/processes.yml``): the frame and the "how long" wording live there, the
catalogue's step, outcome and risk sentences fill its ``{next_step}``,
``{outcome}`` and ``{risk}``, e.g.::

    What happens next: We send the money back to the card you paid with.
    How long: by Thursday 26 November (3 working days from now).
    If something goes wrong: The card has expired ... tell us and we'll refund you another way.

A :class:`Case` says which process and variant, which step the case is in
and since when (e.g. a card refund approved on 19 November is in step
``approved`` since that day); the due date is the sum of the remaining steps'
service levels on the shop's :class:`~bot.processes.calendar.BusinessCalendar`.
The builder is pure: ``now`` is passed in, so tests pin the calendar.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from bot.processes.calendar import BusinessCalendar, format_day, format_time
from bot.processes.catalogue import Catalogue, Variant, When, default_catalogue
from bot.processes.render import render

__all__ = ["Case", "Progress", "Statement", "UnknownStage", "assess", "build_statement", "statement_text"]

#: the domain responses that frame a statement, one per way of saying "how long"
#: (domain/processes.yml: ``utter_process_statement_<timing>``)
TIMINGS = (
    "done",
    "done_on",
    "overdue",
    "today",
    "tomorrow",
    "by_day",
    "by_day_one",
    "by_day_n",
    "now",
    "within_a_minute",
    "within_minutes",
    "within_an_hour",
    "by_time",
)


class UnknownStage(ValueError):
    """The case names a step its process variant doesn't have."""


@dataclass(frozen=True)
class Case:
    """One customer's instance of a process.

    ``stage`` is the id of the step the case is in (``None``: the first step,
    i.e. it is just starting); ``since`` is when it entered that step
    (``None``: now). ``facts`` fill the catalogue's templates (order_id,
    carrier, amount, email ...); missing facts are simply left out.
    """

    process: str
    variant: str | None = None
    stage: str | None = None
    since: dt.datetime | dt.date | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)
    #: a date the source system already promised (e.g. the carrier's): it wins
    #: over the catalogue's service levels, because it is what the customer was told
    promised: dt.date | None = None


@dataclass(frozen=True)
class Progress:
    """Where a case stands against its promise."""

    variant: Variant
    step_index: int
    status: When
    #: when the whole process should be finished (local time); None once done
    due: dt.datetime | None
    #: working days past the due date (0 when not overdue)
    overdue_business_days: int = 0

    @property
    def finished(self) -> bool:
        return self.status is When.DONE


@dataclass(frozen=True)
class Statement:
    """The three answers as one domain response and its variables.

    ``next_step`` and ``what_could_go_wrong`` are complete sentences from the
    catalogue (content data, filled with the case's facts); ``timing`` picks
    the response that says how long, ``values`` fill it (``due``, ``days``,
    ``minutes``, ``time``, ``finished_on``, ``outcome``).
    """

    process: str
    variant: str
    status: When
    next_step: str
    what_could_go_wrong: str
    timing: str
    values: Mapping[str, str] = field(default_factory=dict)
    due: dt.datetime | None = None

    @property
    def response(self) -> str:
        return f"utter_process_statement_{self.timing}"

    @property
    def variables(self) -> dict[str, str]:
        return {"next_step": self.next_step, "risk": self.what_could_go_wrong, **self.values}


def _start_of(value: dt.datetime | dt.date | None, now: dt.datetime, calendar: BusinessCalendar) -> dt.datetime:
    if value is None:
        return now
    if isinstance(value, dt.datetime):
        return calendar.local(value)
    # a date alone: the working day starts at opening time
    return dt.datetime.combine(value, calendar.opening)


def assess(
    case: Case,
    now: dt.datetime,
    catalogue: Catalogue | None = None,
) -> Progress:
    """Work out the due time and status of ``case`` at ``now``."""
    catalogue = catalogue or default_catalogue()
    calendar = catalogue.calendar
    now = calendar.local(now)
    variant = catalogue.process(case.process).variant(case.variant)
    if case.stage is None:
        index = 0
    else:
        try:
            index = variant.step_index(case.stage)
        except KeyError as exc:
            raise UnknownStage(str(exc)) from None
    if index == len(variant.steps) - 1:
        return Progress(variant=variant, step_index=index, status=When.DONE, due=None)
    if case.promised is not None:
        due = dt.datetime.combine(case.promised, dt.time(23, 59, 59))
    else:
        due = _start_of(case.since, now, calendar)
        for step in variant.steps[index:-1]:
            due = calendar.add(due, step.takes)
    if due < now:
        late = calendar.business_days_between(due.date(), now.date())
        return Progress(variant, index, When.OVERDUE, due, overdue_business_days=late)
    return Progress(variant, index, When.PENDING, due)


def _timing(
    progress: Progress,
    now: dt.datetime,
    since: dt.datetime | dt.date | None,
    cal: BusinessCalendar,
) -> tuple[str, dict[str, str]]:
    """Which "how long" response fits, and its variables (besides ``outcome``)."""
    due = progress.due
    if progress.status is When.DONE:
        if since is None:
            return "done", {}
        day = since.date() if isinstance(since, dt.datetime) else since
        return "done_on", {"finished_on": format_day(day, now.date())}
    assert due is not None
    day_based = due.time() == dt.time(23, 59, 59)
    if progress.status is When.OVERDUE:
        when = format_day(due.date(), now.date()) if day_based else format_time(due, now)
        return "overdue", {"due": when}
    if day_based:
        day = format_day(due.date(), now.date())
        if due.date() == now.date():
            return "today", {}
        if due.date() == now.date() + dt.timedelta(days=1):
            return "tomorrow", {"due": day}
        days = cal.business_days_between(now.date(), due.date())
        if days < 1 or not cal.is_business_day(due.date()):
            # a date the carrier promised for a weekend or holiday: counting working days would mislead
            return "by_day", {"due": day}
        if days == 1:
            return "by_day_one", {"due": day}
        return "by_day_n", {"due": day, "days": str(days)}
    minutes = round((due - now).total_seconds() / 60)
    time = format_time(due, now)
    if minutes < 1:
        return "now", {}
    if minutes == 1:
        return "within_a_minute", {"time": time}
    if minutes < 60:
        return "within_minutes", {"minutes": str(minutes), "time": time}
    if minutes <= 90:
        return "within_an_hour", {"time": time}
    return "by_time", {"time": time}


def build_statement(
    case: Case,
    now: dt.datetime,
    catalogue: Catalogue | None = None,
) -> Statement:
    """The three-part statement for ``case`` at ``now`` (all parts always present)."""
    catalogue = catalogue or default_catalogue()
    calendar = catalogue.calendar
    now = calendar.local(now)
    progress = assess(case, now, catalogue)
    variant = progress.variant
    values: dict[str, Any] = dict(case.facts)
    if progress.due is not None:
        due = progress.due
        values["due"] = (
            format_day(due.date(), now.date()) if due.time() == dt.time(23, 59, 59) else format_time(due, now)
        )
    values.setdefault("started", case.since)
    today = now.date()

    step = variant.steps[progress.step_index]
    next_step = render(step.text, values, today=today, default=f"Your {variant.label} is under way.")
    modes = variant.failure_modes_for(progress.status, step.id)
    mode = modes[0]
    risk = render(mode.risk, values, today=today, default=f"Your {variant.label} could be delayed.")
    remedy = render(
        mode.remedy,
        values,
        today=today,
        default='Tell us here at any time, or say "agent" to talk to a person.',
    )
    timing, timing_values = _timing(progress, now, case.since, calendar)
    timing_values["outcome"] = render(variant.outcome, values, today=today, default="It should all be done")
    return Statement(
        process=case.process,
        variant=variant.key,
        status=progress.status,
        next_step=next_step,
        what_could_go_wrong=f"{risk} {remedy}",
        timing=timing,
        values=timing_values,
        due=progress.due,
    )


#: the domain file that holds the statement frames
STATEMENT_RESPONSES = Path(__file__).resolve().parents[2] / "domain" / "processes.yml"


def statement_text(statement: Statement, responses_file: Path = STATEMENT_RESPONSES) -> str:
    """The statement as the customer reads it: its domain response filled by Rasa's own interpolator.

    For the command line (``python -m bot processes explain``) and tests; the
    bot itself sends the response name and variables and lets Rasa render it.
    """
    import yaml
    from rasa.core.nlg.interpolator import interpolate_text

    responses = yaml.safe_load(responses_file.read_text(encoding="utf-8"))["responses"]
    return interpolate_text(responses[statement.response][0]["text"], statement.variables)
