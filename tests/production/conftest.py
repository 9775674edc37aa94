"""Fixtures on the machine's real PostgreSQL (127.0.0.1:5432, trust, database ``test``), Redis
(6379) and RabbitMQ (5672, guest/guest). Each test gets a database, a queue and exchange, and a
Redis key prefix of its own, named after a random token so parallel runs never meet, and
removed afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from pathlib import Path
from typing import Any, Iterator

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


#: the agents of the replica stacks (TANDEM_AGENTS)
AGENTS = {"alice": "replica-secret", "bob": "replica-secret-2"}


@contextlib.contextmanager
def production_services() -> Iterator[dict[str, str]]:
    """A database, a Redis prefix and a RabbitMQ queue/exchange of this run's own, removed after."""
    import redis

    run = token()
    db = f"tandem_t_{run}"
    _admin(f"CREATE DATABASE {db}")
    env = {
        "TANDEM_POSTGRES_URL": f"{PG_ADMIN.rsplit('/', 1)[0]}/{db}",
        "TANDEM_REDIS_URL": f"{REDIS}?key_prefix=tandemt{run}",
        "TANDEM_RABBITMQ_URL": AMQP,
        "TANDEM_EVENT_EXCHANGE": f"tandem-t-{run}",
        "TANDEM_EVENT_QUEUE": f"tandem_t_{run}",
        "TANDEM_HANDOFF_SECRET": f"replica-test-{run}",
        # every replica verifies the widget's signed identities with the same secret
        "TANDEM_IDENTITY_SECRET": f"replica-identity-{run}",
        "TANDEM_AGENTS": ",".join(f"{n}:{p}" for n, p in AGENTS.items()),
        "TANDEM_HANDOFF_POLL_S": "0.05",
        "RASA_TOKEN": "replica-token",
    }
    try:
        yield env
    finally:
        _admin(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        client = redis.Redis.from_url(REDIS)
        keys = list(client.scan_iter(f"tandemt{run}*"))
        if keys:
            client.delete(*keys)
        client.close()

        async def delete_queue() -> None:
            import aio_pika

            connection = await aio_pika.connect(AMQP)
            async with connection:
                channel = await connection.channel()
                await channel.queue_delete(env["TANDEM_EVENT_QUEUE"])
                await channel.exchange_delete(env["TANDEM_EVENT_EXCHANGE"])

        _run_outside_loop(delete_queue)


def build_profiles(env: dict[str, str], tmp: Path) -> None:
    """The demo customers in the PostgreSQL profile store (``python -m bot profile build``)."""
    import os
    import subprocess
    import sys

    from tests.conftest import isolated_settings

    settings = isolated_settings(tmp, **env)
    subprocess.run([sys.executable, "-m", "bot", "profile", "build"], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, env={**os.environ, **settings.rasa_env()})


def _run_outside_loop(coroutine_function: Any) -> None:
    """``asyncio.run`` it, in a thread of its own when called inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coroutine_function())
        return
    import threading

    thread = threading.Thread(target=lambda: asyncio.run(coroutine_function()))
    thread.start()
    thread.join()
