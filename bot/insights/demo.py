"""Demo conversations for the supervisor view: ``python -m bot insights demo``.

A seeded set of realistic conversations is replayed through the running product, the way
customers and agents would produce them: every customer message goes through Rasa's REST
channel (NLU, the policies, the action server, the event broker), every agent step through the
handoff service's agent API (log in, accept, reply, hand back, close), ratings through the
widget's rating endpoint, a customer who leaves through Rasa's own restart event. Nothing is
written into the reporting tables: the insights consumer finds it all in the broker and the
queue, as it finds real traffic.

**Dates.** Rasa stamps each event when it happens, and the queue does the same, so the
conversations are dated when they are replayed (today). Rasa's tracker API would accept events
with invented timestamps, but only by skipping NLU and the policies, which is what this replay is
meant to exercise, so that is not done: the daily plots show the replay's day only.

**Idempotent.** Sender ids are fixed by the seed (``demo-<seed>-0001``...). Each one is written to
``var/insights_demo.json`` before its conversation starts; a later run skips every sender there,
so a second run adds nothing, and a run stopped midway leaves that conversation as it was.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import aiohttp

from bot.channels import session_token
from bot.security import open_private
from bot.settings import Settings

logger = logging.getLogger(__name__)

SEED = 14
DEFAULT_COUNT = 300

#: what customers ask the bot and it answers on its own (one of these, sometimes two)
QUESTIONS = (
    "where is my order?", "how long does delivery take?", "what payment methods do you accept?",
    "can I change my delivery address?", "what is your refund policy?", "how do I reset my password?",
    "is there a fee if I cancel my order?", "how can I get a copy of my invoice?", "do you deliver abroad?",
    "how do I create an account?", "how do I unsubscribe from the newsletter?",
    "where is my refund?", "I'd like to change my order", "I forgot my password",
)
OPENINGS = ("hi", "hello", "hey there", "good morning", "hi, I need some help")
CLOSINGS = ("thanks", "thank you, bye", "great, thanks!", "bye")
#: messages the bot is not meant to understand (NLU files most under out_of_scope, some fall back),
#: and questions outside what a shop helps with: both reach the inbox
NOT_UNDERSTOOD = ("asdf qwerty", "the blue one from before, the zibble", "hmm ok so the thing with the stuff",
                  "xkcd 927 lol", "?? again")
OUT_OF_SCOPE = ("what's the weather like in Paris tomorrow?", "who won the football last night?",
                "can you book me a table for two tonight?", "what is the capital of Australia?")
ASK_PERSON = ("I want to talk to a person", "can I speak to a human please", "agent please",
              "I would like to speak to an agent")
TO_AGENT = ("my parcel says delivered but it isn't here", "I was charged twice for order 4000000201",
            "the item arrived broken", "I need to change the address on an order that has shipped")
AGENT_LINES = ("Hello, I'm looking into this for you now.", "Thanks for waiting, I can see the order here.",
               "I've sorted that out for you; you'll get an e-mail confirmation shortly.",
               "Is there anything else I can help with?")
#: a demo customer of the profile store (bot/profile/README.md) asking for an invoice copy: a
#: process request the bot records. She is signed in, as on the demo shop (a typed e-mail address
#: would only claim her account and wait for a one-time code)
PROCESS = ("hi", "please email me a copy of invoice INV-0000002")
PROCESS_CUSTOMER = "amelia"
COMMENTS = ("quick and friendly", "took a while but solved", "still not sure it's fixed", "great help, thanks",
            "the bot should have known this")

#: how the agent side of a handoff goes (weights over a few hundred conversations)
SERVED, HANDED_BACK, LEFT, NO_RESPONSE = "served", "handed_back", "left", "no_response"


@dataclass(frozen=True)
class Plan:
    """One demo conversation: what the customer says to the bot, and what happens after a
    handoff (``outcome`` None: the bot handles it alone)."""

    sender: str
    to_bot: tuple[str, ...]
    outcome: str | None = None
    agent: str = "alice"
    wait_s: float = 0.0
    to_agent: tuple[str, ...] = ()
    agent_lines: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    rating: int | None = None
    comment: str | None = None
    #: the process request the bot should record on the way (its kind)
    request: str | None = None


def plans(count: int = DEFAULT_COUNT, seed: int = SEED) -> list[Plan]:
    """``count`` conversations, the same for the same seed: about 57% handled by the bot (some
    with a message it does not understand or one out of scope), 5% asking for an invoice copy (a
    process request), 38% reaching a person (served, handed back to the bot, left while queued,
    or gone silent once served); 60% of those an agent closed rate the chat (the widget offers
    it then), some with a comment."""
    rnd = random.Random(seed)
    out = []
    for i in range(1, count + 1):
        sender = f"demo-{seed}-{i:04d}"
        to_bot = [rnd.choice(OPENINGS)] if rnd.random() < 0.7 else []
        to_bot += rnd.sample(QUESTIONS, rnd.choice((1, 1, 2)))
        if rnd.random() < 0.15:
            to_bot.insert(rnd.randrange(len(to_bot) + 1), rnd.choice(NOT_UNDERSTOOD))
        if rnd.random() < 0.08:
            to_bot.append(rnd.choice(OUT_OF_SCOPE))
        if rnd.random() < 0.05:
            out.append(Plan(sender, (*PROCESS, rnd.choice(CLOSINGS)), request="invoice_copy"))
            continue
        if rnd.random() >= 0.4:
            out.append(Plan(sender, tuple(to_bot + [rnd.choice(CLOSINGS)])))
            continue
        to_bot.append(rnd.choice(ASK_PERSON))
        outcome = rnd.choices((SERVED, HANDED_BACK, LEFT, NO_RESPONSE), (60, 20, 12, 8))[0]
        rated = outcome == SERVED and rnd.random() < 0.6  # the widget offers a rating once an agent closed
        out.append(Plan(
            sender, tuple(to_bot), outcome, agent=rnd.choice(("alice", "bob")), wait_s=round(rnd.uniform(1, 20), 1),
            to_agent=(rnd.choice(TO_AGENT),) if outcome != NO_RESPONSE else (),
            agent_lines=tuple(rnd.sample(AGENT_LINES, rnd.choice((1, 2, 3)))),
            after=(rnd.choice(QUESTIONS), rnd.choice(CLOSINGS)) if outcome == HANDED_BACK else (),
            rating=rnd.choices((1, 2, 3, 4, 5), (5, 7, 15, 33, 40))[0] if rated else None,
            comment=rnd.choice(COMMENTS) if rated and rnd.random() < 0.4 else None,
        ))
    return out


@dataclass
class Tally:
    """What the replay did, as the report should count it."""

    conversations: int = 0
    skipped: int = 0
    handoffs: int = 0
    accepted: int = 0
    abandoned: int = 0
    handed_back: int = 0
    bot_turns: int = 0
    ratings: dict[int, int] = field(default_factory=dict)
    commented: int = 0
    requests: dict[str, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"conversations": self.conversations, "skipped": self.skipped, "handoffs": self.handoffs,
                "accepted": self.accepted, "abandoned": self.abandoned, "handed_back": self.handed_back,
                "user_turns": self.bot_turns, "rated": sum(self.ratings.values()),
                "ratings": {str(k): v for k, v in sorted(self.ratings.items())}, "rated_with_comment": self.commented,
                "requests_by_type": dict(sorted(self.requests.items())), "failed": self.failed}


class DemoError(RuntimeError):
    """The product did not answer as a replay needs (not running, refused a login...)."""


class Replay:
    """Replays plans against a running stack (``settings``' URLs); see the module's docstring."""

    def __init__(self, settings: Settings, *, agents: dict[str, str] | None = None, concurrency: int = 4,
                 record: Path | None = None, queue_timeout_s: float = 30.0) -> None:
        self.settings = settings
        self.agents = agents or {"alice": "alice", "bob": "bob"}
        self.concurrency = concurrency
        self.record = record or settings.var_dir / "insights_demo.json"
        self.queue_timeout_s = queue_timeout_s
        self.tally = Tally()
        self._tokens: dict[str, str] = {}
        self._done: set[str] = set()
        self._lock = asyncio.Lock()
        self._secret = session_token.session_secret(var_dir=settings.var_dir)

    def _load_record(self) -> set[str]:
        try:
            data = json.loads(self.record.read_text())
        except FileNotFoundError:
            return set()
        except ValueError as exc:
            raise DemoError(f"{self.record} is not the demo's record (not JSON): move it away to replay") from exc
        return set(data.get("senders") or ())

    async def _remember(self, sender: str) -> None:
        async with self._lock:
            self._done.add(sender)
            tmp = self.record.with_suffix(".tmp")
            with open_private(tmp, "w") as fh:
                json.dump({"senders": sorted(self._done)}, fh)
            os.replace(tmp, self.record)

    async def run(self, todo: Iterable[Plan]) -> Tally:
        self._done = self._load_record()
        todo = list(todo)
        pending = [p for p in todo if p.sender not in self._done]
        self.tally.skipped = len(todo) - len(pending)
        if not pending:
            return self.tally
        gate = asyncio.Semaphore(self.concurrency)
        timeout = aiohttp.ClientTimeout(total=120)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            for name, password in self.agents.items():
                self._tokens[name] = await self._login(http, name, password)

            async def one(plan: Plan) -> None:
                async with gate:
                    await self._remember(plan.sender)  # before it starts: never replayed twice
                    try:
                        await self.conversation(http, plan)
                    except (aiohttp.ClientError, asyncio.TimeoutError, DemoError) as exc:
                        logger.error("demo conversation %s failed: %s", plan.sender, exc)
                        self.tally.failed.append(plan.sender)

            await asyncio.gather(*(one(p) for p in pending))
        return self.tally

    # -- one conversation ---------------------------------------------------------------------

    async def conversation(self, http: aiohttp.ClientSession, plan: Plan) -> None:
        metadata = self._signed_in(PROCESS_CUSTOMER) if plan.request else None
        for text in plan.to_bot:
            await self._say(http, plan.sender, text, metadata)
            self.tally.bot_turns += 1
        self.tally.conversations += 1
        if plan.request:
            self.tally.requests[plan.request] = self.tally.requests.get(plan.request, 0) + 1
        conv = await self._queued(http, plan.sender, wait=plan.outcome is not None)
        if conv is None:
            if plan.outcome is not None:
                logger.warning("demo %s: asked for a person but no handoff reached the queue", plan.sender)
            return
        self.tally.handoffs += 1
        outcome = plan.outcome or SERVED  # the policy handed off on its own: an agent serves it
        agent = self._tokens.get(plan.agent) or next(iter(self._tokens.values()))
        if outcome == LEFT:
            await asyncio.sleep(plan.wait_s)
            await self._restart(http, plan.sender)
            self.tally.abandoned += 1
            return
        await asyncio.sleep(plan.wait_s)
        await self._agent(http, agent, conv, "accept")
        self.tally.accepted += 1
        for line in plan.agent_lines[:1]:
            await self._agent(http, agent, conv, "reply", {"text": line})
        for text in plan.to_agent:
            await self._say(http, plan.sender, text)  # while an agent has it: not the bot's turn
        for line in plan.agent_lines[1:]:
            await self._agent(http, agent, conv, "reply", {"text": line})
        if outcome == NO_RESPONSE:
            await self._agent(http, agent, conv, "close", {"disposition": "no_response"})
            self.tally.abandoned += 1
            return
        if outcome == HANDED_BACK:
            await self._agent(http, agent, conv, "handback", {})
            self.tally.handed_back += 1
            for text in plan.after:
                await self._say(http, plan.sender, text)
                self.tally.bot_turns += 1
        else:
            await self._agent(http, agent, conv, "close", {"disposition": "resolved"})
        if plan.rating is not None:
            await self._rate(http, plan.sender, plan.rating, plan.comment)

    def _signed_in(self, login: str) -> dict[str, str]:
        """What the demo shop's back end gives a signed-in customer's widget: a signed identity."""
        from bot import identity_token
        from bot.handoff.customer import DEMO_CUSTOMERS

        customer = DEMO_CUSTOMERS[login]
        claims = {k: v for k, v in customer.items() if k != "subject"}
        secret = identity_token.identity_secret(self.settings.var_dir)
        return {"identity_token": identity_token.issue(secret, customer["subject"], **claims)}

    async def _say(self, http: aiohttp.ClientSession, sender: str, text: str,
                   metadata: dict[str, str] | None = None) -> None:
        body: dict[str, Any] = {"sender": sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        async with http.post(f"{self.settings.rasa_url}/webhooks/rest/webhook", json=body) as r:
            if r.status != 200:
                raise DemoError(f"Rasa answered {r.status} to {sender}: {(await r.text())[:200]}")

    async def _restart(self, http: aiohttp.ClientSession, sender: str) -> None:
        """The customer starts over while queued (what the widget's "new conversation" does)."""
        async with http.post(f"{self.settings.rasa_url}/conversations/{sender}/tracker/events",
                             params={"token": self.settings.rasa_token}, json={"event": "restart"}) as r:
            if r.status != 200:
                raise DemoError(f"Rasa refused the restart of {sender}: {r.status}")

    async def _login(self, http: aiohttp.ClientSession, name: str, password: str) -> str:
        async with http.post(f"{self.settings.handoff_url}/api/login", json={"name": name, "password": password}) as r:
            if r.status != 200:
                raise DemoError(f"the handoff service refused agent {name!r} ({r.status}): set the demo's agents "
                                "with --agent name:password")
            return str((await r.json())["token"])

    async def _queued(self, http: aiohttp.ClientSession, sender: str, *, wait: bool) -> dict[str, Any] | None:
        """The sender's open queue entry; when a handoff is expected, waited for a while."""
        deadline = time.monotonic() + (self.queue_timeout_s if wait else 0)
        headers = {"Authorization": f"Bearer {next(iter(self._tokens.values()))}"}
        while True:
            async with http.get(f"{self.settings.handoff_url}/api/queue", headers=headers) as r:
                if r.status != 200:
                    raise DemoError(f"the queue answered {r.status}")
                found = next((c for c in (await r.json())["conversations"] if c.get("sender_id") == sender), None)
            if found is not None or time.monotonic() >= deadline:
                return found
            await asyncio.sleep(0.5)

    async def _agent(self, http: aiohttp.ClientSession, token: str, conv: dict[str, Any], step: str,
                     body: dict[str, Any] | None = None) -> None:
        async with http.post(f"{self.settings.handoff_url}/api/conversations/{conv['id']}/{step}", json=body,
                             headers={"Authorization": f"Bearer {token}"}) as r:
            if r.status != 200:
                raise DemoError(f"{step} of conversation {conv['id']} answered {r.status}: {(await r.text())[:200]}")

    async def _rate(self, http: aiohttp.ClientSession, sender: str, rating: int, comment: str | None) -> None:
        token = session_token.issue(self._secret, sender, session_token.ANONYMOUS)
        body: dict[str, Any] = {"session_id": sender, "rating": rating}
        if comment:
            body["comment"] = comment
        async with http.post(f"{self.settings.handoff_url}/widget/api/rating", json=body,
                             headers={"Authorization": f"Bearer {token}"}) as r:
            if r.status != 200:
                raise DemoError(f"rating of {sender} answered {r.status}: {(await r.text())[:200]}")
        self.tally.ratings[rating] = self.tally.ratings.get(rating, 0) + 1
        self.tally.commented += bool(comment)
