"""``python -m bot handoff serve``: run the handoff service (queue, broker consumer, agent console)."""

from __future__ import annotations

import argparse
import logging
import os
from urllib.parse import urlsplit

from aiohttp import web

logger = logging.getLogger(__name__)


def add_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("handoff", help="the live-agent handoff service")
    sub = parser.add_subparsers(dest="handoff_command", metavar="SUBCOMMAND")
    serve = sub.add_parser("serve", help="serve the agent console and consume Rasa's event broker")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=None, help="default: HANDOFF_PORT (5080)")
    serve.set_defaults(func=_serve)
    parser.set_defaults(func=lambda _args: (parser.print_help(), 2)[1])


def _serve(args: argparse.Namespace) -> int:
    from bot.handoff.app import create_app
    from bot.settings import Settings, SettingsError

    try:
        settings = Settings.from_env()
        app = create_app(settings)
    except SettingsError as exc:
        logger.error("%s", exc)
        return 2
    # The URL is what Rasa, the runner's health check and browsers use to reach us; when only
    # HANDOFF_URL is passed down (Settings.rasa_env), its port wins over the HANDOFF_PORT default.
    port = args.port or (settings.handoff_port if os.environ.get("HANDOFF_PORT") else None) or (
        urlsplit(settings.handoff_url).port or settings.handoff_port)
    logger.info("handoff service on http://%s:%d/console (Rasa at %s)", args.host, port, settings.rasa_url)
    web.run_app(app, host=args.host, port=port, print=None, handle_signals=True)
    return 0
