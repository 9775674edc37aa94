"""Rasa's messaging connectors, naming themselves in the message metadata.

Rasa runs ``action_session_start`` before the first message of a conversation is in the
tracker, so the action cannot see which channel the sender id (an E.164 phone number, a
Messenger id) came from, and a WhatsApp customer would be a stranger until a later action.
These subclasses keep everything of Rasa's connectors (webhook, signature checks, output
channel, ``name()``, so the URLs stay ``/webhooks/<name>/webhook``) and add one metadata key,
:data:`bot.vocabulary.MESSAGING_CHANNEL_METADATA_KEY`, which ``actions/session.py`` reads.
``credentials.yml`` names them in its commented templates.
"""

from __future__ import annotations

import asyncio
from typing import Any, Dict, Optional, Text

from aiogram.utils.exceptions import TelegramAPIError
from rasa.core.channels.facebook import FacebookInput as RasaFacebookInput
from rasa.core.channels.slack import SlackInput as RasaSlackInput
from rasa.core.channels.telegram import TelegramInput as RasaTelegramInput
from rasa.core.channels.telegram import TelegramOutput
from rasa.core.channels.twilio import TwilioInput as RasaTwilioInput
from rasa.shared.exceptions import RasaException
from sanic.request import Request

from bot.vocabulary import MESSAGING_CHANNEL_METADATA_KEY


class _NamesItself:
    """Mixin: Rasa's metadata for the request plus the connector's name."""

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        own = super().get_metadata(request)  # type: ignore[misc]
        return {**(own or {}), MESSAGING_CHANNEL_METADATA_KEY: self.name()}  # type: ignore[attr-defined]


class TelegramInput(_NamesItself, RasaTelegramInput):
    """Rasa's Telegram connector (sender id: the chat id, which no profile holds).

    Rasa 3.6 sets the webhook with ``asyncio.run()`` while building the blueprint, which leaves
    aiogram's HTTP session bound to that finished event loop: the first webhook then fails with
    "Event loop is closed" (found by tests/widget/test_connectors.py). Here the session is closed
    inside that same ``asyncio.run()``, so aiogram opens a new one on the server's loop.
    """

    output: Optional[TelegramOutput] = None

    def get_output_channel(self) -> TelegramOutput:
        channel = TelegramOutput(self.access_token)

        async def set_webhook() -> None:
            try:
                await channel.set_webhook(url=self.webhook_url)
            finally:
                await channel.session.close()  # aiogram 2.x: Bot.close() is deprecated

        try:
            asyncio.run(set_webhook())
        except TelegramAPIError as error:
            raise RasaException("Failed to set channel webhook: " + str(error)) from error
        self.output = channel  # the caller may close its session at shutdown
        return channel


class TwilioInput(_NamesItself, RasaTwilioInput):
    """Rasa's Twilio connector: SMS (sender ``+44...``) and WhatsApp (sender ``whatsapp:+44...``)."""


class SlackInput(_NamesItself, RasaSlackInput):
    """Rasa's Slack connector (sender id: the Slack user id, which no profile holds)."""


class FacebookInput(_NamesItself, RasaFacebookInput):
    """Rasa's Facebook Messenger connector (sender id: the page-scoped id, ``messenger:<id>``)."""
