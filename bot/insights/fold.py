"""What each Rasa event means for the reports: a fold of broker events into conversation and
handoff facts (plain Python, no I/O; :mod:`bot.insights.consumer` loads and stores the state).

Definitions (the report's glossary, ``bot/insights/README.md``, repeats them):

* a **conversation** is one Rasa session of a sender: ``session_started`` (after a customer
  message) or ``restart`` ends the current one; it counts once it has a customer message;
* it is **contained** when it never reached a person (no ``action_handoff``);
* a **handoff** starts at ``action_handoff``; its reason code and topic come from the escalation
  policy's slots (``escalation_reason`` = ``"<code>: <sentence>"``, ``escalation_topic``) set just
  before, or from the ``handoff_request`` slot the action writes (authoritative when present);
  ``explicit_request`` is the customer's own request, any other code a policy decision;
* customer turns are counted while the bot is in charge (not while an agent is): a turn whose
  intent is ``nlu_fallback`` is a fallback, ``out_of_scope`` out of scope; both go to the inbox,
  as does the last customer message before a handoff for a "not understood" reason;
* an agent's first reply is the first bot event with ``metadata.agent`` after the handoff; it
  also proves acceptance when the queue has not told us yet;
* a handoff still waiting when the customer restarts or starts a new session was **abandoned**
  (the queue consumer adds closures without an agent, and ``no_response`` dispositions), and so
  was one whose customer **went quiet**: no customer message and no agent for ``quiet_s``
  seconds (the fold sees it when the next message or agent comes later; the consumer's sweep
  when nothing comes); an agent who accepts later does not change that, one who had accepted
  earlier (the queue may tell it after the fold's guess) does;
* ``EXTERNAL_*`` intents are follow-ups the bot sent, not customer turns;
* ``csat_rating`` (1-5) and ``csat_comment`` slots are the post-chat rating.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from bot.insights.mask import mask
from bot.insights.schema import NO_TOPIC

logger = logging.getLogger(__name__)

HANDOFF_ACTION = "action_handoff"
EXPLICIT = "explicit_request"
UNSPECIFIED = "unspecified"
#: escalation reasons that mean "the bot did not understand": their last message goes to the inbox
NOT_UNDERSTOOD = frozenset({"repeated_fallback", "failed_turns"})
FALLBACK_INTENT = "nlu_fallback"
OOS_INTENT = "out_of_scope"
EXTERNAL_PREFIX = "EXTERNAL_"
GENERAL_TOPIC = "general"
#: disposition of a handoff abandoned because its customer went quiet while queued
WENT_QUIET = "went_quiet"
#: default inactivity (seconds) after which a queued customer counts as gone
QUIET_S = 600.0

#: outcomes of a handoff; the first two are still open
WAITING, ACCEPTED, HANDED_BACK, CLOSED, ABANDONED = "waiting", "accepted", "handed_back", "closed", "abandoned"
OPEN_OUTCOMES = (WAITING, ACCEPTED)

#: upper edges (seconds) of the wait-time histogram: 5 s steps to a minute, 15 s to 5 minutes,
#: a minute to 20 minutes, 5 minutes to an hour, half an hour to 4 hours, then one open bucket
WAIT_EDGES: tuple[int, ...] = (
    tuple(range(5, 61, 5)) + tuple(range(75, 301, 15)) + tuple(range(360, 1201, 60))
    + tuple(range(1500, 3601, 300)) + tuple(range(5400, 14401, 1800)) + (10**9,)
)


def wait_bucket(seconds: float) -> int:
    """The histogram bucket (its upper edge) that holds ``seconds``."""
    for edge in WAIT_EDGES:
        if seconds <= edge:
            return edge
    return WAIT_EDGES[-1]


def to_time(ts: Any) -> datetime | None:
    """Rasa's unix timestamp as naive UTC."""
    try:
        return datetime.fromtimestamp(float(ts), timezone.utc).replace(tzinfo=None)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def reason_code(value: object) -> str:
    """``"repeated_fallback: The customer..."`` → ``repeated_fallback``."""
    if not isinstance(value, str) or not value.strip():
        return ""
    return value.split(":", 1)[0].strip().lower()[:64]


