"""Routing, priority, ETA and business hours: pure functions, no I/O."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot.handoff import routing, texts
from bot.handoff.config import BusinessHours, parse_agents
from bot.handoff.intake import derive_reason, derive_topic
from bot.handoff.models import HandoffRequest, Topic
from bot.settings import SettingsError


@pytest.mark.parametrize(
    ("segments", "flags", "topic", "expected"),
    [
        ([], [], Topic.ORDERS, 0),
        (["regular"], [], Topic.ORDERS, 0),
        (["VIP"], [], Topic.ORDERS, 2),
        (["premium"], [], Topic.ACCOUNT, 1),
        ([], ["vulnerable"], Topic.GENERAL, 2),
        (["premium"], [], Topic.COMPLAINTS, 2),
        (["vip"], ["legal_threat"], Topic.COMPLAINTS, 3),
    ],
)
def test_priority_from_segments_flags_and_topic(segments, flags, topic, expected) -> None:  # type: ignore[no-untyped-def]
    assert routing.priority_for(segments, flags, topic) == expected


def test_waiting_time_beats_priority_eventually() -> None:
    standard_early = routing.sort_key(1000.0, 0)
    vip_now = routing.sort_key(1000.0 + 60, 2)
    vip_much_later = routing.sort_key(1000.0 + 2 * routing.PRIORITY_HEAD_START_S + 1, 2)
    assert vip_now < standard_early  # a VIP a minute later goes first
    assert standard_early < vip_much_later  # but nobody waits forever behind later VIPs


def test_queue_position_counts_only_those_ahead() -> None:
    assert routing.queue_position(5.0, []) == 1
    assert routing.queue_position(5.0, [1.0, 2.0, 9.0]) == 3


@pytest.mark.parametrize(
    ("position", "agents", "busy", "expected"),
    [
        (1, 2, 0, 0),  # a free agent takes it at once
        (2, 2, 1, 75),  # first slot of two staggered agents frees after handle / (2 * agents)
        (1, 1, 1, 150),
        (3, 1, 1, 750),
        (1, 0, 0, None),  # nobody serves this queue: no-agent path
    ],
)
def test_eta(position: int, agents: int, busy: int, expected: int | None) -> None:
    assert routing.estimate_wait_s(position, agents, 300.0, busy) == expected


def test_handle_time_uses_median_of_history_and_default_without() -> None:
    assert routing.typical_handle_s([], 300.0) == 300.0
    assert routing.typical_handle_s([100.0], 300.0) == 200.0
    assert routing.typical_handle_s([60.0, 120.0, 3600.0], 300.0) == 120.0


@pytest.mark.parametrize(
    ("seconds", "response", "minutes"),
    [(0, "utter_handoff_queued_now", None), (59, "utter_handoff_queued_now", None), (60, "utter_handoff_queued", 2),
     (121, "utter_handoff_queued", 3), (450, "utter_handoff_queued", 8), (4500, "utter_handoff_queued", 75)],
)
def test_the_wait_picks_a_response_and_rounds_minutes_up(seconds: int, response: str, minutes: int | None) -> None:
    assert texts.wait_response("utter_handoff_queued", seconds) == response
    assert texts.wait_variables(Topic.ORDERS, 3, seconds).get("wait_minutes") == minutes


def test_every_handoff_response_renders_without_a_placeholder_left() -> None:
    values = {"team": "orders and deliveries", "position": 2, "wait_minutes": 3, "hours": "Mon-Fri 08:00-20:00 (UTC)",
              "next_opening": "Monday at 08:00 UTC", "agent": "Alice"}
    for name in texts.response_names():
        needed = texts.variables_of(name)
        text = texts.render(name, **{k: values[k] for k in needed})
        assert "{" not in text and "}" not in text, name
        for variable in needed:  # an empty variable is refused, never shown
            with pytest.raises(ValueError, match=variable):
                texts.render(name, **{**{k: values[k] for k in needed}, variable: ""})


def test_business_hours() -> None:
    hours = BusinessHours.parse("mon-fri 08:00-20:00; sat 09:00-14:00", "Europe/Berlin")
    monday_noon_berlin = datetime(2026, 11, 23, 11, 0, tzinfo=timezone.utc)  # 12:00 CET
    sunday = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
    saturday_late = datetime(2026, 11, 21, 14, 30, tzinfo=timezone.utc)  # 15:30 CET
    assert hours.is_open(monday_noon_berlin)
    assert not hours.is_open(sunday)
    assert not hours.is_open(saturday_late)
    assert hours.next_opening(sunday) == datetime(2026, 11, 23, 7, 0, tzinfo=timezone.utc)
    assert hours.describe() == "Mon-Fri 08:00-20:00, Sat 09:00-14:00 (Europe/Berlin)"
    assert BusinessHours.always().is_open(sunday)


@pytest.mark.parametrize("spec", ["monday 8-20", "mon-fri 20:00-08:00", "xyz 08:00-10:00"])
def test_bad_business_hours_are_refused_clearly(spec: str) -> None:
    with pytest.raises(SettingsError, match="TANDEM_BUSINESS_HOURS"):
        BusinessHours.parse(spec)


def test_agents_and_skills() -> None:
    agents = parse_agents("alice:a,bob:b:orders+refunds_billing")
    assert agents["alice"].skills == frozenset(Topic)
    assert agents["bob"].serves(Topic.REFUNDS_BILLING) and not agents["bob"].serves(Topic.ACCOUNT)
    for bad in ("alice", "bob:b:cooking", ":x", ""):
        with pytest.raises(SettingsError):
            parse_agents(bad)


def test_topic_and_reason_defaults() -> None:
    assert derive_topic("refunds_billing", ["track_order"]) is Topic.REFUNDS_BILLING
    assert derive_topic("nonsense", []) is Topic.GENERAL
    assert derive_topic(None, ["contact_human_agent", "track_order"]) is Topic.ORDERS
    assert derive_topic(None, ["get_invoice"]) is Topic.REFUNDS_BILLING
    assert derive_topic(None, ["greet"]) is Topic.GENERAL
    assert derive_reason("loop: The order form failed twice.", None) == "loop: The order form failed twice."
    assert derive_reason(None, "contact_human_agent").startswith("explicit_request:")
    assert derive_reason("", "greet").startswith("unspecified:")


def test_handoff_request_slot_round_trip_and_validation() -> None:
    req = HandoffRequest("h1", "s1", Topic.ACCOUNT, "r", 1.0, "C-1", position_told=2, eta_told_s=120,
                         channel="socketio", first_message="my parcel is late")
    assert HandoffRequest.from_slot(req.to_slot(), "s1") == req
    # who the customer is (name, segments, flags) is the service's to read from the profile
    forged = {**req.to_slot(), "segments": ["vip"], "customer_name": "Someone Else"}
    assert HandoffRequest.from_slot(forged, "s1") == req
    with pytest.raises(ValueError):
        HandoffRequest.from_slot({"topic": "orders"}, "s1")
    assert HandoffRequest.from_slot({"handoff_id": "x", "topic": "weird"}, "s").topic is Topic.GENERAL
