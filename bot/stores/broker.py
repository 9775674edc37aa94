"""The event broker named in ``endpoints.yml``, chosen by the scheme of its URL.

Rasa's SQL and RabbitMQ (Pika) brokers take different settings, and ``endpoints.yml`` can only
fill values from the environment, not choose blocks. :class:`EventBroker` is the one ``type``
Rasa loads; it returns Rasa's own broker for the URL:

- ``sqlite:///...`` or ``postgresql://...``: Rasa's ``SQLEventBroker`` (the embedded default,
  consumed by the handoff service's table reader, ``bot/handoff/broker.py``);
- ``amqp://user:pass@host:5672/vhost``: Rasa's ``PikaEventBroker``, publishing to the fanout
  exchange ``exchange`` and the durable queue ``queue`` (consumed by
  ``bot/handoff/broker_pika.py``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from rasa.core.brokers.broker import EventBroker as RasaEventBroker
from rasa.utils.endpoints import EndpointConfig

DEFAULT_QUEUE = "tandem_events"
DEFAULT_EXCHANGE = "tandem-events"


def is_amqp(url: str) -> bool:
    return urlsplit(url).scheme in ("amqp", "amqps")


class EventBroker:
    """Factory Rasa calls through ``from_endpoint_config``; never instantiated."""

    @classmethod
    async def from_endpoint_config(cls, config: EndpointConfig, *_: Any) -> RasaEventBroker | None:
        url = config.url or ""
        kwargs = dict(config.kwargs)
        if is_amqp(url):
            # PikaEventBroker._publish uses rasa.shared.core.events without importing it
            import rasa.shared.core.events  # noqa: F401
            from rasa.core.brokers.pika import PikaEventBroker

            parts = urlsplit(url)
            broker = PikaEventBroker(
                url,
                username=unquote(parts.username or "guest"),
                password=unquote(parts.password or "guest"),
                port=parts.port or 5672,
                queues=[kwargs.get("queue") or DEFAULT_QUEUE],
                exchange_name=kwargs.get("exchange") or DEFAULT_EXCHANGE,
                connection_attempts=int(kwargs.get("connection_attempts") or 5),
                retry_delay_in_seconds=float(kwargs.get("retry_delay_in_seconds") or 1),
            )
            await broker.connect()
            return broker
        from rasa.core.brokers.sql import SQLEventBroker

        return SQLEventBroker(dialect=kwargs.get("dialect") or urlsplit(url).scheme.split("+")[0], host=url)