@dataclass
class HandoffFact:
    key: str
    sender_id: str
    requested_at: datetime
    topic: str
    reason: str
    channel: str = ""
    intent_before: str = ""
    conversation_id: int | None = None
    accepted_at: datetime | None = None
    first_reply_at: datetime | None = None
    ended_at: datetime | None = None
    outcome: str = WAITING
    disposition: str | None = None
    id: int | None = None
    #: the conversation (while folding; its id may not exist yet)
    conversation: "ConversationFact | None" = field(default=None, repr=False, compare=False)
    changed: bool = True

    @property
    def explicit(self) -> bool:
        return self.reason == EXPLICIT

    @property
    def day(self) -> date:
        return self.requested_at.date()

    @property
    def wait_s(self) -> float | None:
        return _seconds(self.requested_at, self.accepted_at)

    @property
    def reply_s(self) -> float | None:
        return _seconds(self.accepted_at, self.first_reply_at)

    @property
    def handle_s(self) -> float | None:
        return _seconds(self.accepted_at, self.ended_at)

    @property
    def went_quiet(self) -> bool:
        return self.outcome == ABANDONED and self.disposition == WENT_QUIET

    def accept(self, at: datetime) -> None:
        if self.went_quiet:
            if self.ended_at is not None and at > self.ended_at:
                return  # the customer had gone before an agent came
            # an agent had come in time (the queue tells it after the fold guessed): not quiet
            self.outcome, self.disposition, self.ended_at = WAITING, None, None
        if self.accepted_at is None or at < self.accepted_at:
            self.accepted_at = at
        if self.outcome == WAITING:
            self.outcome = ACCEPTED
        self.changed = True

    def end(self, at: datetime, outcome: str | None = None, disposition: str | None = None) -> None:
        if self.ended_at is None:
            self.ended_at = at
        if outcome is not None:
            self.outcome = outcome
        if disposition is not None:
            self.disposition = disposition
        self.changed = True


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


@dataclass
class ConversationFact:
    sender_id: str
    started_at: datetime
    last_event_at: datetime
    channel: str = ""
    user_turns: int = 0
    fallback_turns: int = 0
    oos_turns: int = 0
    handoffs: int = 0
    reason: str = ""
    topic: str = NO_TOPIC
    rating: float | None = None
    rating_comment: bool = False
    state: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
    #: its handoffs still open, plus those this batch touched
    handoff_list: list[HandoffFact] = field(default_factory=list)
    changed: bool = True

    @property
    def day(self) -> date:
        return self.started_at.date()

    @property
    def ended(self) -> bool:
        return bool(self.state.get("ended"))

    @property
    def paused(self) -> bool:
        return bool(self.state.get("paused"))

    def latest_handoff(self) -> HandoffFact | None:
        return self.handoff_list[-1] if self.handoff_list else None


@dataclass(frozen=True)
class InboxItem:
    event_id: int
    sender_id: str
    received_at: datetime
    channel: str
    kind: str
    text: str
    intent: str
    confidence: float | None


@dataclass(frozen=True)
class FollowUp:
    event_id: int
    sender_id: str
    kind: str
    channel: str
    sent_at: datetime


