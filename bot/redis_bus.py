"""Redis beyond Rasa's lock store: the pub/sub that lets replicas tell each other things.

The production switch's ``TANDEM_REDIS_URL`` (``redis://host:6379/0?key_prefix=tandem``) names
one Redis and one prefix per deployment. Rasa's lock store prefixes its keys with it; the
channels here are named after it too, so two deployments (or two test runs) on one Redis never
hear each other:

- ``<prefix>:socketio``: python-socketio's client manager (:mod:`bot.channels.socketio`): an
  emit on one Rasa replica reaches the sockets of every replica;
- ``<prefix>:console``: the handoff services' console updates (:mod:`bot.handoff.console_bus`);
- ``<prefix>:socketio:claim:<session id>``: which socket.io connection holds a conversation
  that has no messages yet (keys, not a channel).

Messages are JSON, never pickle: whoever can publish on the channel must not be able to run code
in the processes that listen. Redis holds nothing durable here: a message published while a
process is away is not replayed (the console asks for a snapshot when it reconnects; a widget
fetches what it missed from the tracker).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

DEFAULT_PREFIX = "tandem"


def client_url(url: str) -> str:
    """``url`` without tandem's ``key_prefix`` (redis-py refuses options it does not know)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "key_prefix"]
    return urlunsplit(parts._replace(query=urlencode(query)))


def prefix(url: str) -> str:
    """The deployment's prefix (``key_prefix`` of the URL, as for Rasa's lock store)."""
    for key, value in parse_qsl(urlsplit(url).query):
        if key == "key_prefix" and value:
            return value
    return DEFAULT_PREFIX


def channel(url: str, name: str) -> str:
    """The channel (or key) ``name`` of this deployment: ``<prefix>:<name>``."""
    return f"{prefix(url)}:{name}"


def client(url: str, **options: Any) -> Any:
    """A ``redis.asyncio.Redis`` for ``url`` (connections open on first use, in the running loop)."""
    from redis import asyncio as aioredis

    return aioredis.Redis.from_url(client_url(url), **options)
