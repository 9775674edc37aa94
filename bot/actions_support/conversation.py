"""What an action knows (:class:`Turn`, :class:`Context`) and what it answers (:class:`Reply`).

These are plain, Rasa-free records: ``actions/`` builds a :class:`Turn` from
the rasa_sdk tracker, the business functions in this package take a
:class:`Context` and return a :class:`Reply`, and ``actions/`` turns that into
dispatcher messages and ``SlotSet`` events. So every business rule is tested
without a Rasa server, and the actions stay thin.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Mapping

from bot.actions_support.gateway import Lookup, Outcome, ProfileGateway
from bot.processes.catalogue import Catalogue
from bot.processes.render import format_value, is_missing
from bot.processes.statement import Case, Statement, build_statement
from bot.profile.model import CustomerProfile

__all__ = ["Context", "DataUse", "Message", "Reply", "Turn", "SYSTEM_NAMES", "mask_email"]

#: how each source system is named to customers (the {source} of ``utter_data_use_*``)
SYSTEM_NAMES: Mapping[str, str] = {
    "crm": "customer records",
    "marketing": "marketing preferences",
    "commerce": "orders and payments system",
    "contact_centre": "contact-centre history",
    "tandem": "this assistant's own records",
    "derived": "summary worked out from those records",
    "website": "website sign-in",
    "messaging": "messaging channel",
}


def mask_email(email: str | None) -> str | None:
    """``a***@example.com``: enough to recognise, not enough to harvest."""
    if not email or "@" not in email:
        return None
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


@dataclass(frozen=True)
class Turn:
    """The conversation as an action sees it (built from the tracker by ``actions/``)."""

    conversation_id: str
    intent: str | None = None
    text: str = ""
    slots: Mapping[str, Any] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)
    input_channel: str | None = None
    entities: Mapping[str, Any] = field(default_factory=dict)
    #: the last action the bot ran before the customer's latest message (what they are answering)
    previous_action: str | None = None

    def slot(self, name: str) -> Any:
        return self.slots.get(name)


@dataclass(frozen=True)
class Message:
    """One domain response to send (``utter_*``) and the variables that fill it."""

    response: str
    variables: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DataUse:
    """One use of personal data, remembered so the customer can ask "why my data?".

    ``use`` names the response ``utter_data_use_<use>`` (domain/privacy.yml)
    that says what was used and why; ``system`` is where it came from;
    ``subject`` an order or invoice number the use was about, if any. It is
    kept in the ``data_used`` slot as ``"<use>|<system>|<subject>"``.
    """

    use: str
    system: str
    subject: str = ""

    def key(self) -> str:
        return f"{self.use}|{self.system}|{self.subject}"

    @classmethod
    def parse(cls, key: object) -> "DataUse | None":
        if not isinstance(key, str) or key.count("|") != 2:
            return None
        use, system, subject = key.split("|")
        return cls(use, system, subject) if use else None


#: keyword arguments of rasa_sdk's ``utter_message``: not usable as response variables
RESERVED_VARIABLES = frozenset({"text", "image", "json_message", "template", "response", "attachment", "buttons", "elements", "custom"})


def _variables(values: Mapping[str, Any]) -> dict[str, str]:
    """Values formatted for people; missing ones left out (a test proves no response then shows ``{x}``)."""
    clash = RESERVED_VARIABLES.intersection(values)
    if clash:
        raise ValueError(f"response variables may not be named {sorted(clash)}")
    return {k: format_value(v) for k, v in values.items() if not is_missing(v) and format_value(v)}


@dataclass
class Reply:
    """The responses and slot changes an action returns."""

    messages: list[Message] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)
    data_used: list[DataUse] = field(default_factory=list)
    #: the profile store could not be read or written: flags the conversation
    #: for the escalation policy (slot ``data_unavailable``)
    unavailable: bool = False
    #: the action to run next (``FollowupAction``): the request that waited for identification
    followup: str | None = None
    #: the customer only claimed an identity: the action layer sends a one-time code
    #: (:mod:`bot.actions_support.verification`) and says so
    verify: bool = False

    def say(self, response: str, **variables: Any) -> "Reply":
        """Send domain response ``response`` filled with ``variables``."""
        self.messages.append(Message(response, _variables(variables)))
        return self

    def add_statement(self, statement: Statement) -> "Reply":
        self.messages.append(Message(statement.response, _variables(statement.variables)))
        return self

    def use(self, use: str, system: str, subject: str | None = None) -> "Reply":
        self.data_used.append(DataUse(use, system, subject or ""))
        return self

    def extend(self, other: "Reply") -> "Reply":
        self.messages += other.messages
        self.slots.update(other.slots)
        self.data_used += other.data_used
        self.unavailable = self.unavailable or other.unavailable
        self.followup = other.followup or self.followup
        self.verify = self.verify or other.verify
        return self

    @property
    def responses(self) -> list[str]:
        return [m.response for m in self.messages]


@dataclass(frozen=True)
class Context:
    """Everything a business function needs: the turn, the customer, the services."""

    turn: Turn
    gateway: ProfileGateway
    catalogue: Catalogue
    now: dt.datetime
    lookup: Lookup = Lookup(Outcome.NOT_FOUND)
    #: the customer typed an identifier but has not proved it is theirs: no profile until they do
    claimed: bool = False

    @property
    def profile(self) -> CustomerProfile | None:
        return self.lookup.profile if self.lookup.found else None

    @property
    def unavailable(self) -> bool:
        return self.lookup.outcome is Outcome.UNAVAILABLE

    @property
    def personalise(self) -> bool:
        """May data beyond what the request strictly needs be used (greeting, suggestions)?"""
        if self.turn.slot("personalisation_allowed") is False:
            return False
        profile = self.profile
        if profile is None:
            return True
        return profile.consent.personalisation_allowed and "no_personalisation" not in profile.suppressions

    @property
    def sensitive(self) -> bool:
        """A sensitive circumstance is on record: gentler tone, no marketing."""
        profile = self.profile
        if profile is None:
            return "sensitive_circumstance" in (self.turn.slot("customer_flags") or [])
        return "sensitive_circumstance" in profile.segments

    def system_of(self, field_name: str, default: str) -> str:
        profile = self.profile
        if profile is not None:
            prov = profile.fields.get(field_name)
            if prov is not None:
                return prov.system
        return default

    def statement(self, case: Case) -> Statement:
        return build_statement(case, self.now, self.catalogue)

    @property
    def currency(self) -> str:
        return self.catalogue.policies.currency
