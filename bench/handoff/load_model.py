"""The handoff benchmark's load model, one definition for every benchmark that drives it.

``bench_latency.py`` runs it to measure latency, ``bench_service.py`` runs its conversations
against the service alone, ``bench/insights/bench_cpu.py`` runs it to measure what the insights
consumer adds to the service's CPU: the same arguments, defaults and stack set-up for all three.
"""

from __future__ import annotations

import argparse

#: conversations the load model opens (the issue's 100 concurrent)
CUSTOMERS = 100


def add_load_arguments(parser: argparse.ArgumentParser, *, customers_only: bool = False) -> None:
    """The load model's options: N customers asking for a person (Poisson arrivals), the agents
    who accept them, ``--talk-seconds`` of conversation with latecomers arriving meanwhile."""
    parser.add_argument("--customers", type=int, default=CUSTOMERS, help="concurrent conversations")
    if customers_only:
        return
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--arrival-rate", type=float, default=1.0, help="handoff requests per second (Poisson)")
    parser.add_argument("--talk-seconds", type=float, default=40.0)
    parser.add_argument("--latecomers", type=int, default=20)
    parser.add_argument("--late-rate", type=float, default=0.5)
    parser.add_argument("--message-interval", type=float, default=20.0,
                        help="mean seconds between two messages of one side of one conversation")
    parser.add_argument("--seed", type=int, default=7)


def agent_accounts(count: int) -> list[tuple[str, str]]:
    """The benchmark's agents (name, password)."""
    return [(f"agent{i:02d}", f"pw-{i:02d}") for i in range(count)]


def stack_env(var_dir: str, agents: list[tuple[str, str]]) -> dict[str, str]:
    """What the stack under load runs with: its own var dir, the benchmark's agents, no periodic
    queue-position messages (they would be load the model does not describe)."""
    return {"TANDEM_VAR_DIR": var_dir, "TANDEM_AGENTS": ",".join(f"{n}:{p}" for n, p in agents),
            "TANDEM_HANDOFF_POSITION_UPDATE_S": "3600"}
