"""The async profile repository the custom actions use.

Contract (see bot/profile/README.md): look a customer up by any identifier
and get a :class:`CustomerProfile`; record the few things the bot itself is
told (consent, feedback, erasure requests) in tandem's own ``tp_event``
table, and every process the bot starts for a customer (cancellation,
invoice copy, data export...) in ``tp_request`` (:meth:`ProfileRepository.record_request`). Every public method raises only :class:`ProfileError` subclasses:
``InvalidIdentifier``/``InvalidProfileInput`` for malformed input (before
touching the database), ``ProfileNotFound`` (incl. ``AmbiguousIdentifier``)
for no unique customer, ``ProfileStoreUnavailable`` when the database
fails, times out or has not been built.

Reads are two round trips: the identifier index (``tp_identifier``), then
one ``UNION ALL`` query that fetches every silo row of the person through
``tp_link`` (all indexed). Rows come back as text (one column layout for
all tables, PostgreSQL and SQLite alike) and are decoded by table.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import uuid
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Awaitable, Callable, TypeVar

from sqlalchemy import Boolean, Date, DateTime, Integer, String, and_, bindparam, cast, insert, literal_column, null, or_, select, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from bot.profile import schema
from bot.profile.assemble import DEFAULT_STALE_AFTER, PersonRecords, assemble, process_request
from bot.profile.errors import (
    AmbiguousIdentifier,
    InvalidProfileInput,
    ProfileError,
    ProfileNotFound,
    ProfileStoreUnavailable,
)
from bot.profile.identifiers import candidates, normalise_customer_id, normalise_order_id
from bot.profile.model import OPEN_REQUEST_STATES, REQUEST_STATES, CustomerProfile, ProcessRequest

logger = logging.getLogger(__name__)
T = TypeVar("T")

FEEDBACK_KINDS = ("complaint", "review")
MAX_TEXT = 5000
MAX_SOURCE = 40
MAX_CONVERSATION_ID = 120
MAX_DETAILS = 4000  # characters of the JSON text
#: processes of the catalogue (bot/processes/catalogue.yml) the bot can start for a customer
REQUEST_KINDS = frozenset(
    {
        "order_cancellation",
        "order_change",
        "address_change",
        "refund",
        "return",
        "invoice_copy",
        "payment_investigation",
        "account_deletion",
        "password_recovery",
        "data_export",
    }
)

# tables fetched per person, and how each reaches tp_link (system, key column)
_PERSON_TABLES: tuple[tuple[Any, str, str], ...] = (
    (schema.crm_contact, "crm", "id"),
    (schema.mkt_contact, "marketing", "id"),
    (schema.com_account, "commerce", "id"),
    (schema.com_order, "commerce", "account_id"),
    (schema.com_payment_method, "commerce", "account_id"),
    (schema.cc_conversation, "contact_centre", "id"),
    (schema.cc_flag, "contact_centre", "conversation_id"),
)
_ORDER_CHILDREN = (schema.com_order_line, schema.com_shipment, schema.com_return, schema.com_refund, schema.com_invoice)
_OWN_TABLES = (schema.tp_event, schema.tp_request)
_WIDTH = max(len(t.columns) for t in schema.SILO_TABLES + _OWN_TABLES)


def _decoder(column: Any) -> Callable[[str | None], Any]:
    kind = column.type
    if isinstance(kind, Boolean):
        return lambda v: None if v is None else v.lower() in ("1", "true", "t")
    if isinstance(kind, Integer):
        return lambda v: None if v is None else int(v)
    if isinstance(kind, DateTime):
        return _parse_datetime
    if isinstance(kind, Date):
        return lambda v: None if v is None else date.fromisoformat(v[:10])
    return lambda v: v


def _parse_datetime(value: str | None) -> datetime | None:
    if value is None:
        return None
    text = value.replace("T", " ")
    if "+" in text[10:]:
        text = text[: text.index("+", 10)]
    if "." in text:
        head, frac = text.split(".", 1)
        text = f"{head}.{(frac + '000000')[:6]}"
    return datetime.fromisoformat(text)


_DECODERS = {
    t.name: [(c.name, _decoder(c)) for c in t.columns] for t in schema.SILO_TABLES + _OWN_TABLES
}


def _padded(table: Any, owner: Any) -> list[Any]:
    cols = [cast(c, String).label(f"c{i}") for i, c in enumerate(table.columns)]
    cols += [cast(null(), String).label(f"c{i}") for i in range(len(cols), _WIDTH)]
    return [literal_column(f"'{table.name}'").label("t"), owner.label("owner"), *cols]


def _person_query(who: Callable[[Any], Any], extra: Any = None) -> Any:
    """All rows of the person(s) selected by ``who(customer_id_column)``, as text."""
    link = schema.tp_link
    parts = [] if extra is None else [extra]
    for table, system, key in _PERSON_TABLES:
        on = and_(link.c.system == literal_column(f"'{system}'"), link.c.record_id == table.c[key])
        parts.append(select(*_padded(table, link.c.customer_id)).select_from(table.join(link, on)).where(who(link.c.customer_id)))
    order = schema.com_order
    for child in _ORDER_CHILDREN:
        on = and_(link.c.system == literal_column("'commerce'"), link.c.record_id == order.c.account_id)
        parts.append(
            select(*_padded(child, link.c.customer_id))
            .select_from(child.join(order, child.c.order_id == order.c.id).join(link, on))
            .where(who(link.c.customer_id))
        )
    for own in _OWN_TABLES:
        parts.append(select(*_padded(own, own.c.customer_id)).where(who(own.c.customer_id)))
    return union_all(*parts)


_BY_ID_QUERY = _person_query(lambda col: col == bindparam("cid", type_=String))


@lru_cache(maxsize=8)
def _by_identifier_query(n_pairs: int) -> Any:
    """One statement for ``find``: the matching identifiers plus all rows of those customers."""
    ident = schema.tp_identifier
    cond = or_(*(and_(ident.c.kind == bindparam(f"k{i}", type_=String), ident.c.value == bindparam(f"v{i}", type_=String)) for i in range(n_pairs)))
    matches = select(ident.c.customer_id).where(cond)
    hits = select(
        literal_column("'tp_identifier'").label("t"),
        ident.c.customer_id.label("owner"),
        ident.c.kind.label("c0"),
        ident.c.value.label("c1"),
        *[cast(null(), String).label(f"c{i}") for i in range(2, _WIDTH)],
    ).where(cond)
    return _person_query(lambda col: col.in_(matches), extra=hits)


_SQLITE_CACHE: dict[int, tuple[str, tuple[str, ...]]] = {}


def _compiled_sqlite(stmt: Any) -> tuple[str, tuple[str, ...]]:
    """(SQL with ? placeholders, parameter names in order) for a cached read statement."""
    cached = _SQLITE_CACHE.get(id(stmt))
    if cached is None:
        from sqlalchemy.dialects import sqlite

        compiled = stmt.compile(dialect=sqlite.dialect())
        cached = _SQLITE_CACHE[id(stmt)] = (compiled.string, tuple(compiled.positiontup))
    return cached


class ProfileRepository:
    """Async access to unified profiles. ``engine`` must be an ``AsyncEngine``.

    ``timeout_s`` bounds every call (None = no bound); ``stale_after`` is the
    age after which a field is stale; ``clock`` returns naive-UTC "now"
    (tests and demos pass a fixed one).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        timeout_s: float | None = None,
        stale_after: timedelta = DEFAULT_STALE_AFTER,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if not isinstance(engine, AsyncEngine):
            raise TypeError("ProfileRepository needs an sqlalchemy AsyncEngine (create_async_engine(url, future=True))")
        self.engine = engine
        self.timeout_s = timeout_s
        self.stale_after = stale_after
        self.clock = clock or (lambda: datetime.utcnow().replace(microsecond=0))
        self._request_table_added = False

    @classmethod
    def from_url(cls, url: str, *, schema_name: str | None = None, **kwargs: Any) -> "ProfileRepository":
        """Create the engine too. ``schema_name``: PostgreSQL schema (search_path) to use."""
        return cls(create_engine_for(url, schema_name=schema_name), **kwargs)

    async def close(self) -> None:
        await self.engine.dispose()

    async def create_schema(self) -> None:
        """Create every table and index that does not exist yet (idempotent)."""

        async def work() -> None:
            async with self.engine.begin() as conn:
                await conn.run_sync(schema.metadata.create_all, checkfirst=True)

        await self._guard(work, "create the schema")

    # -- reads ------------------------------------------------------------------
    async def find(self, identifier: str, kind: str | None = None) -> CustomerProfile:
        """The profile of the one customer ``identifier`` belongs to."""
        pairs = candidates(identifier, kind)  # raises InvalidIdentifier before any I/O
        return await self._guard(lambda: self._with_request_table(lambda: self._find(pairs)), "look the customer up")

    async def resolve(self, identifier: str, kind: str | None = None) -> str:
        """Only the customer id of ``identifier`` (one indexed query)."""
        pairs = candidates(identifier, kind)

        async def work() -> str:
            async with self.engine.connect() as conn:
                return await self._customer_id(conn, pairs)

        return await self._guard(work, "look the customer up")

    async def get(self, customer_id: str) -> CustomerProfile:
        cid = normalise_customer_id(customer_id)

        async def work() -> CustomerProfile:
            async with self.engine.connect() as conn:
                return await self._load(conn, cid)

        return await self._guard(lambda: self._with_request_table(work), "load the profile")

    async def _find(self, pairs: list[tuple[str, str]]) -> CustomerProfile:
        params: dict[str, str] = {}
        for i, (k, v) in enumerate(pairs):
            params[f"k{i}"], params[f"v{i}"] = k, v
        async with self.engine.connect() as conn:
            rows = await self._rows(conn, _by_identifier_query(len(pairs)), params)
        hits = [(r[2], r[3], r[1]) for r in rows if r[0] == "tp_identifier"]
        cid = self._choose(pairs, hits)
        return self._assemble(cid, (r for r in rows if r[1] == cid and r[0] != "tp_identifier"))

    async def _customer_id(self, conn: Any, pairs: list[tuple[str, str]]) -> str:
        ident = schema.tp_identifier
        cond = or_(*(and_(ident.c.kind == k, ident.c.value == v) for k, v in pairs))
        rows = (await conn.execute(select(ident.c.kind, ident.c.value, ident.c.customer_id).where(cond).limit(20))).all()
        return self._choose(pairs, [tuple(r) for r in rows])

    @staticmethod
    def _choose(pairs: list[tuple[str, str]], hits: list[Any]) -> str:
        """The one customer the identifier hits point to, or ProfileNotFound/AmbiguousIdentifier."""
        kinds = ", ".join(dict.fromkeys(k.replace("_", " ") for k, _ in pairs))
        if not hits:
            raise ProfileNotFound(f"no customer with that {kinds}")
        by_pair: dict[tuple[str, str], list[str]] = {}
        for k, v, c in hits:
            by_pair.setdefault((k, v), []).append(c)
        # a channel id beats the phone it implies; other alternatives are equal
        first = pairs[0]
        if first[0] == "channel_id" and first in by_pair:
            found = list(dict.fromkeys(by_pair[first]))
        else:
            found = list(dict.fromkeys(c for cs in by_pair.values() for c in cs))
        if len(found) > 1:
            raise AmbiguousIdentifier(f"that {kinds} belongs to {len(found)} customers; ask for another identifier", len(found))
        return found[0]

    async def _load(self, conn: Any, cid: str) -> CustomerProfile:
        rows = await self._rows(conn, _BY_ID_QUERY, {"cid": cid})
        return self._assemble(cid, rows)

    async def _rows(self, conn: Any, stmt: Any, params: dict[str, str]) -> list[Any]:
        """Run a read statement; on aiosqlite in one hop to its worker thread.

        SQLAlchemy's aiosqlite adapter makes four or five thread round trips
        per statement (cursor, execute, fetch, close), each of which waits for
        the scheduler on a busy machine. ``aiosqlite.Connection.execute_fetchall``
        (public API, reached through the pool's ``driver_connection``) does
        the same work in one. The SQL is the same statement compiled once for
        SQLite; other dialects take the ordinary path.
        """
        if conn.dialect.name == "sqlite":
            raw = await conn.get_raw_connection()
            driver = getattr(raw, "driver_connection", None)
            if hasattr(driver, "execute_fetchall"):
                sql, names = _compiled_sqlite(stmt)
                return list(await driver.execute_fetchall(sql, tuple(params[n] for n in names)))
        return (await conn.execute(stmt, params)).all()

    def _assemble(self, cid: str, rows: Any) -> CustomerProfile:
        records = PersonRecords(cid)
        silo = False
        for row in rows:
            table = row[0]
            decoders = _DECODERS[table]
            records.rows[table].append({name: dec(row[i + 2]) for i, (name, dec) in enumerate(decoders)})
            silo = silo or table not in ("tp_event", "tp_request")
        if not silo:
            raise ProfileNotFound("no customer with that customer id")
        return assemble(records, self.clock(), self.stale_after)

    # -- writes (tandem's own table) ------------------------------------------------
    async def set_personalisation(self, customer_id: str, allowed: bool, source: str = "customer") -> None:
        """Record the customer's choice about personalisation (latest wins)."""
        await self._event(customer_id, "personalisation", allowed=_bool(allowed, "allowed"), source=_text(source, "source", MAX_SOURCE))

    async def set_marketing_consent(self, customer_id: str, allowed: bool, source: str = "customer") -> None:
        """Record marketing consent given or withdrawn through the bot (overrides older silo consent)."""
        await self._event(customer_id, "marketing", allowed=_bool(allowed, "allowed"), source=_text(source, "source", MAX_SOURCE))

    async def record_feedback(self, customer_id: str, kind: str, text: str, conversation_id: str | None = None) -> str:
        """Store a complaint (open until closed by an agent) or a review; returns the feedback id."""
        if kind not in FEEDBACK_KINDS:
            raise InvalidProfileInput(f"feedback kind must be one of {', '.join(FEEDBACK_KINDS)}")
        body = _text(text, "feedback text", MAX_TEXT)
        if not body.strip():
            raise InvalidProfileInput("feedback text is empty")
        status = "open" if kind == "complaint" else "closed"
        return await self._event(
            customer_id, kind, text=body, conversation_id=_optional_text(conversation_id, "conversation id", MAX_CONVERSATION_ID), status=status, prefix="FB"
        )

    async def request_erasure(self, customer_id: str, conversation_id: str | None = None) -> str:
        """Record a right-to-erasure request (handled by the data team); returns the request id."""
        return await self._event(
            customer_id,
            "erasure_request",
            conversation_id=_optional_text(conversation_id, "conversation id", MAX_CONVERSATION_ID),
            status="received",
            prefix="ER",
        )

    async def record_request(
        self,
        customer_id: str,
        kind: str,
        *,
        order_id: str | None = None,
        conversation_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> str:
        """Store that the bot started process ``kind`` for the customer; returns the request id.

        ``kind`` is a process key of the catalogue (:data:`REQUEST_KINDS`);
        ``order_id`` must be one of the customer's orders; ``details`` a small
        JSON object (what the team needs to act). The request starts in state
        ``requested``. Idempotent while the request is open: the same
        (customer, kind, order, conversation) returns the id of the open
        request, unchanged, so a retried action never creates a duplicate.
        """
        cid = normalise_customer_id(customer_id)
        if kind not in REQUEST_KINDS:
            raise InvalidProfileInput(f"request kind must be one of {', '.join(sorted(REQUEST_KINDS))}")
        order = None if order_id is None else normalise_order_id(_text(order_id, "order id", 40))
        conversation = _optional_text(conversation_id, "conversation id", MAX_CONVERSATION_ID)
        details_json = _details_json(details)
        key = hashlib.sha256("\x1f".join((cid, kind, order or "", conversation or "")).encode()).hexdigest()
        request_id = f"RQ-{time.time_ns():016x}{uuid.uuid4().hex[:8]}"
        req = schema.tp_request

        async def existing() -> str | None:
            async with self.engine.connect() as conn:
                return (await conn.execute(select(req.c.request_id).where(req.c.open_key == key))).scalar()

        async def work() -> str:
            async with self.engine.begin() as conn:
                await self._check_customer(conn, cid, order)
                found = (await conn.execute(select(req.c.request_id).where(req.c.open_key == key))).scalar()
                if found is not None:
                    return str(found)
                now = self.clock()
                await conn.execute(
                    insert(req).values(
                        request_id=request_id,
                        customer_id=cid,
                        kind=kind,
                        order_id=order,
                        conversation_id=conversation,
                        state="requested",
                        details=details_json,
                        open_key=key,
                        created_at=now,
                        updated_at=now,
                    )
                )
            return request_id

        async def idempotent() -> str:
            try:
                return await work()
            except IntegrityError:  # the same request was written concurrently: that one counts
                found = await existing()
                if found is None:
                    raise
                return found

        return await self._guard(lambda: self._with_request_table(idempotent), "record the request")

    async def open_requests(self, customer_id: str) -> tuple[ProcessRequest, ...]:
        """The customer's requests still to be acted on (state requested / in progress), oldest first."""
        cid = normalise_customer_id(customer_id)
        req = schema.tp_request

        async def work() -> tuple[ProcessRequest, ...]:
            async with self.engine.connect() as conn:
                await self._check_customer(conn, cid, None)
                rows = (
                    await conn.execute(
                        select(req)
                        .where(req.c.customer_id == cid, req.c.state.in_(sorted(OPEN_REQUEST_STATES)))
                        .order_by(req.c.created_at, req.c.request_id)
                    )
                ).mappings().all()
            return tuple(process_request(row) for row in rows)

        return await self._guard(lambda: self._with_request_table(work), "read the requests")

    async def update_request(self, request_id: str, state: str) -> None:
        """Move a request on (agents, back office). Closing it (done, rejected, withdrawn) lets the
        same request be made again later."""
        rid = _text(request_id, "request id", 40)
        if state not in REQUEST_STATES:
            raise InvalidProfileInput(f"request state must be one of {', '.join(sorted(REQUEST_STATES))}")
        req = schema.tp_request

        async def work() -> None:
            async with self.engine.begin() as conn:
                values: dict[str, Any] = {"state": state, "updated_at": self.clock()}
                if state not in OPEN_REQUEST_STATES:
                    values["open_key"] = None
                result = await conn.execute(update(req).where(req.c.request_id == rid).values(**values))
                if result.rowcount == 0:
                    raise ProfileNotFound("no request with that id")

        await self._guard(lambda: self._with_request_table(work), "update the request")

    async def _check_customer(self, conn: Any, cid: str, order_id: str | None) -> None:
        """ProfileNotFound unless the customer exists (and ``order_id`` is one of their orders)."""
        person = schema.tp_person
        if (await conn.execute(select(person.c.customer_id).where(person.c.customer_id == cid))).first() is None:
            raise ProfileNotFound("no customer with that customer id")
        if order_id is None:
            return
        order, link = schema.com_order, schema.tp_link
        on = and_(link.c.system == "commerce", link.c.record_id == order.c.account_id)
        owned = await conn.execute(
            select(order.c.id).select_from(order.join(link, on)).where(order.c.order_number == order_id, link.c.customer_id == cid)
        )
        if owned.first() is None:
            raise ProfileNotFound("no order with that number on the customer's account")

    async def _with_request_table(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run ``work``; on a store built before ``tp_request`` existed, add that table once and retry.

        The table is additive (nothing else changes), so an existing store keeps
        working without a rebuild. Any other failure goes to the caller's guard.
        """
        try:
            return await work()
        except Exception as exc:  # noqa: BLE001 - re-raised unless it is the missing table
            text = str(exc).lower()
            if self._request_table_added or "tp_request" not in text or ("no such table" not in text and "does not exist" not in text):
                raise
        async with self.engine.begin() as conn:
            if not await conn.run_sync(lambda sync: sync.dialect.has_table(sync, "tp_person")):
                raise ProfileStoreUnavailable("the profile store is not set up (run `python -m bot profile build`)")
            await conn.run_sync(schema.tp_request.create, checkfirst=True)
        self._request_table_added = True
        logger.info("added the tp_request table to an existing profile store")
        return await work()

    async def _event(self, customer_id: str, type_: str, *, prefix: str = "EV", **values: Any) -> str:
        cid = normalise_customer_id(customer_id)
        # time-ordered id: events of the same second keep their order (see assemble)
        event_id = f"{prefix}-{time.time_ns():016x}{uuid.uuid4().hex[:8]}"

        async def work() -> str:
            async with self.engine.begin() as conn:
                exists = (await conn.execute(select(schema.tp_person.c.customer_id).where(schema.tp_person.c.customer_id == cid))).first()
                if exists is None:
                    raise ProfileNotFound("no customer with that customer id")
                await conn.execute(
                    insert(schema.tp_event).values(event_id=event_id, customer_id=cid, type=type_, created_at=self.clock(), **values)
                )
            return event_id

        return await self._guard(work, "save to the profile store")

    # -- where identified customers talk to us ------------------------------------------
    async def record_conversation(self, customer_id: str, conversation_id: str, channel: str | None = None) -> None:
        """Remember that ``conversation_id`` (Rasa's sender id) belongs to the customer, on
        ``channel``, seen now: proactive follow-ups reach customers there."""
        cid = normalise_customer_id(customer_id)
        conv = _text(conversation_id, "conversation_id", 120)
        chan = None if channel is None else _text(channel, "channel", 32)
        table = schema.tp_conversation

        async def work() -> None:
            async with self.engine.begin() as conn:
                updated = await conn.execute(
                    table.update().where(table.c.conversation_id == conv)
                    .values(customer_id=cid, channel=chan, last_seen=self.clock())
                )
                if updated.rowcount == 0:
                    await conn.execute(
                        insert(table).values(conversation_id=conv, customer_id=cid, channel=chan, last_seen=self.clock())
                    )

        await self._guard(lambda: self._with_conversation_table(work), "remember the conversation")

    async def latest_conversations(self) -> dict[str, tuple[str, str | None, datetime]]:
        """``customer_id -> (conversation_id, channel, last seen)``, the most recent conversation
        of every customer the bot identified."""
        table = schema.tp_conversation

        async def work() -> dict[str, tuple[str, str | None, datetime]]:
            async with self.engine.connect() as conn:
                rows = (await conn.execute(
                    select(table.c.customer_id, table.c.conversation_id, table.c.channel, table.c.last_seen)
                    .order_by(table.c.last_seen, table.c.conversation_id)
                )).all()
            return {r.customer_id: (r.conversation_id, r.channel, r.last_seen) for r in rows}

        return await self._guard(lambda: self._with_conversation_table(work), "list the customers' conversations")

    async def _with_conversation_table(self, work: Callable[[], Awaitable[T]]) -> T:
        """Like :meth:`_with_request_table`: a store built before ``tp_conversation`` gets it once."""
        try:
            return await work()
        except Exception as exc:  # noqa: BLE001 - re-raised unless it is the missing table
            text = str(exc).lower()
            if "tp_conversation" not in text or ("no such table" not in text and "does not exist" not in text):
                raise
        async with self.engine.begin() as conn:
            if not await conn.run_sync(lambda sync: sync.dialect.has_table(sync, "tp_person")):
                raise ProfileStoreUnavailable("the profile store is not set up (run `python -m bot profile build`)")
            await conn.run_sync(schema.tp_conversation.create, checkfirst=True)
        logger.info("added the tp_conversation table to an existing profile store")
        return await work()

    # -- error boundary ---------------------------------------------------------------
    async def _guard(self, work: Callable[[], Awaitable[T]], what: str) -> T:
        try:
            if self.timeout_s is None:
                return await work()
            return await asyncio.wait_for(work(), self.timeout_s)
        except ProfileError:
            raise
        except asyncio.TimeoutError:
            logger.warning("profile store did not answer within %.1fs (%s)", self.timeout_s, what)
            raise ProfileStoreUnavailable(f"the profile store did not answer in time; could not {what}") from None
        except Exception as exc:  # noqa: BLE001 - the boundary: any driver/DB failure
            text = str(exc).lower()
            if "no such table" in text or "does not exist" in text:
                logger.error("profile store is not built: %s", exc)
                raise ProfileStoreUnavailable(f"the profile store is not set up (run `python -m bot profile build`); could not {what}") from exc
            logger.exception("profile store failed (%s)", what)
            raise ProfileStoreUnavailable(f"the profile store is unavailable; could not {what}") from exc


def _bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidProfileInput(f"{name} must be true or false")
    return value


def _text(value: Any, name: str, limit: int) -> str:
    if not isinstance(value, str):
        raise InvalidProfileInput(f"{name} must be text")
    if len(value) > limit:
        raise InvalidProfileInput(f"{name} is too long ({len(value)} characters, at most {limit})")
    if "\x00" in value:
        raise InvalidProfileInput(f"{name} contains a NUL character")
    return value


def _details_json(details: Any) -> str | None:
    """``details`` as compact JSON text (None stays None); InvalidProfileInput unless a small JSON object."""
    if details is None:
        return None
    if not isinstance(details, dict) or not all(isinstance(k, str) for k in details):
        raise InvalidProfileInput("request details must be an object with text keys")
    try:
        text = json.dumps(details, sort_keys=True, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError):
        raise InvalidProfileInput("request details must hold only text, numbers, true/false, lists and objects") from None
    if len(text) > MAX_DETAILS:
        raise InvalidProfileInput(f"request details are too long ({len(text)} characters, at most {MAX_DETAILS})")
    return text  # control characters (NUL included) are escaped by json.dumps


def _optional_text(value: Any, name: str, limit: int) -> str | None:
    return None if value is None else _text(value, name, limit)


def create_engine_for(url: str, *, schema_name: str | None = None) -> AsyncEngine:
    """An AsyncEngine suited to the store: pooled SQLite connections, optional PG schema."""
    kwargs: dict[str, Any] = {"future": True}
    if url.startswith("sqlite"):
        kwargs["poolclass"] = AsyncAdaptedQueuePool  # 1.4 defaults to NullPool: a new thread per call
        kwargs["pool_size"] = 4
        kwargs["connect_args"] = {"timeout": 10}
    elif schema_name:
        kwargs["connect_args"] = {"server_settings": {"search_path": schema_name}}
    return create_async_engine(url, **kwargs)
