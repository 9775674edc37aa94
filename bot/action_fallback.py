"""When the action server fails, Rasa still answers: never silence, and a person is reachable.

Rasa 3.6 logs a stack trace and sends nothing when a custom action cannot run (server down,
crashed, answering 5xx or garbage), and waits up to 5 minutes for a slow one. Installed in the
Rasa process (bot/rasa_server.py), :func:`install` wraps ``RemoteAction.run`` so that:

- a call that takes longer than ``TANDEM_ACTION_TIMEOUT_S`` (default 20 s) is abandoned;
- any failure but a form's validation rejection (Rasa's own control flow) becomes an answer
  from the domain: ``utter_action_unavailable`` says the request was not carried out, that the
  message is kept, and how to reach a person; then the bot listens (no other action is tried
  on a server that is down). A form whose validation action fails ends with that same answer,
  instead of asking for its next slot as if nothing had happened;
- when the failed action is the handoff itself, the handoff happens without the action
  server: the conversation is paused and the ``handoff_request`` slot set, exactly the events
  the handoff service reads from Rasa's event broker, so the customer is queued for a person
  and told so (``utter_handoff_without_estimate``).

The customer's message is in the tracker either way (Rasa stores it before any action runs).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import time
import uuid
from typing import Any

logger = logging.getLogger(__name__)

HANDOFF_ACTION = "action_handoff"
SESSION_START_ACTION = "action_session_start"
DEFAULT_TIMEOUT_S = 20.0
UNAVAILABLE = "utter_action_unavailable"
HANDOFF_WITHOUT_ACTIONS = "utter_handoff_without_estimate"
#: the domain responses this module answers with (no rule or story uses them)
RESPONSES = (UNAVAILABLE, HANDOFF_WITHOUT_ACTIONS)

#: set while a form runs: its validation action's failure ends the form (see install)
_in_form: contextvars.ContextVar[bool] = contextvars.ContextVar("tandem_in_form", default=False)


class _FailedInForm(Exception):
    """A form's validation action failed: the form answers for it."""


def action_timeout_s(env: Any = None) -> float:
    env = os.environ if env is None else env
    try:
        value = float(env.get("TANDEM_ACTION_TIMEOUT_S") or DEFAULT_TIMEOUT_S)
    except ValueError:
        logger.error("TANDEM_ACTION_TIMEOUT_S is not a number; using %s s", DEFAULT_TIMEOUT_S)
        return DEFAULT_TIMEOUT_S
    return value if value > 0 else DEFAULT_TIMEOUT_S


def handoff_request(tracker: Any) -> dict[str, Any]:
    """The ``handoff_request`` slot value the handoff service reads (see bot/handoff/models.py),
    from what Rasa itself knows: the escalation and customer slots, no queue estimate."""

    def slot(name: str) -> Any:
        return tracker.get_slot(name) if name in tracker.slots else None

    return {
        "handoff_id": uuid.uuid4().hex,
        "sender_id": tracker.sender_id,
        "topic": slot("escalation_topic") or "general",
        "reason": slot("escalation_reason") or "customer asked for a person; the assistant's action server was down",
        "requested_at": time.time(),
        "customer_id": slot("customer_id"),
        "customer_name": slot("customer_name"),
        "segments": list(slot("customer_segments") or ()),
        "flags": list(slot("customer_flags") or ()),
        "position_told": None,
        "eta_told_s": None,
        "mode": "chat",
    }


async def degraded_events(action_name: str, output_channel: Any, nlg: Any, tracker: Any) -> list[Any]:
    """What Rasa does instead of the failed action: an honest answer, and the handoff if asked."""
    from rasa.core.actions.action import create_bot_utterance
    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.shared.core.events import ActionExecuted, ConversationPaused, FollowupAction, SessionStarted, SlotSet

    if action_name == SESSION_START_ACTION:
        # what Rasa's own session start does, and nothing said: it only identifies, and the action
        # the customer's message asks for will itself answer honestly if it cannot run (a failed
        # session start that spoke and left the session half-open made the policies lose the thread)
        return [SessionStarted(), ActionExecuted(ACTION_LISTEN_NAME)]
    handoff = action_name == HANDOFF_ACTION
    message = await nlg.generate(HANDOFF_WITHOUT_ACTIONS if handoff else UNAVAILABLE, tracker, output_channel.name())
    events: list[Any] = [create_bot_utterance(message)] if message else []
    if handoff:
        return events + [SlotSet("handoff_request", handoff_request(tracker)), ConversationPaused()]
    return events + [FollowupAction(ACTION_LISTEN_NAME)]


def install() -> None:
    """Wrap ``RemoteAction.run`` and ``FormAction.run`` in the Rasa process (idempotent)."""
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
    from rasa.core.actions.forms import FormAction
    from rasa.shared.core.events import ActiveLoop

    remote_run, form_run = RemoteAction.run, FormAction.run
    if getattr(remote_run, "_tandem_fallback", False):
        return
    timeout_s = action_timeout_s()

    async def run(self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> list[Any]:
        try:
            return await asyncio.wait_for(remote_run(self, output_channel, nlg, tracker, domain), timeout_s)
        except ActionExecutionRejection:
            raise  # a form re-asking for a slot: Rasa's normal flow
        except asyncio.TimeoutError:
            logger.error("action %s: no answer from the action server within %.0f s", self.name(), timeout_s)
        except Exception as exc:  # noqa: BLE001 - whatever broke, the customer gets an answer
            logger.error("action %s failed: %s", self.name(), exc.__cause__ or exc)
        if _in_form.get():
            raise _FailedInForm(self.name())
        return await degraded_events(self.name(), output_channel, nlg, tracker)

    async def run_form(self: FormAction, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> list[Any]:
        token = _in_form.set(True)
        try:
            return await form_run(self, output_channel, nlg, tracker, domain)
        except _FailedInForm:
            return [ActiveLoop(None), *await degraded_events(self.name(), output_channel, nlg, tracker)]
        finally:
            _in_form.reset(token)

    run._tandem_fallback = True  # type: ignore[attr-defined]
    RemoteAction.run = run  # type: ignore[method-assign]
    FormAction.run = run_form  # type: ignore[method-assign]
