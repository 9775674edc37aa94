"""Identity resolution: cluster silo records into people (union-find).

Runs as a batch job on a *synchronous* connection (the CLI / a worker, never
the bot's event loop). It reads only the key columns of the four root
tables, so a million customers fit in well under a gigabyte:

1. Every root record (CRM contact, marketing contact, shop account,
   conversation) becomes a node; its identifiers are normalised
   (:mod:`bot.profile.identifiers`): e-mail, E.164 phone, customer number,
   channel id (a WhatsApp/SMS/phone channel id also yields its phone).
2. Records sharing a customer number are merged unconditionally (the CRM
   number is assigned to one person).
3. Records sharing a channel id, phone or e-mail are merged only when their
   names are compatible (:func:`bot.profile.names.given_names_compatible`:
   nickname, initial, one typo; family names equal or one typo). Records
   without a name join a group only if the group's named records all agree:
   a family e-mail shared by Frank and Grace merges neither them nor the
   unnamed newsletter record into anyone. An address is never a key.
4. Each cluster gets a stable ``customer_id`` derived from its anchor record
   (the first CRM record, else the first record of the next system).

The result goes to ``tp_person``, ``tp_link`` (record -> customer) and
``tp_identifier`` (normalised identifier -> customer, including order and
invoice numbers), which the repository uses for indexed look-ups.
"""

from __future__ import annotations

import hashlib
import logging
from array import array
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable, Iterator

from sqlalchemy import insert, select
from sqlalchemy.schema import CreateTable
from sqlalchemy.engine import Connection

from bot.profile import schema
from bot.profile.errors import InvalidIdentifier
from bot.profile.identifiers import (
    channel_contact,
    normalise_channel_id,
    normalise_customer_number,
    normalise_email,
    normalise_phone,
)
from bot.profile.names import family_names_compatible, given_names_compatible, normalise_name, split_full_name

logger = logging.getLogger(__name__)

#: order of systems: defines record order, anchor preference and trust of names
SYSTEMS = ("crm", "commerce", "contact_centre", "marketing")
_KEY_PASSES = ("customer_number", "channel_id", "phone", "email")
_BATCH = 20_000


@dataclass(frozen=True)
class ResolutionStats:
    records: int
    people: int
    merged_by: dict[str, int]
    ambiguous_keys: int


def customer_id_for(system: str, record_id: int) -> str:
    return "cus_" + hashlib.sha1(f"{system}:{record_id}".encode()).hexdigest()[:16]


def _safe(func: Callable[[Any], str], value: Any) -> str | None:
    if not value:
        return None
    try:
        return func(value)
    except InvalidIdentifier:
        return None


def record_keys(system: str, row: Any) -> tuple[list[tuple[str, str]], str, str]:
    """Normalised (kind, value) keys and (given, family) names of a root record."""
    keys: list[tuple[str, str]] = []
    given = family = ""
    if system == "crm":
        _, number, g, f, email, phone = row
        keys += [("customer_number", _safe(normalise_customer_number, number)), ("email", _safe(normalise_email, email)), ("phone", _safe(normalise_phone, phone))]
        given, family = normalise_name(g), normalise_name(f)
    elif system == "marketing":
        _, email, first = row
        keys.append(("email", _safe(normalise_email, email)))
        given = normalise_name(first)
    elif system == "commerce":
        _, email, phone, full, number = row
        keys += [("email", _safe(normalise_email, email)), ("phone", _safe(normalise_phone, phone)), ("customer_number", _safe(normalise_customer_number, number))]
        g, f = split_full_name(full)
        given, family = normalise_name(g), normalise_name(f)
    else:
        _, channel_id, phone, email, number, name = row
        cid = _safe(normalise_channel_id, channel_id)
        keys += [("channel_id", cid), ("phone", _safe(normalise_phone, phone)), ("email", _safe(normalise_email, email)), ("customer_number", _safe(normalise_customer_number, number))]
        if cid and (implied := channel_contact(cid)):
            keys.append(implied)
        g, f = split_full_name(name)
        given, family = normalise_name(g), normalise_name(f)
    return [(k, v) for k, v in keys if v], given, family


def _root_query(system: str) -> Any:
    crm, mkt, acc, conv = schema.crm_contact, schema.mkt_contact, schema.com_account, schema.cc_conversation
    if system == "crm":
        return select(crm.c.id, crm.c.customer_number, crm.c.given_name, crm.c.family_name, crm.c.email, crm.c.phone).order_by(crm.c.id)
    if system == "marketing":
        return select(mkt.c.id, mkt.c.email, mkt.c.first_name).order_by(mkt.c.id)
    if system == "commerce":
        return select(acc.c.id, acc.c.login_email, acc.c.phone, acc.c.full_name, acc.c.crm_customer_number).order_by(acc.c.id)
    return select(
        conv.c.id, conv.c.channel_id, conv.c.phone, conv.c.email, conv.c.customer_number, conv.c.contact_name
    ).order_by(conv.c.id)


