"""Deterministic demo data for the four silos, with noise and ground truth.

``DemoGenerator(customers, seed, now).chunks()`` yields lists of
:class:`Batch` (rows per table, parent tables first) for a few thousand
people at a time, so a million customers never sit in memory at once. The
same ``(customers, seed, now)`` always gives the same rows.

Noise, as real exports have it: nicknames and one-letter typos in names,
upper/lower case and Gmail dots/+tags in e-mails, phone numbers in every
format (``+44 7700 900123``, ``07700900123``, ``0044 (0)7700 ...``,
``(202) 555-0143``), duplicate CRM entries with a new customer number and
an old address (people move), households that share a family e-mail and an
address, gift orders, records not updated for years (stale) and a few
records that cannot be linked at all (a typo in the only identifier).
Every root record (CRM contact, marketing contact, shop account,
conversation) is written to ``gt_record`` with the true person.

Well-known demo customers (always present, ``person`` 1-10 in ground truth;
dates relative to ``now``; identifiers are fictional: Ofcom drama numbers,
``example.*`` domains, US 555-01xx):

==== ================== ======================================================
 #    who                what to try
==== ================== ======================================================
 1    Amelia Hart        ``amelia.hart@example.com`` / ``+447700900101`` /
                         ``C1000001``: order ``4000000101`` dispatched with
                         DPD, promised for ``now + 2 days``
 2    Ben Okafor         ``C1000002`` / ``ben.okafor@example.net``: order
                         ``4000000201`` returned, refund ``RF-00000201`` of
                         £59.99 to card, state approved
 3    Chloe Martin       ``C1000003`` / ``+447700900103``: high value (5
                         orders, > £1,000 this year), open complaint ticket
                         ``T-00000301``; segments high_value, open_complaint
 4    David Evans        ``C1000004`` / ``whatsapp:+447700900104``:
                         bereavement flag; marketing consent but silenced
 5    Emma Wilson        ``C1000005`` / ``emma.wilson@example.org``: gift
                         order of toys (``4000000501``) and own books orders;
                         toys are not a preference
 6/7  Frank & Grace      share ``thesmiths@example.org`` and one address;
      Smith              Frank ``C1000006`` ``+447700900106``, Grace
                         ``C1000007`` ``+447700900107``: two profiles, the
                         e-mail alone is ambiguous
 8    Hannah Lee         two CRM entries (``C1000008``, ``C1000018``) with
                         ``Hannah.Lee@GMail.com`` / ``hannahlee@gmail.com``,
                         ``07700 900108`` / ``+44 7700 900108``, "Hanna":
                         one profile
 9    Ian Brown          US customer ``+1 202 555 0143``, account created
                         10 days ago (segment new), order ``4000000901``
10    Jack Turner        ``C1000010``: CRM record last updated 4 years ago,
                         so his name is stale (not used to greet)
==== ================== ======================================================
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Iterator

from bot.profile import schema
from bot.profile.names import given_names_compatible
from bot.profile.namepools import (
    CAMPAIGNS,
    CARRIERS,
    CATEGORIES,
    CITIES_GB,
    CITIES_US,
    EMAIL_DOMAINS,
    FAMILY_NAMES,
    GIVEN_NAMES,
    STREETS,
    TOPICS,
)
from bot.profile.names import _NICKNAMES  # noqa: PLC2701 - shared table

DEMO_PEOPLE = 10
_CATEGORY_NAMES = tuple(CATEGORIES)


@dataclass(frozen=True)
class Batch:
    table: str
    columns: tuple[str, ...]
    rows: list[tuple]


def default_now() -> datetime:
    """Today at 12:00 (naive UTC): demos make sense on any day, builds on one day agree."""
    today = datetime.utcnow().date()
    return datetime(today.year, today.month, today.day, 12, 0, 0)


def _bijection(n: int, modulus: int, mult: int, add: int) -> int:
    return (n * mult + add) % modulus


@dataclass
class _Person:
    pid: int
    given: str
    family: str
    email: str
    phone: str  # E.164
    country: str
    address: tuple[str, str, str, str]
    household_id: str
    family_email: str | None = None
    is_primary: bool = True
    messenger_id: str | None = None
    created_at: datetime | None = None
    crm_numbers: list[str] = field(default_factory=list)


class DemoGenerator:
    """See the module docstring. ``customers`` counts people, demo ones included."""

    def __init__(self, customers: int = 2000, seed: int = 7, now: datetime | None = None, chunk_people: int = 2000) -> None:
        if customers < DEMO_PEOPLE:
            raise ValueError(f"customers must be at least {DEMO_PEOPLE} (the well-known demo customers)")
        self.customers = customers
        self.seed = seed
        self.now = (now or default_now()).replace(microsecond=0)
        self.chunk_people = chunk_people
        self.rng = random.Random(seed)
        self._ids: dict[str, int] = {}
        self._rows: dict[str, list[tuple]] = {t.name: [] for t in schema.SILO_TABLES + (schema.gt_record,)}
        self._cols = {t.name: tuple(c.name for c in t.columns) for t in schema.SILO_TABLES + (schema.gt_record,)}
        self._order_seq = 0
        self._cum: dict[tuple, list[float]] = {}
        self._sku = {(cat, desc): f"{cat[:3].upper()}-{i + 1:03d}" for cat, items in CATEGORIES.items() for i, (desc, _) in enumerate(items)}
        self._nick = {}
        for group in _NICKNAMES:
            for name in group[1:]:
                self._nick.setdefault(group[0], []).append(name)

    # -- fast random helpers (random.randrange/choice are slow in bulk) -------------
    def _ri(self, a: int, b: int) -> int:
        """Uniform int in [a, b)."""
        return a + int(self.rng.random() * (b - a))

    def _pick(self, seq):  # type: ignore[no-untyped-def]
        return seq[int(self.rng.random() * len(seq))]

    def _wpick(self, values, weights):  # type: ignore[no-untyped-def]
        cum = self._cum.get(weights)
        if cum is None:
            total, acc = sum(weights), []
            run = 0.0
            for w in weights:
                run += w
                acc.append(run / total)
            cum = self._cum[weights] = acc
        x = self.rng.random()
        for value, edge in zip(values, cum):
            if x < edge:
                return value
        return values[-1]

    # -- plumbing ---------------------------------------------------------------
    def _next(self, table: str) -> int:
        self._ids[table] = self._ids.get(table, 0) + 1
        return self._ids[table]

    def _emit(self, table: str, row: tuple) -> None:
        self._rows[table].append(row)

    def _truth(self, system: str, record_id: int, person: int) -> None:
        self._rows["gt_record"].append((system, record_id, person))

    def _flush(self) -> list[Batch]:
        out = []
        for table in schema.SILO_TABLES + (schema.gt_record,):
            rows = self._rows[table.name]
            if rows:
                out.append(Batch(table.name, self._cols[table.name], rows))
                self._rows[table.name] = []
        return out

    def chunks(self) -> Iterator[list[Batch]]:
        """Batches for about ``chunk_people`` people at a time; parents before children."""
        self._demo_people()
        yield self._flush()
        pid = DEMO_PEOPLE
        household_no = 100
        done = DEMO_PEOPLE
        while pid < self.customers:
            size = min(self._household_size(), self.customers - pid)
            household_no += 1
            people = self._household(pid + 1, size, household_no)
            for person in people:
                self._random_person(person)
            pid += size
            if pid - done >= self.chunk_people:
                done = pid
                yield self._flush()
        yield self._flush()

    # -- noise ------------------------------------------------------------------
    def _typo(self, word: str) -> str:
        if len(word) < 5:
            return word
        i = self._ri(1, len(word) - 1)
        op = self._ri(0, 3)
        if op == 0:
            return word[:i] + word[i + 1] + word[i] + word[i + 2:]
        if op == 1:
            return word[:i] + word[i + 1:]
        return word[:i] + self._pick("aeiounrst") + word[i + 1:]

    def _name_variant(self, given: str) -> str:
        r = self.rng.random()
        if r < 0.10 and given.lower() in self._nick:
            return self._pick(self._nick[given.lower()]).title()
        if r < 0.13:
            return self._typo(given)
        if r < 0.16:
            return given.upper()
        if r < 0.19:
            return given.lower()
        return given

    def _email_variant(self, email: str) -> str:
        local, _, domain = email.partition("@")
        r = self.rng.random()
        if domain == "gmail.com" and r < 0.25:
            if "." in local:
                local = local.replace(".", "")
            else:
                cut = self._ri(1, len(local))
                local = local[:cut] + "." + local[cut:]
            if self.rng.random() < 0.3:
                local += "+shop"
        elif r < 0.35:
            local = ".".join(part.title() for part in local.split("."))
            domain = domain.title()
        elif r < 0.45:
            local, domain = local.upper(), domain.upper()
        if self.rng.random() < 0.03:
            return f" {local}@{domain} "
        return f"{local}@{domain}"

    def _phone_variant(self, e164: str) -> str:
        r = self.rng.random()
        if e164.startswith("+44"):
            n = e164[3:]
            forms = (
                f"+44 {n[:4]} {n[4:]}",
                f"0{n[:4]} {n[4:]}",
                f"0{n}",
                f"+44 (0){n[:4]} {n[4:7]} {n[7:]}",
                f"0044 {n[:4]} {n[4:]}",
                e164,
            )
        else:
            n = e164[2:]
            forms = (f"+1 ({n[:3]}) {n[3:6]}-{n[6:]}", f"{n[:3]}-{n[3:6]}-{n[6:]}", f"({n[:3]}) {n[3:6]} {n[6:]}", f"1-{n[:3]}-{n[3:6]}-{n[6:]}", e164)
        return forms[int(r * len(forms))]

    # -- random people -------------------------------------------------------------
    def _household_size(self) -> int:
        r = self.rng.random()
        return 1 if r < 0.6 else 2 if r < 0.88 else 3 if r < 0.96 else 4

    def _household(self, first_pid: int, size: int, household_no: int) -> list[_Person]:
        r = self.rng
        us = r.random() < 0.08
        family = self._pick(FAMILY_NAMES)
        city, postcode = self._pick(CITIES_US if us else CITIES_GB)
        house = self._ri(1, 200)
        line = f"{house} {self._pick(STREETS)}"
        if not us:
            postcode = f"{postcode} {self._ri(1, 9)}{self._pick('ABDEFGHJLNPQRSTUWXYZ')}{self._pick('ABDEFGHJLNPQRSTUWXYZ')}"
        address = (line, city, postcode, "US" if us else "GB")
        shared = size > 1 and r.random() < 0.12
        family_email = f"the{family.lower()}s{household_no}@{self._pick(EMAIL_DOMAINS)}" if shared else None
        people: list[_Person] = []
        for k in range(size):
            pid = first_pid + k
            while True:
                given = self._pick(GIVEN_NAMES)
                if all(not given_names_compatible(given.lower(), p.given.lower()) for p in people):
                    break
            fam = family if k == 0 or r.random() < 0.75 else self._pick(FAMILY_NAMES)
            g, f = given.lower(), fam.lower()
            pattern = self._ri(0, 4)
            local = (f"{g}.{f}", f"{g}{f}", f"{g[0]}{f}", f"{f}.{g}")[pattern] + str(pid)
            email = f"{local}@{self._pick(EMAIL_DOMAINS)}"
            if us:
                x = _bijection(pid, 8_000_000, 2_750_159, 12345)
                phone = f"+1{self._pick(('202', '312', '415', '617', '646', '718'))}{200 + x // 10_000}{x % 10_000:04d}"
            else:
                phone = f"+447{400_000_000 + _bijection(pid, 100_000_000, 48_271_001, 777):09d}"[:13]
            days = self._ri(0, 3000) if r.random() > 0.06 else self._ri(0, 90)
            person = _Person(
                pid=pid,
                given=given,
                family=fam,
                email=email,
                phone=phone,
                country="US" if us else "GB",
                address=address,
                household_id=f"HH{household_no:08d}",
                family_email=family_email,
                is_primary=k == 0,
                created_at=self.now - timedelta(days=days, seconds=self._ri(0, 86400)),
            )
            if r.random() < 0.3:
                person.messenger_id = str(10_000_000_000 + _bijection(pid, 9_000_000_000, 1_000_003, 99))
            people.append(person)
        return people

    def _when(self, start: datetime, end: datetime | None = None) -> datetime:
        end = end or self.now
        span = max(int((end - start).total_seconds()), 1)
        return start + timedelta(seconds=self._ri(0, span))

    def _random_person(self, p: _Person) -> None:
        r = self.rng
        assert p.created_at is not None
        crm_email = p.family_email or p.email
        if r.random() < 0.92:
            stale = r.random() < 0.10
            updated = self._when(p.created_at) if not stale else self.now - timedelta(days=self._ri(1100, 2200))
            created = min(p.created_at, updated)
            email = None if r.random() < 0.015 else self._email_variant(crm_email)
            phone = None if (r.random() < 0.03 and email) else self._phone_variant(p.phone)
            self.add_crm(p, p.given if r.random() > 0.03 else self._typo(p.given), email, phone, p.address, created, updated)
            if r.random() < 0.06:  # duplicate entry: new number, old address
                old_address = (f"{self._ri(1, 200)} {self._pick(STREETS)}", self._pick(CITIES_GB)[0], "", p.country)
                keep_email = r.random() < 0.7 or phone is None
                d_email = self._email_variant(crm_email) if keep_email else None
                d_phone = self._phone_variant(p.phone) if (not keep_email or phone is None or r.random() < 0.6) else None
                when = created - timedelta(days=self._ri(30, 900))
                self.add_crm(p, self._name_variant(p.given), d_email, d_phone, old_address, when, when + timedelta(days=self._ri(0, 20)))
        if r.random() < 0.70 and (p.family_email is None or p.is_primary):
            own = p.family_email or p.email
            email = self._email_variant(own)
            if r.random() < 0.004:
                email = self._typo(email.split("@")[0]) + "@" + email.split("@")[1]
            first = self._name_variant(p.given) if r.random() < 0.6 else None
            if own == p.family_email and first is None:
                first = p.given  # shared mailbox: the list knows who signed up
            self.add_marketing(p, email, first)
        if r.random() < 0.85:
            has_crm = bool(p.crm_numbers)
            phone = self._phone_variant(p.phone) if r.random() < (0.9 if p.family_email else 0.75) else None
            number = p.crm_numbers[0] if has_crm and r.random() < 0.4 else None
            email = self._email_variant(p.email)
            account_id = self.add_account(p, email, phone, f"{self._name_variant(p.given)} {p.family}", number)
            self.add_payment_method(account_id, self._pick(("card", "card", "card", "paypal")), default=True)
            if r.random() < 0.25:
                self.add_payment_method(account_id, self._pick(("card", "paypal", "bank_transfer")), default=False)
            n_orders = self._wpick((0, 1, 2, 3, 4, 6), (15, 45, 22, 10, 5, 3))
            for _ in range(n_orders):
                self._random_order(account_id, p)
        if r.random() < 0.45:
            n_conv = self._wpick((1, 2, 3), (70, 22, 8))
            last = None
            for _ in range(n_conv):
                last = self._random_conversation(p)
            if r.random() < 0.012 and last is not None:
                kind = self._pick(("bereavement", "bereavement", "illness", "financial_hardship", "vulnerability"))
                self.add_flag(last, kind, f"customer mentioned {kind.replace('_', ' ')}", self.now - timedelta(days=self._ri(0, 200)))

    def _random_order(self, account_id: int, p: _Person) -> None:
        r = self.rng
        age_days = self._pick((self._ri(0, 30), self._ri(0, 365), self._ri(0, 1100)))
        placed = self.now - timedelta(days=age_days, seconds=self._ri(0, 86400))
        gift = r.random() < 0.08
        status = "delivered"
        if age_days <= 1:
            status = self._pick(("placed", "processing"))
        elif age_days <= 5:
            status = self._pick(("processing", "dispatched", "dispatched", "delivered"))
        else:
            x = r.random()
            status = "cancelled" if x < 0.04 else "returned" if x < 0.08 else "delivered"
        lines = []
        for _ in range(self._wpick((1, 2, 3), (65, 25, 10))):
            cat = self._pick(_CATEGORY_NAMES)
            desc, price = self._pick(CATEGORIES[cat])
            lines.append((cat, desc, self._pick((1, 1, 1, 2)), price, gift))
        currency = "USD" if p.country == "US" else "GBP"
        self.add_order(account_id, placed, status, lines, currency, gift, p.address[1], p.country, carrier=self._pick(CARRIERS))

    def _random_conversation(self, p: _Person) -> int:
        r = self.rng
        channel = self._pick(("phone", "phone", "whatsapp", "messenger", "web", "web", "email"))
        if channel == "messenger" and not p.messenger_id:
            channel = "web"
        phone = email = number = name = None
        full = f"{self._name_variant(p.given)} {p.family}"
        if channel == "phone":
            channel_id = f"phone:{p.phone}"
            phone = p.phone
            name = full if r.random() < 0.7 else None
            number = p.crm_numbers[0] if p.crm_numbers and r.random() < 0.3 else None
        elif channel == "whatsapp":
            channel_id = f"whatsapp:{p.phone}"
            phone = p.phone
            name = self._name_variant(p.given) if r.random() < 0.5 else None
        elif channel == "messenger":
            channel_id = f"messenger:{p.messenger_id}"
            if r.random() < 0.6:
                email = self._email_variant(p.email)
            else:
                phone = self._phone_variant(p.phone)
            name = full if r.random() < 0.8 else None
        elif channel == "web":
            channel_id = f"web:{uuid.UUID(int=r.getrandbits(128), version=4)}"
            if r.random() < 0.8 or not p.crm_numbers:
                email = self._email_variant(p.email)
            else:
                number = p.crm_numbers[0]
            name = full if r.random() < 0.4 else None
        else:
            email = self._email_variant(p.email)
            channel_id = f"email:{email.strip()}"
            name = full if r.random() < 0.5 else None
        opened = self.now - timedelta(days=self._pick((self._ri(0, 30), self._ri(0, 700))), seconds=self._ri(0, 86400))
        topic = self._wpick(TOPICS, (25, 15, 15, 12, 10, 8, 10, 5))
        open_ = (self.now - opened).days < 7 and r.random() < 0.3
        outcome = "pending" if open_ else self._wpick(("resolved", "unresolved", "escalated"), (85, 10, 5))
        csat = None if open_ or r.random() < 0.4 else self._wpick((1, 2, 3, 4, 5), (5, 7, 15, 33, 40))
        closed = None if open_ else opened + timedelta(minutes=self._ri(3, 60 * 48))
        note = f"{topic.replace('_', ' ')}: {outcome}"
        return self.add_conversation(p, channel, channel_id, phone, email, number, name, topic, outcome, csat, opened, closed, note)

    # -- record builders (used by random and demo people) ----------------------------
    def add_crm(self, p: _Person, given: str, email: str | None, phone: str | None, address: tuple, created: datetime, updated: datetime, *, account_type: str | None = None, status: str = "active", number: str | None = None) -> int:
        rid = self._next("crm_contact")
        if number is None:
            number = f"C{2_000_000 + _bijection(rid, 8_000_000, 3_000_017, 4242):07d}"
        p.crm_numbers.append(number)
        if account_type is None and p.pid <= DEMO_PEOPLE:
            account_type = "consumer"
        if account_type is None:
            x = self.rng.random()
            account_type = "business" if x < 0.04 else "staff" if x < 0.05 else "consumer"
        self._emit(
            "crm_contact",
            (rid, number, given, p.family, email, phone, address[0], address[1], address[2], address[3], p.household_id, account_type, status, created, updated),
        )
        self._truth("crm", rid, p.pid)
        return rid

    def add_marketing(self, p: _Person, email: str, first: str | None, *, state: str | None = None) -> int:
        rid = self._next("mkt_contact")
        state = state or self._wpick(("subscribed", "unsubscribed", "never"), (55, 25, 20))
        changed = self.now - timedelta(days=self._ri(1, 1500))
        self._emit(
            "mkt_contact",
            (rid, email, first, state == "subscribed", state, changed if state == "unsubscribed" else None, changed, changed),
        )
        self._truth("marketing", rid, p.pid)
        if state == "subscribed":
            for _ in range(self._wpick((0, 1, 2), (60, 30, 10))):
                self._emit(
                    "mkt_campaign_response",
                    (self._next("mkt_campaign_response"), rid, self._pick(CAMPAIGNS), self._pick(("opened", "clicked", "purchased")), self.now - timedelta(days=self._ri(1, 700))),
                )
        return rid

    def add_account(self, p: _Person, email: str | None, phone: str | None, full_name: str, number: str | None, *, created: datetime | None = None) -> int:
        rid = self._next("com_account")
        created = created or p.created_at or self.now
        updated = self._when(created) if created < self.now else created
        self._emit("com_account", (rid, email, phone, full_name, number, created, updated))
        self._truth("commerce", rid, p.pid)
        return rid

    def add_payment_method(self, account_id: int, kind: str, default: bool) -> None:
        brand = self._pick(("Visa", "Mastercard", "Amex")) if kind == "card" else None
        last4 = f"{self._ri(0, 10_000):04d}" if kind == "card" else None
        expires = f"{self._ri(1, 13):02d}/{(self.now.year + self._ri(0, 5)) % 100:02d}" if kind == "card" else None
        self._emit("com_payment_method", (self._next("com_payment_method"), account_id, kind, brand, last4, expires, default, self.now - timedelta(days=self._ri(1, 1500))))

    def add_order(
        self,
        account_id: int,
        placed: datetime,
        status: str,
        lines: list[tuple[str, str, int, int, bool]],
        currency: str,
        gift: bool,
        city: str,
        country: str,
        *,
        carrier: str = "Royal Mail",
        number: str | None = None,
        promised: date | None = None,
        refund: tuple[str, str] | None = None,
        refund_id: str | None = None,
    ) -> int:
        """lines: (category, description, quantity, unit price minor, is_gift); refund: (method, state)."""
        oid = self._next("com_order")
        self._order_seq += 1
        number = number or str(5_000_000_000 + _bijection(self._order_seq, 4_000_000_000, 2_654_435_761, 1013))
        total = sum(q * price for _, _, q, price, _ in lines)
        updated = placed
        for cat, desc, qty, price, line_gift in lines:
            sku = self._sku[(cat, desc)]
            self._emit("com_order_line", (self._next("com_order_line"), oid, sku, desc, cat, qty, price, line_gift))
        if status in ("dispatched", "delivered", "returned"):
            dispatched = placed + timedelta(hours=self._ri(6, 48))
            promised = promised or (placed + timedelta(days=self._ri(3, 6))).date()
            delivered = None
            if status != "dispatched":
                delivered = dispatched + timedelta(hours=self._ri(12, 96))
                delivered = min(delivered, self.now)
            dispatched = min(dispatched, self.now)
            updated = delivered or dispatched
            tracking = f"{carrier[:2].upper()}{self._ri(10**9, 10**10)}GB"
            self._emit("com_shipment", (self._next("com_shipment"), oid, carrier, tracking, promised, dispatched, delivered))
        elif status in ("placed", "processing"):
            promised = promised or (placed + timedelta(days=self._ri(3, 6))).date()
            self._emit("com_shipment", (self._next("com_shipment"), oid, carrier, None, promised, None, None))
        self._emit("com_order", (oid, number, account_id, placed, status, total, currency, gift, city, country, updated))
        if status != "cancelled":
            inv = self._next("com_invoice")
            inv_status = "credited" if status == "returned" else "paid"
            self._emit("com_invoice", (inv, f"INV-{1_000_000 + _bijection(inv, 9_000_000, 7_000_003, 17):07d}" if inv > 100 else f"INV-{inv:07d}", oid, placed, total, currency, inv_status))
        if status == "returned" or refund:
            method, state = refund or (self._pick(("card", "card", "paypal", "store_credit", "bank_transfer")), "paid")
            requested = min(updated + timedelta(days=self._ri(1, 10)), self.now)
            rt = self._next("com_return")
            self._emit("com_return", (rt, f"RT-{rt:08d}", oid, self._pick(("too small", "changed my mind", "faulty", "not as described")), "received", requested, min(requested + timedelta(days=3), self.now)))
            approved = min(requested + timedelta(days=4), self.now) if state in ("approved", "paid") else None
            paid = min(requested + timedelta(days=7), self.now) if state == "paid" else None
            rf = self._next("com_refund")
            self._emit("com_refund", (rf, refund_id or f"RF-{10_000_000 + rf:08d}", oid, total, currency, method, state, requested, approved, paid))
        return oid

    def add_conversation(self, p: _Person, channel: str, channel_id: str | None, phone: str | None, email: str | None, number: str | None, name: str | None, topic: str, outcome: str | None, csat: int | None, opened: datetime, closed: datetime | None, note: str | None, *, ticket: str | None = None) -> int:
        rid = self._next("cc_conversation")
        status = "open" if closed is None else "closed"
        self._emit("cc_conversation", (rid, ticket or f"T-{10_000_000 + rid:08d}", channel, channel_id, phone, email, number, name, topic, status, outcome, csat, opened, closed, note))
        self._truth("contact_centre", rid, p.pid)
        return rid

    def add_flag(self, conversation_id: int, kind: str, note: str, recorded: datetime) -> None:
        self._emit("cc_flag", (self._next("cc_flag"), conversation_id, kind, note, True, recorded))

    # -- the well-known demo customers ------------------------------------------------
    def _demo_people(self) -> None:
        now = self.now
        ago = lambda days: now - timedelta(days=days)  # noqa: E731
        gb = lambda line, city, pc: (line, city, pc, "GB")  # noqa: E731

        def person(pid: int, given: str, family: str, email: str, phone: str, hh: str, created_days: int, country: str = "GB", address=None) -> _Person:
            return _Person(pid, given, family, email, phone, country, address or gb("1 Demo Street", "London", "E1 6AN"), hh, created_at=ago(created_days))

        # 1 Amelia Hart: dispatched order with a promised date
        p = person(1, "Amelia", "Hart", "amelia.hart@example.com", "+447700900101", "HH-DEMO-01", 900, address=gb("12 Station Road", "Leeds", "LS1 4AP"))
        self.add_crm(p, "Amelia", "amelia.hart@example.com", "07700 900101", p.address, ago(900), ago(20), account_type="consumer", number="C1000001")
        self.add_marketing(p, "Amelia.Hart@example.com", "Amelia", state="subscribed")
        acc = self.add_account(p, "amelia.hart@example.com", "+44 7700 900101", "Amelia Hart", "C1000001", created=ago(880))
        self.add_payment_method(acc, "card", True)
        self.add_order(acc, ago(2), "dispatched", [("electronics", "headphones", 1, 5999, False)], "GBP", False, "Leeds", "GB", carrier="DPD", number="4000000101", promised=(now + timedelta(days=2)).date())
        self.add_order(acc, ago(200), "delivered", [("books", "novel", 2, 899, False)], "GBP", False, "Leeds", "GB", number="4000000102")

        # 2 Ben Okafor: approved card refund
        p = person(2, "Ben", "Okafor", "ben.okafor@example.net", "+447700900102", "HH-DEMO-02", 1200, address=gb("3 Mill Road", "Bristol", "BS1 5TR"))
        self.add_crm(p, "Benjamin", "ben.okafor@example.net", "+447700900102", p.address, ago(1200), ago(60), number="C1000002")
        acc = self.add_account(p, "Ben.Okafor@example.net", None, "Ben Okafor", "C1000002", created=ago(1100))
        self.add_payment_method(acc, "card", True)
        self.add_order(acc, ago(12), "returned", [("electronics", "headphones", 1, 5999, False)], "GBP", False, "Bristol", "GB", number="4000000201", refund=("card", "approved"), refund_id="RF-00000201")
        self.add_conversation(p, "web", "web:5f0c2a8e-3b1d-4c7a-9e2f-0a1b2c3d4e5f", None, "ben.okafor@example.net", None, "Ben Okafor", "refund", "resolved", 4, ago(5), ago(5) + timedelta(minutes=12), "refund approved, card, 3-5 working days")

        # 3 Chloe Martin: high value with an open complaint
        p = person(3, "Chloe", "Martin", "chloe.martin@example.com", "+447700900103", "HH-DEMO-03", 1500, address=gb("8 Park Avenue", "Manchester", "M1 2AB"))
        self.add_crm(p, "Chloe", "chloe.martin@example.com", "07700900103", p.address, ago(1500), ago(40), number="C1000003")
        self.add_marketing(p, "chloe.martin@example.com", "Chloe", state="subscribed")
        acc = self.add_account(p, "chloe.martin@example.com", "07700 900103", "Chloe Martin", "C1000003", created=ago(1400))
        self.add_payment_method(acc, "card", True)
        for k, (days, cat, desc, qty, price) in enumerate(
            ((300, "electronics", "tablet", 2, 29900), (210, "kitchen", "knife set", 1, 6999), (150, "electronics", "smart speaker", 2, 8999), (90, "clothing", "rain jacket", 1, 7999), (45, "electronics", "tablet", 1, 29900))
        ):
            self.add_order(acc, ago(days), "delivered", [(cat, desc, qty, price, False)], "GBP", False, "Manchester", "GB", number=f"40000003{k + 1:02d}")
        self.add_conversation(p, "phone", "phone:+447700900103", "+447700900103", None, "C1000003", "Chloe Martin", "complaint", "unresolved", 2, ago(3), None, "tablet arrived damaged twice; wants escalation", ticket="T-00000301")

        # 4 David Evans: bereavement
        p = person(4, "David", "Evans", "david.evans@example.org", "+447700900104", "HH-DEMO-04", 2000, address=gb("21 Church Lane", "Cardiff", "CF10 1AA"))
        self.add_crm(p, "David", "david.evans@example.org", "+44 7700 900104", p.address, ago(2000), ago(30), number="C1000004")
        self.add_marketing(p, "david.evans@example.org", "David", state="subscribed")
        acc = self.add_account(p, "david.evans@example.org", "+447700900104", "David Evans", "C1000004", created=ago(1900))
        self.add_order(acc, ago(120), "delivered", [("garden", "garden chair", 2, 4999, False)], "GBP", False, "Cardiff", "GB", number="4000000401")
        conv = self.add_conversation(p, "whatsapp", "whatsapp:+447700900104", "+447700900104", None, None, "David", "account", "resolved", None, ago(14), ago(14) + timedelta(minutes=30), "asked to close late wife's account")
        self.add_flag(conv, "bereavement", "wife passed away; close her account, no marketing", ago(14))

        # 5 Emma Wilson: gift orders
        p = person(5, "Emma", "Wilson", "emma.wilson@example.org", "+447700900105", "HH-DEMO-05", 700, address=gb("5 Green Lane", "York", "YO1 7HH"))
        self.add_crm(p, "Emma", "emma.wilson@example.org", "07700 900105", p.address, ago(700), ago(100), number="C1000005")
        self.add_marketing(p, "Emma.Wilson@Example.org", "Emma", state="subscribed")
        acc = self.add_account(p, "emma.wilson@example.org", None, "Emma Wilson", "C1000005", created=ago(690))
        self.add_order(acc, ago(10), "delivered", [("toys", "building blocks", 1, 2999, True), ("toys", "board game", 1, 2499, True)], "GBP", True, "Sheffield", "GB", number="4000000501")
        self.add_order(acc, ago(60), "delivered", [("books", "cookbook", 1, 1999, False)], "GBP", False, "York", "GB", number="4000000502")
        self.add_order(acc, ago(150), "delivered", [("books", "travel guide", 1, 1499, False)], "GBP", False, "York", "GB", number="4000000503")

        # 6/7 Frank and Grace Smith: one household, one family e-mail, two people
        home = gb("42 Victoria Road", "Brighton", "BN1 3XE")
        frank = person(6, "Frank", "Smith", "thesmiths@example.org", "+447700900106", "HH-DEMO-06", 2500, address=home)
        grace = person(7, "Grace", "Smith", "thesmiths@example.org", "+447700900107", "HH-DEMO-06", 2400, address=home)
        self.add_crm(frank, "Frank", "thesmiths@example.org", "07700 900106", home, ago(2500), ago(50), number="C1000006")
        self.add_crm(grace, "Grace", "TheSmiths@example.org", "+44 7700 900107", home, ago(2400), ago(45), number="C1000007")
        self.add_marketing(frank, "thesmiths@example.org", None, state="subscribed")
        acc = self.add_account(grace, "thesmiths@example.org", "07700900107", "Grace Smith", "C1000007", created=ago(2300))
        self.add_order(acc, ago(25), "delivered", [("home", "lamp", 1, 3499, False)], "GBP", False, "Brighton", "GB", number="4000000701")
        acc = self.add_account(frank, "frank.smith@example.org", "07700 900106", "Frank Smith", None, created=ago(2000))
        self.add_order(acc, ago(8), "delivered", [("garden", "hose", 1, 2499, False)], "GBP", False, "Brighton", "GB", number="4000000601")

        # 8 Hannah Lee: duplicate CRM entries, case/dots/phone-format noise
        p = person(8, "Hannah", "Lee", "hannah.lee@gmail.com", "+447700900108", "HH-DEMO-08", 1000, address=gb("7 Queens Road", "Glasgow", "G1 1QX"))
        self.add_crm(p, "Hannah", "Hannah.Lee@GMail.com", "07700 900108", p.address, ago(1000), ago(15), number="C1000008")
        self.add_crm(p, "Hanna", "hannahlee@gmail.com", "+44 7700 900108", gb("19 Manor Way", "Edinburgh", "EH1 2NG"), ago(1800), ago(1700), number="C1000018")
        self.add_marketing(p, "HANNAH.LEE@GMAIL.COM", None, state="unsubscribed")
        acc = self.add_account(p, "hannah.lee+shop@gmail.com", "0044 7700 900108", "Hannah Lee", None, created=ago(990))
        self.add_order(acc, ago(40), "delivered", [("beauty", "perfume", 1, 4599, False)], "GBP", False, "Glasgow", "GB", number="4000000801")

        # 9 Ian Brown: new US customer
        p = person(9, "Ian", "Brown", "ian.brown@example.com", "+12025550143", "HH-DEMO-09", 10, country="US", address=("400 Main Street", "Boston", "02108", "US"))
        acc = self.add_account(p, "ian.brown@example.com", "(202) 555-0143", "Ian Brown", None, created=ago(10))
        self.add_order(acc, ago(1), "processing", [("sports", "running shoes", 1, 8999, False)], "USD", False, "Boston", "US", number="4000000901")
        self.add_conversation(p, "whatsapp", "whatsapp:+12025550143", "+12025550143", None, None, "Ian", "order_status", "resolved", 5, ago(1), ago(1) + timedelta(minutes=4), "asked when shoes ship")

        # 10 Jack Turner: stale CRM record
        p = person(10, "Jack", "Turner", "jack.turner@example.net", "+447700900110", "HH-DEMO-10", 3000, address=gb("9 Oak Close", "Nottingham", "NG1 5DT"))
        self.add_crm(p, "Jack", "jack.turner@example.net", "07700 900110", p.address, ago(3000), ago(1460), number="C1000010")
        self.add_marketing(p, "jack.turner@example.net", None, state="never")