@dataclass
class Fold:
    """Applies events to the current conversation of each sender. ``current`` is loaded by the
    caller (the latest stored conversation of each sender in the batch, with its handoffs)."""

    current: dict[str, ConversationFact] = field(default_factory=dict)
    #: every conversation seen by this fold, in order (new ones have ``id`` None)
    touched: list[ConversationFact] = field(default_factory=list)
    inbox: list[InboxItem] = field(default_factory=list)
    followups: list[FollowUp] = field(default_factory=list)
    days: set[date] = field(default_factory=set)
    #: stored handoff rows found to duplicate another (see ``_drop_shadow``): delete them
    dropped: list[int] = field(default_factory=list)
    #: inactivity after which a queued customer went quiet (None: never)
    quiet_s: float | None = QUIET_S

    def load(self, conv: ConversationFact) -> None:
        conv.changed = False
        for h in conv.handoff_list:
            h.changed = False
            h.conversation = conv
        self.current[conv.sender_id] = conv

    # -- events -----------------------------------------------------------------------------------

    def apply(self, event_id: int, sender_id: str, event: dict[str, Any]) -> None:
        kind = event.get("event")
        at = to_time(event.get("timestamp"))
        if at is None or not isinstance(kind, str):
            return
        handler = getattr(self, f"_on_{kind}", None)
        if handler is None:
            return
        handler(event_id, sender_id, event, at)

    def _conversation(self, sender_id: str, at: datetime) -> ConversationFact:
        conv = self.current.get(sender_id)
        if conv is None or conv.ended:
            conv = ConversationFact(sender_id=sender_id, started_at=at, last_event_at=at)
            self.current[sender_id] = conv
        self._touch(conv, at)
        return conv

    def _touch(self, conv: ConversationFact, at: datetime) -> None:
        conv.last_event_at = max(conv.last_event_at, at)
        conv.changed = True
        if conv not in self.touched:
            self.touched.append(conv)
        self.days.add(conv.day)

    def _end_conversation(self, conv: ConversationFact, at: datetime) -> None:
        """The customer restarted or a new session began: a handoff still waiting was abandoned."""
        for h in conv.handoff_list:
            if h.outcome == WAITING:
                h.end(at, ABANDONED)
                self.days.add(h.day)
            elif h.outcome == ACCEPTED and h.ended_at is None:
                h.end(at)
                self.days.add(h.day)
        conv.state["ended"] = True
        conv.state["paused"] = False

    def _on_session_started(self, event_id: int, sender_id: str, event: dict[str, Any], at: datetime) -> None:
        conv = self.current.get(sender_id)
        if conv is not None and not conv.ended and (conv.user_turns or conv.handoffs):
            self._touch(conv, at)
            self._end_conversation(conv, at)
        elif conv is not None and not conv.ended:
            self.days.add(conv.day)  # an empty conversation (e.g. only a follow-up) starts again now
            conv.started_at = at
        # Rasa replays carried-over slots right after this event: they are not new facts
        self._conversation(sender_id, at).state["session_start"] = True

    def _on_restart(self, event_id: int, sender_id: str, event: dict[str, Any], at: datetime) -> None:
        conv = self.current.get(sender_id)
        if conv is not None and not conv.ended:
            self._touch(conv, at)
            self._end_conversation(conv, at)

    def _on_pause(self, event_id: int, sender_id: str, event: dict[str, Any], at: datetime) -> None:
        self._conversation(sender_id, at).state["paused"] = True

    def _on_resume(self, event_id: int, sender_id: str, event: dict[str, Any], at: datetime) -> None:
        conv = self._conversation(sender_id, at)
        conv.state["paused"] = False
        h = conv.latest_handoff()
        if h is not None and h.outcome == ACCEPTED and h.ended_at is None:
            h.end(at)  # the agent finished; the queue tells whether it was a hand-back or a close
            self.days.add(h.day)

    def _on_user(self, event_id: int, sender_id: str, event: dict[str, Any], at: datetime) -> None:
        parse = event.get("parse_data") if isinstance(event.get("parse_data"), dict) else {}
        intent_data = parse.get("intent") if isinstance(parse.get("intent"), dict) else {}
        intent = str(intent_data.get("name") or "")
        channel = str(event.get("input_channel") or "")
        if intent.startswith(EXTERNAL_PREFIX):
            conv = self._conversation(sender_id, at)
            self.followups.append(FollowUp(event_id, sender_id, intent[len(EXTERNAL_PREFIX):][:64],
                                           channel or conv.channel, at))
            self.days.add(at.date())
            return
        conv = self._conversation(sender_id, at)
        conv.state.pop("session_start", None)
        self._check_quiet(conv, at)
        conv.state["customer_at"] = at.isoformat()
        if not conv.channel and channel:
            conv.channel = channel[:64]
        if conv.paused:
            return  # a message to the agent: not a turn of the bot
        conv.user_turns += 1
        confidence = _float(intent_data.get("confidence"))
        text = str(event.get("text") or "")
        predicted, predicted_conf = intent, confidence
        if intent == FALLBACK_INTENT:
            conv.fallback_turns += 1
            predicted, predicted_conf = _runner_up(parse, confidence)
            self._to_inbox(event_id, conv, at, FALLBACK_INTENT, text, predicted, predicted_conf)
        elif intent == OOS_INTENT:
            conv.oos_turns += 1
            self._to_inbox(event_id, conv, at, OOS_INTENT, text, intent, confidence)
        conv.state["last_user"] = {
            "event_id": event_id, "text": mask(text)[:1000], "intent": predicted, "confidence": predicted_conf,
            "at": at.isoformat(),
        }

    def _to_inbox(self, event_id: int, conv: ConversationFact, at: datetime, kind: str, text: str,
                  intent: str, confidence: float | None) -> None:
        masked = mask(text.strip())[:1000]
        if masked and not masked.startswith("/"):  # button payloads are not language
            self.inbox.append(InboxItem(event_id, conv.sender_id, at, conv.channel, kind, masked, intent, confidence))

    def _on_slot(self, event_id: int, sender_id: str, event: dict[str, Any], at: datetime) -> None:
        name, value = event.get("name"), event.get("value")
        conv = self._conversation(sender_id, at)
        if conv.state.get("session_start"):
            return  # a slot carried over from the previous session
        if name == "escalation_reason":
            conv.state["pending_reason"] = reason_code(value)
        elif name == "escalation_topic":
            conv.state["pending_topic"] = str(value or "")[:32]
        elif name == "handoff_request" and isinstance(value, dict) and value.get("handoff_id"):
            self._request_slot(conv, value, event_id, at)
        elif name == "csat_rating":
            rating = _float(value)
            if rating is None:
                conv.rating = None
            elif 1.0 <= rating <= 5.0:
                conv.rating = rating
            else:
                logger.warning("event %s: rating %r outside 1-5 ignored", event_id, value)
        elif name == "csat_comment":
            conv.rating_comment = isinstance(value, str) and bool(value.strip())

    def _on_action(self, event_id: int, sender_id: str, event: dict[str, Any], at: datetime) -> None:
        name = event.get("name")
        if name != "action_session_start":
            current = self.current.get(sender_id)
            if current is not None and current.state.pop("session_start", None):
                self._touch(current, at)
        if name != HANDOFF_ACTION:
            return
        conv = self._conversation(sender_id, at)
        last = conv.state.get("last_user") or {}
        reason = conv.state.pop("pending_reason", "") or (
            EXPLICIT if last.get("intent") == "contact_human_agent" else UNSPECIFIED)
        topic = conv.state.pop("pending_topic", "") or GENERAL_TOPIC
        if _open(conv.latest_handoff()):
            conv.state["paused"] = True  # asked again while queued or served: the queue keeps one entry
            return
        self._new_handoff(conv, f"{sender_id}#{event_id}", at, reason, topic)

    def _new_handoff(self, conv: ConversationFact, key: str, at: datetime, reason: str, topic: str) -> HandoffFact:
        last = conv.state.get("last_user") or {}
        h = HandoffFact(key=key, sender_id=conv.sender_id, requested_at=at, topic=topic, reason=reason,
                        channel=conv.channel, intent_before=str(last.get("intent") or "")[:128], conversation=conv)
        conv.handoff_list.append(h)
        conv.handoffs += 1
        if conv.handoffs == 1:
            conv.reason, conv.topic = reason, topic
        conv.state["paused"] = True
        self.days.add(h.day)
        if reason in NOT_UNDERSTOOD and last.get("text") and last.get("event_id") is not None:
            self.inbox.append(InboxItem(int(last["event_id"]), conv.sender_id, _parse_iso(last.get("at")) or at,
                                        conv.channel, "before_handoff", str(last["text"]),
                                        str(last.get("intent") or ""), _float(last.get("confidence"))))
        return h

    def _request_slot(self, conv: ConversationFact, value: dict[str, Any], event_id: int, at: datetime) -> None:
        """The action's request: names the queue's handoff id and the final reason and topic."""
        hid = str(value["handoff_id"])[:64]
        reason = reason_code(value.get("reason")) or UNSPECIFIED
        topic = str(value.get("topic") or GENERAL_TOPIC)[:32]
        h = next((x for x in conv.handoff_list if x.key == hid), None)
        if h is not None:
            self._drop_shadow(conv, h)
        else:
            latest = conv.latest_handoff()
            if _open(latest) and latest is not None and "#" not in latest.key:
                return  # a repeated request: the queue keeps the sender's open entry and its id
            h = latest if _open(latest) or _provisional_quiet(latest) else None
        if h is None:  # a request without the action event (or after it was consumed elsewhere)
            h = self._new_handoff(conv, hid, at, reason, topic)
        h.key, h.reason, h.topic, h.changed = hid, reason, topic, True
        if conv.handoff_list and conv.handoff_list[0] is h or conv.handoffs == 1:
            conv.reason, conv.topic = reason, topic

    def _drop_shadow(self, conv: ConversationFact, h: HandoffFact) -> None:
        """The queue consumer stored this request (``h``) before the broker's events for it were
        folded, and it had already ended, so the action event opened a second, provisional entry
        (keyed ``sender#event``). The request's slot names the queue's id: the provisional entry
        is the same request, so what only the broker knew moves to ``h`` and the entry goes."""
        shadow = next((x for x in reversed(conv.handoff_list)
                       if x is not h and "#" in x.key and (_open(x) or x.went_quiet)), None)
        if shadow is None:
            return
        conv.handoff_list.remove(shadow)
        if shadow.id is not None:
            self.dropped.append(shadow.id)
        h.intent_before = h.intent_before or shadow.intent_before
        h.channel = h.channel or shadow.channel
        h.conversation = conv
        h.changed = True
        self.days.add(h.day)

    def _on_bot(self, event_id: int, sender_id: str, event: dict[str, Any], at: datetime) -> None:
        meta = event.get("metadata") if isinstance(event.get("metadata"), dict) else {}
        if not meta.get("agent"):
            return
        conv = self._conversation(sender_id, at)
        self._check_quiet(conv, at)
        h = conv.latest_handoff()
        if h is None or h.outcome not in OPEN_OUTCOMES:
            return
        if h.first_reply_at is None:
            h.first_reply_at = at
        if h.accepted_at is None:
            h.accept(at)
        h.changed = True
        self.days.add(h.day)


    def _check_quiet(self, conv: ConversationFact, at: datetime) -> None:
        """A customer message or an agent arrives at ``at``: if the customer had been quiet longer
        than ``quiet_s`` while still queued, the handoff was abandoned when that time ran out."""
        h = conv.latest_handoff()
        if h is None or self.quiet_s is None:
            return
        gone = quiet_since(h, conv, at, self.quiet_s)
        if gone is not None:
            h.end(gone, ABANDONED, WENT_QUIET)
            self.days.add(h.day)


