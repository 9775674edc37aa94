"""The packaged catalogue loads, covers the product's processes, and bad files fail clearly."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from bot.processes.catalogue import (
    CATALOGUE_PATH,
    CatalogueError,
    When,
    default_catalogue,
    load_catalogue,
    parse_catalogue,
)

REQUIRED = {
    "refund": {"card", "paypal", "bank_transfer", "store_credit"},
    "order_cancellation": {"before_dispatch", "after_dispatch"},
    "order_change": {"before_dispatch", "after_dispatch"},
    "address_change": {"before_dispatch", "after_dispatch", "account"},
    "delivery": {
        "standard_domestic",
        "express_domestic",
        "standard_europe",
        "express_europe",
        "standard_international",
        "express_international",
    },
    "return": set(),
    "invoice_copy": set(),
    "payment_investigation": set(),
    "account_deletion": set(),
    "password_recovery": set(),
    "complaint": set(),
    "newsletter": {"subscribe", "unsubscribe"},
    "data_export": set(),
    "erasure": set(),
    "handoff": set(),
}


def test_catalogue_has_every_process_and_variant() -> None:
    catalogue = default_catalogue()
    for key, variants in REQUIRED.items():
        process = catalogue.process(key)
        assert variants <= set(process.variants), key
        assert process.default_variant in process.variants


def test_every_variant_answers_every_situation() -> None:
    for process in default_catalogue():
        for variant in process.variants.values():
            for step in variant.steps[:-1]:
                assert variant.failure_modes_for(When.PENDING, step.id)
                assert variant.failure_modes_for(When.OVERDUE, step.id)
            assert variant.failure_modes_for(When.DONE, variant.final_step.id)


def test_calendar_and_policies() -> None:
    catalogue = default_catalogue()
    assert dt.date(2026, 12, 25) in catalogue.calendar.holidays
    assert catalogue.policies.zone_of("gb") == "domestic"
    assert catalogue.policies.zone_of("FR") == "europe"
    assert catalogue.policies.zone_of("US") == "international"
    assert catalogue.policies.zone_of(None) == "domestic"


def _raw() -> dict:
    return yaml.safe_load(CATALOGUE_PATH.read_text())


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["processes"]["refund"]["variants"]["card"]["steps"][1].update(takes="5 weeks"), "unknown time unit"),
        (lambda d: d["processes"]["refund"]["variants"]["card"]["steps"][1].update(id="requested"), "duplicate"),
        (lambda d: d["processes"]["refund"]["variants"]["card"]["steps"][1].update(text="Bad {brace"), "malformed"),
        (lambda d: d["processes"]["refund"].update(default_variant="cheque"), "default_variant"),
        (
            lambda d: d["processes"]["handoff"]["variants"]["chat"].update(
                failure_modes=[m for m in d["processes"]["handoff"]["variants"]["chat"]["failure_modes"] if m.get("when") != "overdue"]
            ),
            "overdue",
        ),
        (lambda d: d["processes"]["refund"]["variants"]["card"]["failure_modes"][0].update(when="later"), "'when'"),
        (lambda d: d["calendar"].update(opening="21:00"), "calendar"),
        (lambda d: d.pop("processes"), "processes"),
    ],
)
def test_malformed_catalogue_is_rejected_with_its_place(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    data = _raw()
    mutate(data)
    with pytest.raises(CatalogueError, match=message):
        parse_catalogue(data)


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="not found"):
        load_catalogue(tmp_path / "nope.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("processes: [\n")
    with pytest.raises(CatalogueError, match="YAML"):
        load_catalogue(bad)


def test_holiday_list_override(tmp_path: Path) -> None:
    holidays = tmp_path / "holidays.yml"
    holidays.write_text("- 2026-11-24\n- 2026-11-25\n")
    catalogue = load_catalogue(holidays_path=holidays)
    assert catalogue.calendar.holidays == frozenset({dt.date(2026, 11, 24), dt.date(2026, 11, 25)})
    assert catalogue.calendar.add_business_days(dt.date(2026, 11, 23), 1) == dt.date(2026, 11, 26)
