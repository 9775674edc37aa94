"""Processes the bot starts or reports on, and the three silent questions.

``catalogue.yml`` holds each process's steps, service levels and failure modes
as data; :mod:`.calendar` does the business-day arithmetic; :mod:`.statement`
combines both with a customer's case into "what happens next, how long, what
could go wrong"; :mod:`.render` renders any message without ever showing an
unfilled placeholder.
"""

from __future__ import annotations

from bot.processes.calendar import BusinessCalendar, Duration, TimeUnit, format_day
from bot.processes.catalogue import (
    Catalogue,
    CatalogueError,
    FailureMode,
    Policies,
    Process,
    Step,
    Variant,
    When,
    default_catalogue,
    load_catalogue,
)
from bot.processes.render import format_money, is_missing, join_words, placeholder_problems, render
from bot.processes.statement import Case, Progress, Statement, UnknownStage, assess, build_statement

__all__ = [
    "BusinessCalendar",
    "Case",
    "Catalogue",
    "CatalogueError",
    "Duration",
    "FailureMode",
    "Policies",
    "Process",
    "Progress",
    "Statement",
    "Step",
    "TimeUnit",
    "UnknownStage",
    "Variant",
    "When",
    "assess",
    "build_statement",
    "default_catalogue",
    "format_day",
    "format_money",
    "is_missing",
    "join_words",
    "load_catalogue",
    "placeholder_problems",
    "render",
]