def quiet_since(h: HandoffFact, conv: ConversationFact | None, now: datetime, quiet_s: float) -> datetime | None:
    """When ``h``'s customer went quiet, if they did by ``now``: still queued (no agent yet) and no
    customer message for more than ``quiet_s`` seconds since the request or their last message."""
    if h.outcome != WAITING or h.accepted_at is not None:
        return None
    last = h.requested_at
    seen = _parse_iso(conv.state.get("customer_at")) if conv is not None else None
    if seen is not None and seen > last:
        last = seen
    gone = last + timedelta(seconds=quiet_s)
    return gone if now > gone else None


def _provisional_quiet(h: HandoffFact | None) -> bool:
    """A handoff known only from the broker (its request slot not folded yet) that the sweep
    found quiet: the request slot that follows names it, it is not a new one."""
    return h is not None and h.went_quiet and "#" in h.key


def _open(h: HandoffFact | None) -> bool:
    """Still waiting, or served and not finished."""
    return h is not None and (h.outcome == WAITING or (h.outcome == ACCEPTED and h.ended_at is None))


def _runner_up(parse: dict[str, Any], confidence: float | None) -> tuple[str, float | None]:
    """The intent NLU would have chosen had the fallback not fired."""
    for item in parse.get("intent_ranking") or ():
        if isinstance(item, dict) and item.get("name") and item.get("name") != FALLBACK_INTENT:
            return str(item["name"])[:128], _float(item.get("confidence"))
    return FALLBACK_INTENT, confidence


def _float(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _parse_iso(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None
