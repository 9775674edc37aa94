"""Fixtures on the machine's real PostgreSQL (127.0.0.1:5432, trust, database ``test``), Redis
(6379) and RabbitMQ (5672, guest/guest). Each test gets a database, a queue and exchange, and a
Redis key prefix of its own, named after a random token so parallel runs never meet, and
removed afterwards."""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Iterator

import pytest

PG_ADMIN = os.environ.get("TANDEM_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
AMQP = os.environ.get("TANDEM_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672/")
REDIS = os.environ.get("TANDEM_TEST_REDIS", "redis://127.0.0.1:6379/0")


def token() -> str:
    return uuid.uuid4().hex[:12]


def _admin(sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(PG_ADMIN)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL database of this test's own (sync URL), dropped afterwards."""
    name = f"tandem_t_{token()}"
    _admin(f"CREATE DATABASE {name}")
    base = PG_ADMIN.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def amqp_names() -> Iterator[tuple[str, str]]:
    """(exchange, queue) of this test's own on RabbitMQ, deleted afterwards."""
    exchange, queue = f"tandem-t-{token()}", f"tandem_t_{token()}"
    yield exchange, queue

    async def delete() -> None:
        import aio_pika

        connection = await aio_pika.connect(AMQP)
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(queue)
            await channel.exchange_delete(exchange)

    asyncio.run(delete())


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A Redis key prefix of this test's own; its keys are deleted afterwards."""
    import redis

    prefix = f"tandemt{token()}"
    yield prefix
    client = redis.Redis.from_url(REDIS)
    try:
        keys = list(client.scan_iter(f"{prefix}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
