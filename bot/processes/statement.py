"""The three silent questions: what happens next, how long, what could go wrong.

Every action that starts or reports on a process ends with a short statement
built here from the process catalogue and the customer's actual case::

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
from typing import Any, Mapping

from bot.processes.calendar import BusinessCalendar, format_day, format_time
from bot.processes.catalogue import Catalogue, Variant, When, default_catalogue
from bot.processes.render import render

__all__ = ["Case", "Progress", "Statement", "UnknownStage", "assess", "build_statement"]

LABEL_NEXT = "What happens next"
LABEL_HOW_LONG = "How long"
LABEL_RISK = "If something goes wrong"


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
    """The three answers, each a complete customer-facing sentence."""

    process: str
    variant: str
    status: When
    next_step: str
    how_long: str
    what_could_go_wrong: str
    due: dt.datetime | None = None

    @property
    def parts(self) -> tuple[str, str, str]:
        return (self.next_step, self.how_long, self.what_could_go_wrong)

    def text(self) -> str:
        return "\n".join(
            (
                f"{LABEL_NEXT}: {self.next_step}",
                f"{LABEL_HOW_LONG}: {self.how_long}",
                f"{LABEL_RISK}: {self.what_could_go_wrong}",
            )
        )


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


def _how_long(
    progress: Progress,
    now: dt.datetime,
    since: dt.datetime | dt.date | None,
    cal: BusinessCalendar,
    outcome: str,
) -> str:
    due = progress.due
    if progress.status is When.DONE:
        if since is None:
            return "Nothing more to wait for: it's finished."
        day = since.date() if isinstance(since, dt.datetime) else since
        return f"Nothing more to wait for: it was finished on {format_day(day, now.date())}."
    assert due is not None
    day_based = due.time() == dt.time(23, 59, 59)
    if progress.status is When.OVERDUE:
        when = format_day(due.date(), now.date()) if day_based else format_time(due, now)
        return f"It should have been finished by {when}, so it is overdue."
    if day_based:
        days = cal.business_days_between(now.date(), due.date())
        if due.date() == now.date():
            return f"{outcome} by the end of today."
        if due.date() == now.date() + dt.timedelta(days=1):
            return f"{outcome} by tomorrow, {format_day(due.date(), now.date())}."
        span = f"{days} working day{'s' if days != 1 else ''} from now"
        return f"{outcome} by {format_day(due.date(), now.date())} ({span})."
    minutes = round((due - now).total_seconds() / 60)
    if minutes < 1:
        return f"{outcome} straight away."
    if minutes < 60:
        return f"{outcome} within about {minutes} minute{'s' if minutes != 1 else ''} (by {format_time(due, now)})."
    if minutes <= 90:
        return f"{outcome} within about an hour (by {format_time(due, now)})."
    return f"{outcome} by {format_time(due, now)}."


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
    if progress.status is When.DONE:
        next_step = f"Nothing more is needed from you. {next_step}"
    elif progress.status is When.OVERDUE:
        next_step = f"{next_step} This is taking longer than we promised."

    modes = variant.failure_modes_for(progress.status, step.id)
    mode = modes[0]
    risk = render(mode.risk, values, today=today, default=f"Your {variant.label} could be delayed.")
    remedy = render(
        mode.remedy,
        values,
        today=today,
        default='Tell us here at any time, or say "agent" to talk to a person.',
    )
    return Statement(
        process=case.process,
        variant=variant.key,
        status=progress.status,
        next_step=next_step,
        how_long=_how_long(
            progress,
            now,
            case.since,
            calendar,
            render(variant.outcome, values, today=today, default="It should all be done"),
        ),
        what_could_go_wrong=f"{risk} {remedy}",
        due=progress.due,
    )
