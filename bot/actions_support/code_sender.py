"""How a one-time code reaches the customer: a pluggable sender.

A deployment plugs in its e-mail or SMS gateway by implementing
:class:`CodeSender` (one async ``send``) and installing it in
:class:`~bot.actions_support.runtime.Services`. The embedded set-up uses
:class:`OutboxSender`: each message is a JSON file in ``var/outbox/``
(directory 0700, files 0600), so a person trying ``make run`` can read the
code there, and so can a test. Nothing leaves the machine.

The message's words are the domain response ``utter_verification_code_message``
(``domain/identity.yml``): its default variation for e-mail, a ``channel: sms``
one for text messages. A copy edit or a translation changes the domain, not this code.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import yaml

__all__ = ["CodeMessage", "CodeSender", "OutboxSender", "read_outbox", "MESSAGE_RESPONSE"]

#: the domain response a code message is written from, and the file that holds it
MESSAGE_RESPONSE = "utter_verification_code_message"
DOMAIN_FILE = Path(__file__).resolve().parents[2] / "domain" / "identity.yml"


@lru_cache(maxsize=8)
def _templates(path: Path) -> dict[str | None, str]:
    """The response's text per channel (``None``: a variation without a channel)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    variations = (data.get("responses") or {}).get(MESSAGE_RESPONSE) or []
    return {v.get("channel"): v["text"] for v in variations if isinstance(v, dict) and v.get("text")}


def message_template(channel: str, path: Path = DOMAIN_FILE) -> str:
    """The text of :data:`MESSAGE_RESPONSE` for ``channel`` (else its channel-less variation)."""
    templates = _templates(path)
    template = templates.get(channel) or templates.get(None)
    if template is None:
        raise LookupError(f"{path} has no {MESSAGE_RESPONSE} for channel {channel!r}")
    return template


@dataclass(frozen=True)
class CodeMessage:
    """One code to deliver: where to, over what, and the code itself."""

    channel: str  # "email" or "sms"
    to: str
    code: str
    expires_at: float
    conversation_id: str

    def body(self, domain_file: Path = DOMAIN_FILE) -> str:
        """The e-mail or SMS text: the domain response for this channel, filled in."""
        minutes = max(1, round((self.expires_at - dt.datetime.now(dt.timezone.utc).timestamp()) / 60))
        return message_template(self.channel, domain_file).format(code=self.code, minutes=minutes)


class CodeSender(Protocol):
    async def send(self, message: CodeMessage) -> None:
        """Deliver ``message``; raise if it could not be handed over."""


class OutboxSender:
    """Writes each message as a 0600 JSON file into a local outbox directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def _write(self, message: CodeMessage) -> Path:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
        path = self.directory / f"{stamp}-{secrets.token_hex(4)}.json"
        record = {
            "channel": message.channel,
            "to": message.to,
            "conversation_id": message.conversation_id,
            "code": message.code,
            "expires_at": message.expires_at,
            "body": message.body(),
        }
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(record, handle)
        return path

    async def send(self, message: CodeMessage) -> None:
        await asyncio.to_thread(self._write, message)


def read_outbox(directory: Path, to: str | None = None) -> list[dict]:
    """The outbox's messages, oldest first (optionally only those to ``to``)."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    records = [json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))]
    return [r for r in records if to is None or r.get("to") == to]
