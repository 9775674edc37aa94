"""TANDEM_REDIS_URL, read once (bot/redis_bus.py): the deployment's prefix names the channels,
redis-py gets the URL without tandem's own option, and every process started with the settings
receives the variable (socket.io and the consoles share through it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import redis_bus
from bot.settings import Settings
from tests.production.conftest import REDIS


def test_the_prefix_names_the_channels_and_redis_py_never_sees_it() -> None:
    url = "redis://cache.internal:6380/2?key_prefix=shop1&socket_timeout=5"
    assert redis_bus.prefix(url) == "shop1"
    assert redis_bus.channel(url, "console") == "shop1:console"
    assert redis_bus.client_url(url) == "redis://cache.internal:6380/2?socket_timeout=5"
    assert redis_bus.prefix("redis://cache.internal:6379/0") == redis_bus.DEFAULT_PREFIX


@pytest.mark.parametrize("redis_url", [None, f"{REDIS}?key_prefix=tandemtx"])
def test_processes_get_the_redis_url_only_in_production(tmp_path: Path, redis_url: str | None) -> None:
    env = {"TANDEM_VAR_DIR": str(tmp_path), "RASA_TOKEN": "t", "ACTION_SERVER_TOKEN": "a"}
    if redis_url:
        env["TANDEM_REDIS_URL"] = redis_url
    rasa_env = Settings.from_env(env).rasa_env()
    assert rasa_env.get("TANDEM_REDIS_URL") == redis_url
    assert rasa_env["LOCK_STORE_TYPE"] == ("redis" if redis_url else "in_memory")


async def test_a_client_for_the_url_talks_to_the_real_redis(redis_prefix: str) -> None:
    url = f"{REDIS}?key_prefix={redis_prefix}"
    client = redis_bus.client(url)
    try:
        key = redis_bus.channel(url, "probe")
        assert await client.set(key, b"1", nx=True, ex=60)
        assert not await client.set(key, b"2", nx=True, ex=60)  # what the claims and seen ids rely on
        assert await client.get(key) == b"1"
    finally:
        await client.close()
