"""REST load on an assistant: closed-loop senders (each sends its next message when the reply
arrives), latency per message and throughput. Loopback only, bounded by message count."""

from __future__ import annotations

import asyncio
import itertools
import math
import statistics
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp

#: the same texts for every assistant: small talk and, for tandem, one custom action
MESSAGES = ("hi", "what delivery options do you have?", "are you a bot?", "thanks", "bye")


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class Run:
    """Latencies (seconds) of one load run and its wall time."""

    latencies: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    errors: int = 0
    #: replies received per message (0 means a lost message)
    empty_replies: int = 0

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.wall_s if self.wall_s else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "n": len(self.latencies),
            "p50_ms": round(pct(self.latencies, 50) * 1000, 1),
            "p95_ms": round(pct(self.latencies, 95) * 1000, 1),
            "p99_ms": round(pct(self.latencies, 99) * 1000, 1),
            "throughput": round(self.throughput, 2),
            "errors": self.errors,
            "empty_replies": self.empty_replies,
        }


async def send(session: aiohttp.ClientSession, url: str, sender: str, text: str) -> tuple[float, list[Any]]:
    started = time.perf_counter()
    async with session.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}) as resp:
        resp.raise_for_status()
        body = await resp.json()
    return time.perf_counter() - started, body


async def sender_loop(session: aiohttp.ClientSession, urls: list[str], sender: str, count: int, run: Run,
                      offset: int = 0) -> list[float]:
    """One conversation of ``count`` messages; with several URLs, messages alternate between them."""
    own: list[float] = []
    texts = itertools.islice(itertools.cycle(MESSAGES), offset, offset + count)
    for i, text in enumerate(texts):
        url = urls[i % len(urls)]
        try:
            latency, body = await send(session, url, sender, text)
        except (aiohttp.ClientError, asyncio.TimeoutError):
            run.errors += 1
            continue
        if not body:
            run.empty_replies += 1
        own.append(latency)
        run.latencies.append(latency)
    return own


async def concurrent(urls: list[str], senders: int, per_sender: int, prefix: str = "bench") -> Run:
    """``senders`` conversations at once, ``per_sender`` messages each (closed loop)."""
    run = Run()
    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(
            sender_loop(session, urls, f"{prefix}-{uuid.uuid4().hex[:10]}", per_sender, run, offset=i)
            for i in range(senders)
        ))
        run.wall_s = time.perf_counter() - started
    return run


async def conversation(urls: list[str], sender: str, turns: int, offset: int = 0) -> list[float]:
    """``turns`` messages of one conversation (``sender``); the latency of each turn in order."""
    run = Run()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        return await sender_loop(session, urls, sender, turns, run, offset=offset)


def window_median(values: list[float], at: int, width: int = 5) -> float:
    """Median latency of turns ``at`` .. ``at + width - 1`` (1-based turn numbers)."""
    chunk = values[at - 1: at - 1 + width]
    return statistics.median(chunk) if chunk else float("nan")
