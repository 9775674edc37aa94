"""Routing rules: which queue, in which order, and how long the wait is. Pure functions.

Ordering combines priority and waiting time with one static number, the *virtual arrival
time* ``sort_key = requested_at - priority * PRIORITY_HEAD_START_S``: a priority-2 customer is
served as if they had arrived ten minutes earlier. Waiting time therefore always counts (nobody
starves: after ten minutes a standard customer is ahead of a VIP who has just arrived), and the
database can order and claim by one indexed column.
"""

from __future__ import annotations

import math
import statistics
from typing import Iterable, Sequence

from bot.handoff.models import Topic

PRIORITY_HEAD_START_S = 300.0

#: segment or flag (lower case) → priority points; the highest match counts
SEGMENT_PRIORITY: dict[str, int] = {
    "vip": 2,
    "high_value": 2,
    "premium": 1,
    "loyalty_gold": 1,
    "vulnerable": 2,  # a sensitive circumstance: reach a human sooner
    "legal_threat": 2,
    "open_complaint": 1,
}


def priority_for(segments: Iterable[str], flags: Iterable[str] = (), topic: Topic | None = None) -> int:
    """0 = standard. Segments and flags raise it; complaints get +1 (they escalate badly)."""
    points = [SEGMENT_PRIORITY.get(str(s).strip().lower(), 0) for s in (*segments, *flags)]
    base = max(points, default=0)
    if topic is Topic.COMPLAINTS:
        base += 1
    return min(base, 3)


def sort_key(requested_at: float, priority: int) -> float:
    return requested_at - priority * PRIORITY_HEAD_START_S


def queue_position(my_key: float, keys_ahead_or_all: Sequence[float]) -> int:
    """1-based position of ``my_key`` among the waiting keys of its queue (ties: earlier first)."""
    return 1 + sum(1 for k in keys_ahead_or_all if k < my_key)


def typical_handle_s(recent_handle_s: Sequence[float], default_s: float) -> float:
    """Median of recent handle times (robust to one very long chat); the default without history."""
    values = [v for v in recent_handle_s if v > 0]
    if len(values) < 3:
        # too little history: lean on the configured default
        return default_s if not values else (default_s + sum(values)) / (1 + len(values))
    return float(statistics.median(values))


def estimate_wait_s(position: int, agents: int, handle_s: float, busy_agents: int = 0) -> int | None:
    """Seconds until an agent picks up the customer at ``position`` (1 = next).

    With ``agents`` serving the queue, ``busy_agents`` of them currently in a conversation, the
    free ones take the first customers at once and every ``handle_s / agents`` seconds one more
    slot frees up on average. None when nobody can serve (the no-agent path).
    """
    if agents <= 0:
        return None
    free = max(0, agents - busy_agents)
    if position <= free:
        return 0
    ahead = position - free
    # on average a busy agent is half-way through; each later slot costs handle_s / agents
    return int(math.ceil(handle_s / 2 / agents + (ahead - 1) * handle_s / agents))
