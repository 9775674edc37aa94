"""The handoff service's RabbitMQ consumer (bot/handoff/broker_pika.py) on the real RabbitMQ and
PostgreSQL, fed by Rasa's real PikaEventBroker: events applied once each, in order, also when the
consumer dies between its commit and its acknowledgement, or before its commit."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, AsyncIterator

import pytest
import sqlalchemy as sa
from rasa.utils.endpoints import EndpointConfig

from bot.handoff.app import SERVICE, create_app
from bot.handoff.broker_pika import PikaBrokerConsumer
from bot.settings import Settings
from bot.stores.broker import EventBroker
from tests.handoff.conftest import handoff_request, make_config
from tests.production.conftest import AMQP


class Crash(Exception):
    """The consumer process dying at a chosen point."""


@pytest.fixture
async def service(aiohttp_client: Any, tmp_path: Path, pg_url: str, amqp_names: tuple[str, str]) -> Any:
    exchange, queue = amqp_names
    settings = Settings.from_env({
        "TANDEM_VAR_DIR": str(tmp_path), "RASA_URL": "http://127.0.0.1:9", "RASA_TOKEN": "t",
        "TANDEM_POSTGRES_URL": pg_url, "TANDEM_RABBITMQ_URL": AMQP,
        "TANDEM_EVENT_EXCHANGE": exchange, "TANDEM_EVENT_QUEUE": queue,
    })
    app = create_app(settings, make_config(), consume=False)
    await aiohttp_client(app)  # runs the app's start-up: database schema, service
    return app[SERVICE], settings


@pytest.fixture
async def publisher(service: Any) -> AsyncIterator[Any]:
    """Rasa's own PikaEventBroker, made the way endpoints.yml makes it."""
    _svc, settings = service
    broker = await EventBroker.from_endpoint_config(EndpointConfig(
        url=settings.event_broker_db_url, exchange=settings.event_exchange, queue=settings.event_queue))
    yield broker
    await asyncio.sleep(0.2)  # let the last publish tasks finish
    await broker.close()


def publish_conversation(broker: Any, sender: str, lines: int, first_id: int) -> None:
    """A handoff request then ``lines`` customer messages, as Rasa publishes them."""
    events: list[dict[str, Any]] = [
        {"event": "slot", "name": "handoff_request", "value": handoff_request(f"h-{sender}", sender)},
        *({"event": "user", "text": f"{sender} line {i}", "parse_data": {"intent": {"name": "inform"}}}
          for i in range(lines)),
    ]
    for n, event in enumerate(events):
        broker.publish({"sender_id": sender, "timestamp": time.time(), **event, "tandem_event_id": first_id + n})


async def transcript(svc: Any, sender: str) -> list[str]:
    async with svc.store.begin() as conn:
        rows = await conn.execute(sa.text(
            "SELECT m.text FROM handoff_messages m JOIN handoff_conversations c ON c.id = m.conversation_id "
            "WHERE c.sender_id = :s AND m.kind = 'customer' ORDER BY m.id"), {"s": sender})
        return [r[0] for r in rows]


async def run_until(consumer: PikaBrokerConsumer, svc: Any, expected: dict[str, list[str]],
                    timeout: float = 30) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run_forever(stop))
    deadline = time.monotonic() + timeout
    try:
        while True:
            got = {s: await transcript(svc, s) for s in expected}
            if got == expected:
                return
            if task.done():
                task.result()
            assert time.monotonic() < deadline, f"not applied in time: {got}"
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def queue_depth(queue: str) -> int:
    import aio_pika

    connection = await aio_pika.connect(AMQP)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, durable=True, passive=True)
        return declared.declaration_result.message_count


async def test_events_applied_once_in_order(service: Any, publisher: Any) -> None:
    svc, settings = service
    consumer = PikaBrokerConsumer(svc, settings.event_broker_db_url, queue=settings.event_queue,
                                  exchange=settings.event_exchange)
    publish_conversation(publisher, "amelia", 30, first_id=1)
    publish_conversation(publisher, "ben", 30, first_id=1000)
    await run_until(consumer, svc, {s: [f"{s} line {i}" for i in range(30)] for s in ("amelia", "ben")})
    await asyncio.sleep(0.3)
    assert await queue_depth(settings.event_queue) == 0  # everything acknowledged


@pytest.mark.parametrize("where", ["between commit and ack", "before commit"])
async def test_a_crash_loses_nothing_and_duplicates_nothing(service: Any, publisher: Any, where: str) -> None:
    svc, settings = service
    consumer = PikaBrokerConsumer(svc, settings.event_broker_db_url, queue=settings.event_queue,
                                  exchange=settings.event_exchange, prefetch=5)
    seen: list[tuple[bool, bytes]] = []
    crashed = False

    async def crash_after_commit(batch: list[Any]) -> None:
        nonlocal crashed
        seen.extend((m.redelivered, m.body) for m in batch)
        if not crashed:
            crashed = True
            assert consumer._connection is not None
            await consumer._connection.close()  # as a killed process's socket closes: no ack
            raise Crash("killed after commit")

    original_claim = consumer._claim

    async def crash_before_commit(conn: Any, parsed: Any) -> Any:
        nonlocal crashed
        fresh = await original_claim(conn, parsed)
        if not crashed:
            crashed = True
            raise Crash("killed before commit")  # the transaction rolls back
        return fresh

    if where == "between commit and ack":
        consumer.after_commit = crash_after_commit
    else:
        consumer._claim = crash_before_commit  # type: ignore[method-assign]
    publish_conversation(publisher, "amelia", 12, first_id=1)
    await run_until(consumer, svc, {"amelia": [f"amelia line {i}" for i in range(12)]})
    assert crashed
    if where == "between commit and ack":
        assert any(redelivered for redelivered, _body in seen)  # RabbitMQ did redeliver them
    async with svc.store.begin() as conn:
        count = (await conn.execute(sa.text("SELECT count(*) FROM handoff_conversations"))).scalar()
    assert count == 1
    await asyncio.sleep(0.3)
    assert await queue_depth(settings.event_queue) == 0
