"""The handoff service's operations: what agents do, and what broker events change.

Web handlers and the event consumer call this layer; it owns the rules (who may do what), keeps
the database and Rasa consistent (Rasa first for anything the customer must receive, so a
failed delivery changes nothing and the agent sees the error), and tells connected consoles.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable

from aiohttp import web
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.handoff import routing, texts
from bot.handoff.config import AgentAccount, HandoffConfig
from bot.handoff.errors import BadRequest, Conflict, Forbidden
from bot.handoff.models import (
    Conversation,
    Disposition,
    HandoffRequest,
    Message,
    MessageKind,
    Mode,
    Status,
    Topic,
)
from bot.handoff.intake import IntakeAnswer
from bot.handoff.profiles import CustomerTraits, ProfileLookup
from bot.handoff.store import BatchView, QueueStore, estimate_for, utcnow
from bot.rasa_api import RasaAPIError, RasaClient
from bot.vocabulary import HANDOFF_SLOTS

logger = logging.getLogger(__name__)

Notify = Callable[[], Awaitable[None]]


def may_see(agent: AgentAccount, conv: Any) -> bool:
    """What is an agent's: a conversation waiting (or left unassigned) in a queue they serve,
    or one assigned to them, now or before; supervisors see every conversation. ``conv``: a
    :class:`Conversation`, or anything with its ``topic`` and ``agent`` (an update from another
    service, :class:`bot.handoff.console_bus.Audience`)."""
    if agent.supervisor:
        return True
    if conv.agent is not None:
        return conv.agent == agent.name
    return agent.serves(conv.topic)


class ConsoleHub:
    """Connected agent consoles. Publishing never raises: a dead socket is dropped.

    In-process: the consoles of this service only. Several services share their updates through
    Redis (:class:`bot.handoff.console_bus.RedisConsoleHub`)."""

    def __init__(self) -> None:
        self._sockets: dict[web.WebSocketResponse, AgentAccount] = {}

    async def start(self) -> None:
        """Nothing to connect to in-process."""

    async def stop(self) -> None:
        """Nothing to disconnect in-process."""

    def add(self, ws: web.WebSocketResponse, agent: AgentAccount) -> None:
        self._sockets[ws] = agent

    def remove(self, ws: web.WebSocketResponse) -> None:
        self._sockets.pop(ws, None)

    def online_agents(self) -> set[str]:
        return {a.name for a in self._sockets.values()}

    def agents(self) -> list[AgentAccount]:
        return list({a.name: a for a in self._sockets.values()}.values())

    async def publish(self, conv: Any, payload: dict[str, Any], *, also: Topic | None = None,
                      withdraw: bool = False) -> None:
        """``payload`` to every console whose agent may see ``conv`` (:func:`may_see`); with
        ``withdraw``, the other agents of its queue (and of ``also``) hear only that it left
        their list. Other agents hear nothing of it."""
        sends: list[tuple[web.WebSocketResponse, dict[str, Any]]] = []
        for ws, acc in list(self._sockets.items()):
            if may_see(acc, conv):
                sends.append((ws, payload))
            elif withdraw and (acc.serves(conv.topic) or (also is not None and acc.serves(also))):
                sends.append((ws, {"type": "withdrawn", "conversation_id": conv.id}))
        if not sends:
            return
        results = await asyncio.gather(*(ws.send_json(body) for ws, body in sends), return_exceptions=True)
        for (ws, _body), result in zip(sends, results):
            if isinstance(result, Exception):
                logger.info("dropping a console socket: %s", result)
                self.remove(ws)

    async def close_agent(self, name: str) -> None:
        """Close every console of ``name`` (they logged out)."""
        for ws, acc in list(self._sockets.items()):
            if acc.name == name:
                await ws.close(code=4001, message=b"logged out")
                self.remove(ws)

    async def close_all(self) -> None:
        for ws in list(self._sockets):
            await ws.close(code=1001, message=b"server shutdown")
        self._sockets.clear()


@dataclass
class HandoffService:
    store: QueueStore
    rasa: RasaClient
    hub: ConsoleHub
    profiles: ProfileLookup
    config: HandoffConfig
    #: aware UTC now (tests pass a fixed clock to meet opening hours)
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    _position_dirty: set[Topic] = field(default_factory=set)
    _position_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    #: agent name -> the timer started when their last console went away
    _away_timers: dict[str, asyncio.Task[list[Conversation]]] = field(default_factory=dict)

    # -- reading --------------------------------------------------------------------------------

    def _visible(self, agent: AgentAccount, conv: Conversation) -> bool:
        return may_see(agent, conv)

    async def queue(self, agent: AgentAccount) -> list[dict[str, Any]]:
        now = utcnow()
        async with self.store.begin() as conn:
            convs = await self.store.list_active(conn)
        return [c.to_json(now) for c in convs if self._visible(agent, c)]

    async def detail(self, agent: AgentAccount, conv_id: int) -> dict[str, Any]:
        """Everything on one screen: conversation, reason, profile summary, transcript, notes."""
        async with self.store.begin() as conn:
            conv = await self.store.get(conn, conv_id)
            if not self._visible(agent, conv):
                raise Forbidden("this conversation is not yours: it is in a queue you don't serve or with another agent")
            local = await self.store.messages(conn, conv_id)
        transcript, source, warning = await self._transcript(conv, local)
        profile = await self.profiles.summary(conv.customer_id)
        return {
            "conversation": conv.to_json(utcnow()),
            "reason": conv.reason,
            "profile": profile,
            "transcript": transcript,
            "transcript_source": source,
            "transcript_warning": warning,
            "notes": [m.to_json() for m in local if m.kind in (MessageKind.NOTE, MessageKind.SYSTEM)],
        }

    async def _transcript(
        self, conv: Conversation, local: list[Message]
    ) -> tuple[list[dict[str, Any]], str, str | None]:
        """The full history from the Rasa tracker; the locally recorded part if Rasa is down."""
        try:
            tracker = await self.rasa.tracker(conv.sender_id)
            return tracker_transcript(tracker.get("events") or []), "rasa", None
        except RasaAPIError as exc:
            lines = [
                {"kind": m.kind.value, "text": m.text, "author": m.author, "time": m.created_at.isoformat() + "Z"}
                for m in local
                if m.kind in (MessageKind.CUSTOMER, MessageKind.BOT, MessageKind.AGENT)
            ]
            warning = f"Showing only the messages since the handoff: {exc}"
            return lines, "handoff", warning

    # -- agent actions ----------------------------------------------------------------------------

    async def accept(self, agent: AgentAccount, conv_id: int) -> Conversation:
        async with self.store.begin() as conn:
            conv = await self.store.accept(conn, conv_id, agent.name, agent.skills)
        await self._after_change(conv)
        if conv.mode is Mode.CHAT:
            try:
                await self.rasa.send_bot_message(conv.sender_id, texts.agent_joined(agent.name), agent=agent.name)
            except RasaAPIError as exc:  # accepted anyway; the agent sees the warning
                logger.warning("could not greet %s: %s", conv.sender_id, exc)
        return conv

    async def claim_next(self, agent: AgentAccount) -> Conversation | None:
        async with self.store.begin() as conn:
            conv = await self.store.claim_next(conn, agent.name, agent.skills)
        if conv is not None:
            await self._after_change(conv)
            if conv.mode is Mode.CHAT:
                try:
                    await self.rasa.send_bot_message(conv.sender_id, texts.agent_joined(agent.name), agent=agent.name)
                except RasaAPIError as exc:
                    logger.warning("could not greet %s: %s", conv.sender_id, exc)
        return conv

    async def reply(self, agent: AgentAccount, conv_id: int, text: str) -> None:
        """Send through Rasa; the broker brings it back into the transcript (one source of truth)."""
        text = self._clean_text(text)
        conv = await self._owned(agent, conv_id)
        await self.rasa.send_bot_message(conv.sender_id, text, agent=agent.name)
        async with self.store.begin() as conn:
            await self.store.mark_read(conn, conv_id)

    async def typing(self, agent: AgentAccount, conv_id: int, on: bool) -> None:
        """The agent is typing in the console: the customer's widget shows it. Only the owner of
        an assigned chat conversation; a typing indicator that cannot be shown is not an error."""
        conv = await self._owned(agent, conv_id)
        if conv.mode is not Mode.CHAT:
            return
        try:
            await self.rasa.typing(conv.sender_id, on, agent.name)
        except RasaAPIError as exc:
            logger.info("typing indicator for %s not shown: %s", conv.sender_id, exc)

    async def note(self, agent: AgentAccount, conv_id: int, text: str) -> Message:
        text = self._clean_text(text)
        async with self.store.begin() as conn:
            conv = await self.store.get(conn, conv_id)
            if not self._visible(agent, conv):
                raise Forbidden("this conversation is not yours: it is in a queue you don't serve or with another agent")
            msg = await self.store.add_message(conn, conv_id, MessageKind.NOTE, text, agent.name)
        await self.hub.publish(conv, {"type": "message", "conversation_id": conv_id, "message": msg.to_json()})
        return msg

    async def transfer(self, agent: AgentAccount, conv_id: int, topic_value: str) -> Conversation:
        try:
            topic = Topic(topic_value)
        except ValueError as exc:
            raise BadRequest(f"unknown queue {topic_value!r}; use one of {[t.value for t in Topic]}") from exc
        async with self.store.begin() as conn:
            before = await self.store.get(conn, conv_id)
            conv = await self.store.transfer(conn, conv_id, agent.name, topic)
        await self._after_change(conv, also=before.topic)
        if conv.mode is Mode.CHAT:
            try:
                await self.rasa.send_bot_message(conv.sender_id, texts.transferred(agent.name, topic), agent=agent.name)
            except RasaAPIError as exc:
                logger.warning("could not tell %s about the transfer: %s", conv.sender_id, exc)
        return conv

    async def hand_back(self, agent: AgentAccount, conv_id: int) -> Conversation:
        conv = await self._owned(agent, conv_id)
        if conv.mode is Mode.CHAT:
            await self.rasa.resume(conv.sender_id, texts.handed_back(agent.name), list(HANDOFF_SLOTS))
        async with self.store.begin() as conn:
            conv = await self.store.finish(conn, conv_id, agent.name, Status.HANDED_BACK, "handed_back")
        await self._after_change(conv)
        return conv

    async def close(self, agent: AgentAccount, conv_id: int, disposition: str) -> Conversation:
        try:
            disp = Disposition(disposition)
        except ValueError as exc:
            raise BadRequest(f"unknown disposition {disposition!r}; use one of {[d.value for d in Disposition]}") from exc
        conv = await self._owned(agent, conv_id)
        if conv.mode is Mode.CHAT:
            await self.rasa.resume(conv.sender_id, texts.closed(agent.name), list(HANDOFF_SLOTS))
        async with self.store.begin() as conn:
            conv = await self.store.finish(conn, conv_id, agent.name, Status.CLOSED, disp.value)
        await self._after_change(conv)
        return conv

    async def _owned(self, agent: AgentAccount, conv_id: int) -> Conversation:
        async with self.store.begin() as conn:
            conv = await self.store.get(conn, conv_id)
        if conv.status is not Status.ASSIGNED:
            raise Conflict(f"conversation {conv_id} is {conv.status.value}; accept it first")
        if conv.agent != agent.name:
            raise Forbidden(f"conversation {conv_id} belongs to {conv.agent}")
        return conv

    def _clean_text(self, text: object) -> str:
        if not isinstance(text, str) or not text.strip():
            raise BadRequest("text must be a non-empty string")
        if len(text) > self.config.max_text_chars:
            raise BadRequest(f"text is longer than {self.config.max_text_chars} characters")
        return text.strip()

    # -- agents whose console went away -----------------------------------------------------------

    def console_back(self, agent_name: str) -> None:
        """The agent has a console again: whatever they had stays theirs."""
        timer = self._away_timers.pop(agent_name, None)
        if timer is not None:
            timer.cancel()

    def console_gone(self, agent_name: str) -> None:
        """The agent's last console on this service closed: unless one comes back within
        ``agent_away_s``, here or on another handoff service (the presence every service
        refreshes each heartbeat), their assigned conversations go back to the queue
        (:meth:`agent_away`)."""
        self.console_back(agent_name)

        async def later() -> list[Conversation]:
            await asyncio.sleep(self.config.agent_away_s)
            if agent_name in self.hub.online_agents():
                return []
            async with self.store.begin() as conn:
                elsewhere = await self.store.agent_online(conn, agent_name, self.config.presence_ttl_s)
            if elsewhere:
                logger.info("%s's console closed here but is open on another handoff service", agent_name)
                self._away_timers.pop(agent_name, None)
                return []
            self._away_timers.pop(agent_name, None)
            return await self.agent_away(agent_name)

        self._away_timers[agent_name] = asyncio.create_task(later(), name=f"handoff-away-{agent_name}")

    async def agent_away(self, agent_name: str, logged_out: bool = False) -> list[Conversation]:
        """Put ``agent_name``'s assigned conversations back at the front of their queues and tell
        each chat customer (through Rasa, like an agent's message): the agent's console went
        away, or with ``logged_out`` the agent logged out."""
        why = "logged out" if logged_out else "console disconnected"
        async with self.store.begin() as conn:
            moved = await self.store.requeue_agent(conn, agent_name, why)
        tell = texts.agent_left if logged_out else texts.agent_away
        for conv in moved:
            logger.info("conversation %s back in the %s queue: %s %s", conv.id, conv.topic.value, agent_name, why)
            await self._after_change(conv)
            if conv.mode is Mode.CHAT:
                try:
                    await self.rasa.send_bot_message(conv.sender_id, tell(agent_name, conv.topic), extra={"handoff": True})
                except RasaAPIError as exc:
                    logger.error("could not tell %s their agent left: %s", conv.sender_id, exc)
        return moved

    async def agent_logged_out(self, agent_name: str) -> list[Conversation]:
        """The agent logged out: their conversations go back to the queue now, not after
        ``agent_away_s`` (they are not coming back to them)."""
        self.console_back(agent_name)  # no away timer: this is the agent going, at once
        return await self.agent_away(agent_name, logged_out=True)

    async def cancel_away_timers(self) -> None:
        timers, self._away_timers = list(self._away_timers.values()), {}
        for timer in timers:
            timer.cancel()
        await asyncio.gather(*timers, return_exceptions=True)

    async def agent_seen(self, agent: AgentAccount, online: bool = True) -> None:
        async with self.store.begin() as conn:
            await self.store.agent_seen(conn, agent.name, agent.skills, online)

    # -- broker events ----------------------------------------------------------------------------

    async def apply_events(
        self, conn: AsyncConnection, events: list[tuple[int, str, dict[str, Any]]]
    ) -> list[Notify]:
        """Apply a batch of Rasa events (id, sender, event) inside the consumer's transaction;
        return what to do after commit. One read covers the whole batch's conversations."""
        senders = {sender for _id, sender, _ev in events}
        handoff_ids = {
            str(ev["value"].get("handoff_id"))
            for _id, _sender, ev in events
            if ev.get("event") == "slot" and isinstance(ev.get("value"), dict) and ev["value"].get("handoff_id")
        }
        known = await self.store.batch_view(conn, senders, handoff_ids)
        # the profiles of customers whose request is new to the queue, read before any write
        customers = {
            str(ev["value"]["customer_id"])
            for _id, _sender, ev in events
            if ev.get("event") == "slot" and isinstance(ev.get("value"), dict) and ev["value"].get("customer_id")
            and str(ev["value"].get("handoff_id")) not in known.by_handoff_id
        }
        traits = {customer_id: await self.profiles.traits(customer_id) for customer_id in sorted(customers)}
        after: list[Notify] = []
        for event_id, sender_id, event in events:
            after += await self.apply_event(conn, event_id, sender_id, event, known=known, traits=traits)
        return after

    async def apply_event(
        self,
        conn: AsyncConnection,
        event_id: int,
        sender_id: str,
        event: dict[str, Any],
        *,
        known: BatchView | None = None,
        traits: dict[str, CustomerTraits | None] | None = None,
    ) -> list[Notify]:
        """Apply one Rasa event inside the consumer's transaction; return what to do after commit."""
        kind = event.get("event")
        after: list[Notify] = []
        if known is None:
            known = await self.store.batch_view(conn, {sender_id})
        if kind == "slot" and event.get("name") == "handoff_request" and isinstance(event.get("value"), dict):
            try:
                req = HandoffRequest.from_slot(event["value"], sender_id)
            except (ValueError, TypeError) as exc:
                logger.error("event %s: malformed handoff_request slot ignored: %s", event_id, exc)
                return after
            queued_before = known.by_handoff_id.get(req.handoff_id)
            if queued_before is None and req.customer_id:
                if traits is not None and req.customer_id in traits:
                    found = traits[req.customer_id]
                else:
                    found = await self.profiles.traits(req.customer_id)
                req = _with_traits(req, found)
            conv, created = await self.store.enqueue(conn, req, known=known, event_id=event_id)
            if created:
                logger.info("queued %s (%s) as conversation %s", sender_id, conv.topic.value, conv.id)
            if queued_before is None:  # new, or the customer asked again (a timeline line was added)
                after.append(lambda conv=conv: self._after_change(conv, fresh=conv))
            return after
        if kind not in ("user", "bot", "resume", "restart", "session_started"):
            return after
        conv = known.active.get(sender_id)
        if conv is None or conv.request_event_id is None:
            return after  # no handoff, or only from the intake call so far: these events came before the request
        if kind == "user":
            text = str(event.get("text") or "")
            choice = _alternative_choice(event, conv)
            msg = await self.store.add_message(conn, conv.id, MessageKind.CUSTOMER, text, None, event_id=event_id)
            after.append(lambda m=msg, c=conv: self._publish_message(c, m))
            if choice is not None:
                await self.store.set_mode(conn, conv.id, choice)
                known.remember(replace(conv, mode=choice))
                await self.store.add_message(conn, conv.id, MessageKind.SYSTEM, f"Customer chose: {choice.value}")
                after.append(lambda c=conv, ch=choice: self._confirm_alternative(c, ch))
        elif kind == "bot":
            meta = event.get("metadata") or {}
            agent = meta.get("agent")
            msg = await self.store.add_message(
                conn,
                conv.id,
                MessageKind.AGENT if agent else MessageKind.BOT,
                str(event.get("text") or ""),
                agent,
                event_id=event_id,
            )
            after.append(lambda m=msg, c=conv: self._publish_message(c, m))
        elif kind in ("resume", "restart", "session_started") and conv.status is Status.WAITING and conv.mode is Mode.CHAT:
            # the bot took over without an agent (an operator resumed it, or the customer restarted)
            await self.store.close_unassigned(conn, conv.id, f"bot_{kind}")
            known.remember(replace(conv, status=Status.CLOSED))
            after.append(lambda c=conv: self._after_change(c))
        return after

    async def intake(self, req: HandoffRequest) -> IntakeAnswer:
        """``action_handoff``'s request: queue it (priority from the customer's profile) and
        answer with the position, the wait and whether we are open, for the customer.

        Idempotent with the broker event that carries the same request (same ``handoff_id``); a
        customer who is already waiting keeps their conversation (the broker event adds the new
        reason to its timeline)."""
        if req.customer_id:
            req = _with_traits(req, await self.profiles.traits(req.customer_id))
        now = self.clock()
        hours = self.config.hours
        open_now = hours.is_open(now)
        for attempt in (1, 2):
            try:
                async with self.store.begin() as conn:
                    conv, created = await self.store.enqueue(conn, req, only_new=True)
                    position, wait = await self._estimate(conn, conv)
                    if not open_now:
                        wait = None
                    if created:
                        await self.store.record_told(conn, conv.id, position, wait)
                break
            except IntegrityError:  # the broker event created it at the same moment (PostgreSQL)
                if attempt == 2:
                    raise
        if created:
            logger.info("queued %s (%s) as conversation %s (intake)", req.sender_id, conv.topic.value, conv.id)
            await self._after_change(conv)
        return IntakeAnswer(
            conversation_id=conv.id,
            created=created,
            topic=conv.topic,
            position=position,
            wait_s=wait,
            open_now=open_now,
            next_opening=None if open_now else hours.next_opening(now),
            hours=hours.describe(),
        )

    async def _estimate(self, conn: AsyncConnection, conv: Conversation) -> tuple[int, int | None]:
        if conv.status is not Status.WAITING:
            return 1, 0  # an agent already has it
        position, wait, _agents = await estimate_for(
            self.store, conn, conv.topic, conv.sort_key, exclude_id=conv.id,
            presence_ttl_s=self.config.presence_ttl_s, default_handle_s=self.config.default_handle_s,
        )
        return position, wait

    async def _publish_message(self, conv: Conversation, msg: Message) -> None:
        payload = {"type": "message", "conversation_id": conv.id, "message": msg.to_json()}
        await self.hub.publish(conv, payload)

    async def _confirm_alternative(self, conv: Conversation, choice: Mode) -> None:
        identified = bool(conv.customer_id)
        text = texts.callback_confirmed(identified) if choice is Mode.CALLBACK else texts.email_confirmed(identified)
        try:
            await self.rasa.resume(conv.sender_id, text, ["handoff_request"])
        except RasaAPIError as exc:
            logger.error("could not confirm the %s for %s: %s", choice.value, conv.sender_id, exc)
        async with self.store.begin() as conn:
            fresh = await self.store.get(conn, conv.id)
        await self._after_change(fresh)

    async def _after_change(
        self, conv: Conversation, also: Topic | None = None, fresh: Conversation | None = None
    ) -> None:
        if fresh is None:
            async with self.store.begin() as conn:
                fresh = await self.store.get(conn, conv.id)
        await self.hub.publish(fresh, {"type": "conversation", "conversation": fresh.to_json(utcnow())},
                               also=also if also is not fresh.topic else None, withdraw=True)
        self._position_dirty.add(fresh.topic)
        self._position_wakeup.set()

    # -- queue-position updates -------------------------------------------------------------------

    async def position_updates_forever(self, stop: asyncio.Event | None = None) -> None:
        """Tell waiting chat customers when their position improved (rate-limited per customer)."""
        stop = stop or asyncio.Event()
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                wakeup = asyncio.ensure_future(self._position_wakeup.wait())
                await asyncio.wait({wakeup, stopping}, return_when=asyncio.FIRST_COMPLETED)
                wakeup.cancel()
                if stop.is_set():
                    return
                self._position_wakeup.clear()
                await self._push_dirty()
                await asyncio.sleep(0.2)  # coalesce bursts
        finally:
            stopping.cancel()

    async def _push_dirty(self) -> None:
        topics, self._position_dirty = self._position_dirty, set()
        for topic in topics:
            try:
                await self.push_positions(topic)
            except Exception:  # noqa: BLE001 - keep the loop alive; the next change retries
                logger.exception("position updates for %s failed", topic.value)

    async def push_positions(self, topic: Topic) -> int:
        """One pass over ``topic``'s queue; agents and handle time are read once for all."""
        sent = 0
        now = utcnow()
        async with self.store.begin() as conn:
            keys = await self.store.waiting_keys(conn, topic)
            if not keys:
                return 0
            agents, busy = await self.store.agents_for(conn, topic, self.config.presence_ttl_s)
            if not agents:
                return 0  # nobody to move the queue: no news to give
            handle = routing.typical_handle_s(await self.store.recent_handle_s(conn, topic),
                                              self.config.default_handle_s)
            told = await self.store.positions_told(conn, [conv_id for conv_id, _ in keys])
            plans = []
            for index, (conv_id, _key) in enumerate(keys):
                position = index + 1
                told_position, told_at, sender_id, mode = told[conv_id]
                due = told_at is None or (now - told_at).total_seconds() >= self.config.position_update_s
                if mode == Mode.CHAT.value and told_position is not None and position < told_position and due:
                    wait = routing.estimate_wait_s(position, agents, handle, busy)
                    if wait is not None:
                        plans.append((conv_id, sender_id, position, wait))
        for conv_id, sender_id, position, eta in plans:
            try:
                await self.rasa.send_bot_message(sender_id, texts.position_update(topic, position, eta))
            except RasaAPIError as exc:
                logger.warning("position update for %s not delivered: %s", sender_id, exc)
                continue
            async with self.store.begin() as conn:
                await self.store.mark_position_told(conn, conv_id, position)
            sent += 1
        return sent


def _with_traits(req: HandoffRequest, traits: CustomerTraits | None) -> HandoffRequest:
    """The request with what the profile says about the customer (the store derives priority)."""
    if traits is None:
        return req
    return replace(req, customer_name=traits.name, segments=traits.segments, flags=traits.flags)


def _alternative_choice(event: dict[str, Any], conv: Conversation) -> Mode | None:
    """A callback or e-mail choice, only where it was offered (buttons or the plain words)."""
    if not conv.alternatives_offered or conv.status is not Status.WAITING or conv.mode is not Mode.CHAT:
        return None
    text = " ".join(str(event.get("text") or "").strip().lower().rstrip(".!").split())
    if text in CALLBACK_WORDS:
        return Mode.CALLBACK
    if text in EMAIL_WORDS:
        return Mode.EMAIL
    return None


CALLBACK_WORDS = {
    texts.CALLBACK_PAYLOAD.lower(), "callback", "call back", "a callback", "call me", "call me back",
    "please call me back", "phone me", "ring me",
}
EMAIL_WORDS = {
    texts.EMAIL_PAYLOAD.lower(), "email", "e-mail", "by email", "by e-mail", "email me", "e-mail me",
    "answer by e-mail", "answer by email", "answer me by email", "email please", "e-mail please",
}


def tracker_transcript(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """User and bot lines of a Rasa tracker, oldest first, with who said them."""
    lines = []
    for ev in events:
        kind = ev.get("event")
        if kind not in ("user", "bot") or not ev.get("text"):
            continue
        ts = ev.get("timestamp")
        when = datetime.fromtimestamp(ts, tz=timezone.utc).isoformat() if isinstance(ts, (int, float)) else None
        if kind == "user":
            intent = ((ev.get("parse_data") or {}).get("intent") or {}).get("name")
            lines.append({"kind": "customer", "text": ev["text"], "author": None, "time": when, "intent": intent})
        else:
            agent = (ev.get("metadata") or {}).get("agent")
            lines.append({"kind": "agent" if agent else "bot", "text": ev["text"], "author": agent, "time": when})
    return lines