def _stream(conn: Connection, stmt: Any) -> Iterator[Any]:
    # per statement: Connection.execution_options() would change the whole (future) connection
    result = conn.execute(stmt.execution_options(stream_results=True))
    for part in result.partitions(_BATCH):
        yield from part


class _UnionFind:
    def __init__(self, size: int) -> None:
        self.parent = array("q", range(size))

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def union(self, a: int, b: int) -> int:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        if rb < ra:
            ra, rb = rb, ra
        self.parent[rb] = ra  # the smaller index (more trusted system) stays root
        return ra


class Resolver:
    """Clusters the root records of a store. ``progress`` wraps iterables (e.g. tqdm)."""

    def __init__(self, conn: Connection, progress: Callable[..., Iterable[Any]] | None = None) -> None:
        self.conn = conn
        self.progress = progress or (lambda it, **_: it)

    def run(self, now: datetime) -> ResolutionStats:
        conn = self.conn
        # pass 1: read keys and names, remember groups of records per key
        systems: list[str] = []
        ids: dict[str, array] = {}
        offsets: dict[str, int] = {}
        givens: list[str] = []
        families: list[str] = []
        intern: dict[str, str] = {}
        groups: dict[str, dict[str, Any]] = {kind: {} for kind in _KEY_PASSES}
        idx = 0
        for system in SYSTEMS:
            offsets[system] = idx
            ids[system] = array("q")
            for row in self.progress(_stream(conn, _root_query(system)), desc=f"read {system}", unit="rec"):
                ids[system].append(row[0])
                keys, given, family = record_keys(system, row)
                givens.append(intern.setdefault(given, given))
                families.append(intern.setdefault(family, family))
                for kind, value in keys:
                    bucket = groups[kind]
                    seen = bucket.get(value)
                    if seen is None:
                        bucket[value] = idx
                    elif isinstance(seen, list):
                        if seen[-1] != idx:
                            seen.append(idx)
                    elif seen != idx:
                        bucket[value] = [seen, idx]
                idx += 1
            systems.append(system)
        total = idx
        uf = _UnionFind(total)
        given_of = givens  # names of roots, updated on union
        family_of = families
        merged_by = {kind: 0 for kind in _KEY_PASSES}
        ambiguous = 0

        def merge(a: int, b: int) -> None:
            ra, rb = uf.find(a), uf.find(b)
            if ra == rb:
                return
            root = uf.union(ra, rb)
            other = rb if root == ra else ra
            if not given_of[root]:
                given_of[root] = given_of[other]
            if not family_of[root]:
                family_of[root] = family_of[other]

        def compatible(ra: int, rb: int) -> bool:
            return given_names_compatible(given_of[ra], given_of[rb]) and family_names_compatible(family_of[ra], family_of[rb])

        for kind in _KEY_PASSES:
            bucket = groups[kind]
            for members in self.progress(
                (m for m in bucket.values() if isinstance(m, list)), desc=f"merge by {kind}", unit="key"
            ):
                roots: list[int] = []
                for m in members:
                    r = uf.find(m)
                    if r not in roots:
                        roots.append(r)
                if len(roots) < 2:
                    continue
                if kind == "customer_number":
                    for r in roots[1:]:
                        merge(roots[0], r)
                    merged_by[kind] += len(roots) - 1
                    continue
                named = [r for r in roots if given_of[r] or family_of[r]]
                nameless = [r for r in roots if not (given_of[r] or family_of[r])]
                classes: list[int] = []
                for r in named:
                    for i, c in enumerate(classes):
                        c = uf.find(c)
                        if compatible(c, r):
                            merge(c, r)
                            classes[i] = uf.find(c)
                            merged_by[kind] += 1
                            break
                    else:
                        classes.append(r)
                if len(classes) > 1:
                    ambiguous += 1  # shared key (family e-mail...): unnamed records stay apart
                    continue
                target = classes[0] if classes else nameless[0]
                for r in nameless:
                    if uf.find(r) != uf.find(target):
                        merge(target, r)
                        merged_by[kind] += 1

        # pass 2: write tp_person, tp_link, tp_identifier
        for table in schema.RESOLUTION_TABLES:  # re-created, indexes added after the bulk insert
            table.drop(conn, checkfirst=True)
            conn.execute(CreateTable(table))
        cid_of_root: dict[int, str] = {}
        counts: dict[int, int] = {}
        for i in range(total):
            r = uf.find(i)
            counts[r] = counts.get(r, 0) + 1
        system_at: list[tuple[int, str]] = [(offsets[s], s) for s in systems]

        def locate(i: int) -> tuple[str, int]:
            sys_name = system_at[0][1]
            for off, s in system_at:
                if i >= off:
                    sys_name = s
            return sys_name, ids[sys_name][i - offsets[sys_name]]

        person_rows = []
        for r in sorted(counts):
            system, record_id = locate(r)
            cid = customer_id_for(system, record_id)
            cid_of_root[r] = cid
            person_rows.append((cid, system, record_id, counts[r], now))
        insert_rows(conn, schema.tp_person, person_rows, self.progress, "write people")
        del person_rows, counts

        def link_rows() -> Iterator[tuple]:
            for system in systems:
                off = offsets[system]
                for j, record_id in enumerate(ids[system]):
                    yield (system, record_id, cid_of_root[uf.find(off + j)])

        insert_rows(conn, schema.tp_link, link_rows(), self.progress, "write links", total=total)

        # identifiers: from the key groups of pass 1, plus order and invoice numbers
        def identifier_rows() -> Iterator[tuple]:
            for kind in _KEY_PASSES:
                bucket = groups[kind]
                for value, members in bucket.items():
                    if isinstance(members, list):
                        for cid in dict.fromkeys(cid_of_root[uf.find(m)] for m in members):
                            yield (kind, value, cid)
                    else:
                        yield (kind, value, cid_of_root[uf.find(members)])
                bucket.clear()
            acct_cid = {}
            off = offsets["commerce"]
            for j, account_id in enumerate(ids["commerce"]):
                acct_cid[account_id] = cid_of_root[uf.find(off + j)]
            o, inv = schema.com_order, schema.com_invoice
            for number, account_id in _stream(conn_read, select(o.c.order_number, o.c.account_id).order_by(o.c.id)):
                cid = acct_cid.get(account_id)
                if cid is not None:
                    yield ("order_id", number.lstrip("0"), cid)
            for invoice_id, account_id in _stream(
                conn_read, select(inv.c.invoice_id, o.c.account_id).join(o, inv.c.order_id == o.c.id).order_by(inv.c.id)
            ):
                cid = acct_cid.get(account_id)
                if cid is not None:
                    yield ("invoice_id", invoice_id, cid)

        conn_read = self.conn.engine.connect() if self.conn.dialect.name == "postgresql" else conn
        try:
            insert_rows(conn, schema.tp_identifier, identifier_rows(), self.progress, "write identifiers")
        finally:
            if conn_read is not conn:
                conn_read.close()
        for table in schema.RESOLUTION_TABLES:
            for index in table.indexes:
                index.create(conn)
        people = len(cid_of_root)
        logger.info("resolved %d records into %d people (%s; %d shared keys)", total, people, merged_by, ambiguous)
        return ResolutionStats(total, people, merged_by, ambiguous)


