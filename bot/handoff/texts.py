"""What the customer reads around a handoff: responses of ``domain/handoff.yml``, filled in.

``action_handoff`` sends its responses through Rasa (``dispatcher.utter_message(response=...)``);
the handoff service sends its own (agent joined, position updates, hand-back...) as ``bot``
events through Rasa's API, so it renders them here from the same domain file, with the same
``{variable}`` syntax, so every sentence lives in the domain. :func:`wait_response` and
:func:`wait_variables` choose between the "under a minute" and "about N minutes" responses
rather than assembling a sentence from fragments.
"""

from __future__ import annotations

import math
import string
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import yaml

from bot.vocabulary import Topic

if TYPE_CHECKING:
    from bot.handoff.intake import IntakeAnswer

DOMAIN_FILE = Path(__file__).resolve().parents[2] / "domain" / "handoff.yml"
#: the service's own responses beside handoff.yml (an agent whose console went away or who logged out)
AWAY_FILE = DOMAIN_FILE.with_name("handoff_away.yml")

#: the team that serves each queue, as the customer reads it in {team}
TEAM = {
    Topic.ORDERS: "orders and deliveries",
    Topic.REFUNDS_BILLING: "refunds and billing",
    Topic.ACCOUNT: "account",
    Topic.COMPLAINTS: "complaints",
    Topic.GENERAL: "customer service",
}

#: the buttons' payloads (domain/handoff.yml) the service recognises as the customer's choice
CALLBACK_PAYLOAD = "Call me back"
EMAIL_PAYLOAD = "Answer me by e-mail"


@lru_cache(maxsize=None)
def _responses(paths: tuple[Path, ...] = (DOMAIN_FILE, AWAY_FILE)) -> dict[str, str]:
    found: dict[str, str] = {}
    for path in paths:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        found.update({name: variations[0]["text"] for name, variations in (data.get("responses") or {}).items()})
    return found


def variables_of(name: str) -> set[str]:
    """The ``{variables}`` response ``name`` needs."""
    return {field for _text, field, _spec, _conv in string.Formatter().parse(_responses()[name]) if field}


def render(name: str, **values: Any) -> str:
    """The text of response ``name`` with its variables filled in; a missing or empty variable
    is a bug (``ValueError``), never a raw placeholder in front of a customer."""
    missing = sorted(v for v in variables_of(name) if values.get(v) in (None, ""))
    if missing:
        raise ValueError(f"response {name} needs {', '.join(missing)}")
    return _responses()[name].format(**values)


def wait_minutes(wait_s: int) -> int:
    """Rounded up (better early than later than promised), at least 2: "about 1 minutes" never
    reads right and anything under a minute has its own response."""
    return max(2, math.ceil(wait_s / 60))


#: response saying "about {wait_minutes} minutes" -> its twin for a wait under a minute
UNDER_A_MINUTE = {
    "utter_handoff_queued": "utter_handoff_queued_now",
    "utter_handoff_position_update": "utter_handoff_position_update_now",
}


def wait_response(base: str, wait_s: int) -> str:
    """``base`` (which says "about {wait_minutes} minutes"), or its twin under a minute."""
    return UNDER_A_MINUTE[base] if wait_s < 60 else base


def wait_variables(topic: Topic, position: int, wait_s: int) -> dict[str, Any]:
    values: dict[str, Any] = {"team": TEAM[topic], "position": position}
    if wait_s >= 60:
        values["wait_minutes"] = wait_minutes(wait_s)
    return values


def agent_name(agent: str) -> str:
    return agent.title()


def position_update(topic: Topic, position: int, wait_s: int) -> str:
    return render(wait_response("utter_handoff_position_update", wait_s), **wait_variables(topic, position, wait_s))


def agent_joined(agent: str) -> str:
    return render("utter_handoff_agent_joined", agent=agent_name(agent))


def transferred(agent: str, topic: Topic) -> str:
    return render("utter_handoff_transferred", agent=agent_name(agent), team=TEAM[topic])


def handed_back(agent: str) -> str:
    return render("utter_handoff_handed_back", agent=agent_name(agent))


def closed(agent: str) -> str:
    return render("utter_handoff_closed_by_agent", agent=agent_name(agent))


def agent_away(agent: str, topic: Topic) -> str:
    return render("utter_handoff_agent_away", agent=agent_name(agent), team=TEAM[topic])


def agent_left(agent: str, topic: Topic) -> str:
    """The agent logged out with the conversation still theirs."""
    return render("utter_handoff_agent_left", agent=agent_name(agent), team=TEAM[topic])


def callback_confirmed(identified: bool) -> str:
    return render("utter_handoff_callback_confirmed" if identified else "utter_handoff_callback_confirmed_unidentified")


def email_confirmed(identified: bool) -> str:
    return render("utter_handoff_email_confirmed" if identified else "utter_handoff_email_confirmed_unidentified")


def response_names() -> Mapping[str, str]:
    return dict(_responses())


def intake_response(topic: Topic, answer: "IntakeAnswer | None") -> tuple[str, dict[str, Any]]:
    """What ``action_handoff`` tells the customer: (response name, variables) for the service's
    answer, or for no answer (the service was unreachable: the broker still brings the request)."""
    if answer is None:
        return "utter_handoff_queue_unknown", {"team": TEAM[topic]}
    team = TEAM[answer.topic]
    if answer.wait_s is not None:
        return wait_response("utter_handoff_queued", answer.wait_s), wait_variables(answer.topic, answer.position, answer.wait_s)
    if answer.open_now or answer.next_opening is None:
        return "utter_handoff_no_agent", {"team": team}
    return "utter_handoff_closed", {"hours": answer.hours, "next_opening": f"{answer.next_opening:%A at %H:%M} UTC"}
