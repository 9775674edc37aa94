"""One guard in front of every input channel: bounded work per message, before NLU.

A channel hands each incoming message to :meth:`Guard.check` before Rasa sees it:

- the sender id must be a non-empty string of bounded length, else the *request* is bad
  (:class:`BadRequest`: an HTTP 400, there is no conversation to answer into);
- every sender has a token bucket (``rate_limit_burst`` messages at once, refilled at
  ``rate_limit_per_s``); a message over the limit is refused with ``utter_rate_limited``
  without calling Rasa, so one sender's flood costs the others nothing;
- a message that is not text, or only white space, is answered with
  ``utter_message_empty`` instead of reaching NLU (where Rasa 3.6 fails with a stack trace
  and answers nothing);
- a message longer than ``max_message_chars`` is answered with
  ``utter_message_too_long`` and never reaches NLU, whose cost grows with the text;
- metadata that is not a JSON object is dropped (and the message still answered), and so is
  the key only tandem's messaging connectors may set (``MESSAGING_CHANNEL_METADATA_KEY``: a
  caller naming itself "twilio" would be trusted with a phone number's identity).

The refusals are domain responses (domain/guard.yml) rendered by the running model's NLG,
so what the customer reads stays in the domain. Expected bad input is logged as one line,
without the text or the sender id (both may be personal data).
"""

from __future__ import annotations

import logging
import os
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from bot.vocabulary import MESSAGING_CHANNEL_METADATA_KEY

logger = logging.getLogger(__name__)

#: the domain responses the guard answers with (rendered by the channel, not by a rule)
RESPONSES = ("utter_message_too_long", "utter_message_empty", "utter_rate_limited")

#: environment variables that override the channel's credentials.yml settings
ENV_OVERRIDES = {
    "max_message_chars": "TANDEM_MAX_MESSAGE_CHARS",
    "rate_limit_burst": "TANDEM_RATE_LIMIT_BURST",
    "rate_limit_per_s": "TANDEM_RATE_LIMIT_PER_S",
}


class BadRequest(ValueError):
    """The request itself is malformed (no usable sender id, body not an object): HTTP 400."""


class GuardConfigError(ValueError):
    """A guard setting is malformed; the message names it."""


@dataclass(frozen=True)
class GuardConfig:
    #: longest message (in characters) that reaches NLU
    max_message_chars: int = 2000
    #: longest sender id accepted
    max_sender_chars: int = 512
    #: messages one sender may send at once
    rate_limit_burst: int = 20
    #: messages per second one sender may send in the long run
    rate_limit_per_s: float = 2.0
    #: senders whose buckets are remembered (least recently seen forgotten first)
    max_tracked_senders: int = 100_000

    @classmethod
    def from_settings(
        cls, credentials: Mapping[str, Any] | None, env: Mapping[str, str] | None = None
    ) -> "GuardConfig":
        """The channel's settings from credentials.yml, each overridable by its environment variable."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for name in ("max_message_chars", "max_sender_chars", "rate_limit_burst",
                     "rate_limit_per_s", "max_tracked_senders"):
            raw = env.get(ENV_OVERRIDES.get(name, ""), "") or (credentials or {}).get(name)
            if raw is None or raw == "":
                continue
            kind = float if name == "rate_limit_per_s" else int
            try:
                value = kind(raw)
            except (TypeError, ValueError) as exc:
                raise GuardConfigError(f"{name} must be a number, got {raw!r}") from exc
            if value <= 0:
                raise GuardConfigError(f"{name} must be positive, got {raw!r}")
            values[name] = value
        return cls(**values)


@dataclass(frozen=True)
class Accepted:
    """A message fit for Rasa."""

    sender: str
    text: str
    metadata: dict[str, Any] | None


@dataclass(frozen=True)
class Refused:
    """A message answered by the guard itself with ``response`` (a domain response name)."""

    sender: str
    reason: str
    response: str


class TokenBuckets:
    """Per-key token buckets with a bounded memory (an LRU of keys)."""

    def __init__(self, burst: int, per_s: float, max_keys: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.burst, self.per_s, self.max_keys, self.clock = float(burst), per_s, max_keys, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str) -> bool:
        """Spend one token of ``key``'s bucket; False when it is empty."""
        now = self.clock()
        tokens, last = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.per_s)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return allowed


class Guard:
    """The checks every channel applies to an incoming message (see the module docstring)."""

    def __init__(self, config: GuardConfig | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config or GuardConfig()
        self.buckets = TokenBuckets(
            self.config.rate_limit_burst, self.config.rate_limit_per_s, self.config.max_tracked_senders, clock
        )

    def check(self, sender: Any, message: Any, metadata: Any = None) -> Accepted | Refused:
        """Accept the message for Rasa, or refuse it with the response to send; BadRequest if no sender."""
        if not isinstance(sender, str) or not sender.strip():
            raise BadRequest("'sender' must be a non-empty string")
        if len(sender) > self.config.max_sender_chars:
            raise BadRequest(f"'sender' must be at most {self.config.max_sender_chars} characters")
        if not self.buckets.take(sender):
            return self._refuse(sender, "rate_limited", "utter_rate_limited")
        if not isinstance(message, str) or not message.strip():
            return self._refuse(sender, f"empty ({type(message).__name__})", "utter_message_empty")
        if len(message) > self.config.max_message_chars:
            return self._refuse(sender, f"too long ({len(message)} characters)", "utter_message_too_long")
        if metadata is not None and not isinstance(metadata, dict):
            logger.warning("guard: dropped metadata that is not an object (%s)", type(metadata).__name__)
            metadata = None
        if metadata and MESSAGING_CHANNEL_METADATA_KEY in metadata:
            logger.warning("guard: dropped %r from a caller's metadata (set by messaging connectors only)",
                           MESSAGING_CHANNEL_METADATA_KEY)
            metadata = {k: v for k, v in metadata.items() if k != MESSAGING_CHANNEL_METADATA_KEY}
        return Accepted(sender, message, metadata)

    @staticmethod
    def _refuse(sender: str, reason: str, response: str) -> Refused:
        logger.info("guard: answered a message with %s: %s", response, reason)
        return Refused(sender, reason, response)


async def render(agent: Any, response: str, sender: str, channel: str) -> list[dict[str, Any]]:
    """``response`` from the loaded model's domain, as the REST channel returns messages.

    Rendered by the agent's NLG with a fresh tracker (these responses take no variables), so
    the refusal reads exactly as the domain says without loading the sender's conversation.
    """
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.shared.core.trackers import DialogueStateTracker

    collector = CollectingOutputChannel()
    if agent is None or agent.domain is None or agent.nlg is None:
        logger.error("guard: no model loaded, cannot render %s", response)
        return collector.messages
    tracker = DialogueStateTracker(sender, agent.domain.slots)
    message = await agent.nlg.generate(response, tracker, channel)
    if message is None:
        logger.error("guard: the model's domain has no response %s (retrain: domain/guard.yml)", response)
        return collector.messages
    await collector.send_response(sender, message)
    return collector.messages