def insert_rows(
    conn: Connection,
    table: Any,
    rows: Iterable[tuple],
    progress: Callable[..., Iterable[Any]] | None = None,
    desc: str = "",
    total: int | None = None,
    ignore_duplicates: bool = False,
) -> int:
    """Bulk insert tuples in column order; fast path for SQLite, Core executemany elsewhere."""
    columns = [c.name for c in table.columns]
    n = 0
    it: Iterable[tuple] = rows
    if progress is not None and desc:
        it = progress(rows, desc=desc, unit="row", total=total)
    if conn.dialect.name == "sqlite":
        verb = "INSERT OR IGNORE" if ignore_duplicates else "INSERT"
        sql = f"{verb} INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        cursor = conn.connection.cursor()
        try:
            batch: list[tuple] = []
            for row in it:
                batch.append(row)
                if len(batch) >= _BATCH:
                    cursor.executemany(sql, batch)
                    n += len(batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
                n += len(batch)
        finally:
            cursor.close()
        return n
    if ignore_duplicates and conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Any = pg_insert(table).on_conflict_do_nothing()
    else:
        stmt = insert(table)
    batch_d: list[dict[str, Any]] = []
    for row in it:
        batch_d.append(dict(zip(columns, row)))
        if len(batch_d) >= 5_000:
            conn.execute(stmt, batch_d)
            n += len(batch_d)
            batch_d = []
    if batch_d:
        conn.execute(stmt, batch_d)
        n += len(batch_d)
    return n
