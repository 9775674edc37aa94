"""Process requests the bot starts (``record_request`` / ``open_requests``) on a real SQLite store.

Each test works on its own copy of the session's demo store, so requests
written here never leak into other tests.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import AsyncIterator

import pytest
from sqlalchemy import func, select, text

from bot.profile import (
    REQUEST_KINDS,
    InvalidIdentifier,
    ProfileNotFound,
    ProfileRepository,
    ProfileStoreUnavailable,
)
from bot.profile import schema
from bot.profile.build import build_demo, sync_engine
from bot.profile.errors import InvalidProfileInput
from bot.profile.model import short_reference
from tests.profile.conftest import NOW

AMELIA_ORDER = "4000000101"
BEN_ORDER = "4000000201"


@pytest.fixture
async def store(demo_db: str, tmp_path: Path) -> AsyncIterator[ProfileRepository]:
    source = Path(demo_db.split("///", 1)[1])
    copy = tmp_path / "requests.db"
    shutil.copyfile(source, copy)
    repository = ProfileRepository.from_url(f"sqlite+aiosqlite:///{copy}", clock=lambda: NOW)
    yield repository
    await repository.close()


async def _count(repo: ProfileRepository) -> int:
    async with repo.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(schema.tp_request))).scalar_one())


async def test_a_request_is_stored_and_shown_as_open(store: ProfileRepository) -> None:
    amelia = await store.find("amelia.hart@example.com")
    request_id = await store.record_request(
        amelia.customer_id, "order_cancellation", order_id="#4000000101", conversation_id="conv-1", details={"variant": "before_dispatch"}
    )
    assert request_id.startswith("RQ-")
    (open_request,) = await store.open_requests(amelia.customer_id)
    assert open_request.request_id == request_id and open_request.kind == "order_cancellation"
    assert open_request.order_id == AMELIA_ORDER and open_request.conversation_id == "conv-1"
    assert open_request.state == "requested" and open_request.created_at == NOW
    assert dict(open_request.details) == {"variant": "before_dispatch"}
    assert open_request.reference == short_reference(request_id) and len(open_request.reference) == 10

    profile = await store.get(amelia.customer_id)
    assert profile.open_requests() == (open_request,)
    assert profile.fields["requests"].system == "tandem"  # "what data do you hold" lists it
    summary = profile.to_summary()
    json.dumps(summary)
    assert summary["open_items"]["requests"] == [
        {
            "request_id": request_id,
            "reference": open_request.reference,
            "kind": "order_cancellation",
            "order_id": AMELIA_ORDER,
            "state": "requested",
            "created_at": "2025-06-02 12:00:00",
        }
    ]


async def test_requests_without_an_order(store: ProfileRepository) -> None:
    ben = await store.find("C1000002")
    for kind in ("data_export", "account_deletion", "password_recovery"):
        await store.record_request(ben.customer_id, kind, conversation_id="conv-2")
    kinds = [r.kind for r in await store.open_requests(ben.customer_id)]
    assert sorted(kinds) == ["account_deletion", "data_export", "password_recovery"]
    summary = (await store.get(ben.customer_id)).to_summary()
    assert all("order_id" not in item for item in summary["open_items"]["requests"])  # no "None"


async def test_a_retried_request_is_not_duplicated(store: ProfileRepository) -> None:
    cid = (await store.find("amelia.hart@example.com")).customer_id
    first = await store.record_request(cid, "invoice_copy", order_id=AMELIA_ORDER, conversation_id="conv-3", details={"invoice_id": "INV-0000001"})
    again = await store.record_request(cid, "invoice_copy", order_id="4000000101", conversation_id="conv-3", details={"other": 1})
    assert again == first and await _count(store) == 1
    assert dict((await store.open_requests(cid))[0].details) == {"invoice_id": "INV-0000001"}  # the first write wins
    # another conversation, kind or order is another request
    other_conv = await store.record_request(cid, "invoice_copy", order_id=AMELIA_ORDER, conversation_id="conv-4")
    other_kind = await store.record_request(cid, "address_change", order_id=AMELIA_ORDER, conversation_id="conv-3")
    assert len({first, other_conv, other_kind}) == 3 and await _count(store) == 3


async def test_concurrent_retries_store_one_request(store: ProfileRepository) -> None:
    cid = (await store.find("amelia.hart@example.com")).customer_id
    ids = await asyncio.gather(*(store.record_request(cid, "payment_investigation", conversation_id="conv-5") for _ in range(6)))
    assert len(set(ids)) == 1 and await _count(store) == 1


async def test_a_closed_request_can_be_made_again(store: ProfileRepository) -> None:
    cid = (await store.find("amelia.hart@example.com")).customer_id
    first = await store.record_request(cid, "data_export", conversation_id="conv-6")
    await store.update_request(first, "in_progress")
    assert [r.state for r in await store.open_requests(cid)] == ["in_progress"]
    assert await store.record_request(cid, "data_export", conversation_id="conv-6") == first  # still open
    await store.update_request(first, "done")
    assert await store.open_requests(cid) == ()
    second = await store.record_request(cid, "data_export", conversation_id="conv-6")
    assert second != first and [r.request_id for r in await store.open_requests(cid)] == [second]
    profile = await store.get(cid)
    assert [r.state for r in profile.requests] == ["done", "requested"]  # history kept, only one open
    with pytest.raises(ProfileNotFound):
        await store.update_request("RQ-nothing", "done")
    with pytest.raises(InvalidProfileInput):
        await store.update_request(first, "finished")


async def test_bad_requests_are_refused_and_nothing_is_stored(store: ProfileRepository) -> None:
    cid = (await store.find("amelia.hart@example.com")).customer_id
    with pytest.raises(InvalidProfileInput, match="request kind"):
        await store.record_request(cid, "world_peace")
    with pytest.raises(InvalidIdentifier):
        await store.record_request(cid, "order_change", order_id="12")
    with pytest.raises(InvalidIdentifier):
        await store.record_request("not-a-customer", "data_export")
    with pytest.raises(ProfileNotFound, match="order"):
        await store.record_request(cid, "order_change", order_id=BEN_ORDER)  # someone else's order
    with pytest.raises(ProfileNotFound):
        await store.record_request("cus_0000000000000000", "data_export")
    with pytest.raises(InvalidProfileInput, match="details"):
        await store.record_request(cid, "data_export", details=["not", "an", "object"])  # type: ignore[arg-type]
    with pytest.raises(InvalidProfileInput, match="details"):
        await store.record_request(cid, "data_export", details={"when": object()})
    with pytest.raises(InvalidProfileInput, match="too long"):
        await store.record_request(cid, "data_export", details={"text": "x" * 5000})
    with pytest.raises(InvalidProfileInput, match="conversation id"):
        await store.record_request(cid, "data_export", conversation_id="c" * 500)
    with pytest.raises(ProfileNotFound):
        await store.open_requests("cus_0000000000000000")
    assert await _count(store) == 0
    # control characters are kept, escaped
    rid = await store.record_request(cid, "data_export", details={"note": "a\x00b"})
    assert (await store.open_requests(cid))[0].details["note"] == "a\x00b" and rid


def test_request_kinds_are_catalogue_processes() -> None:
    from bot.processes.catalogue import default_catalogue

    assert REQUEST_KINDS <= set(default_catalogue().processes)


async def test_a_store_built_before_requests_existed_gets_the_table(store: ProfileRepository) -> None:
    async with store.engine.begin() as conn:
        await conn.execute(text("DROP TABLE tp_request"))
    amelia = await store.find("amelia.hart@example.com")  # reads keep working
    assert amelia.requests == ()
    rid = await store.record_request(amelia.customer_id, "refund", order_id=AMELIA_ORDER, conversation_id="conv-7")
    assert [r.request_id for r in await store.open_requests(amelia.customer_id)] == [rid]


async def test_requests_survive_a_rebuild(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'rebuild.db'}"
    engine = sync_engine(url)
    build_demo(engine, 15, seed=7, now=NOW)
    repo = ProfileRepository.from_url(url, clock=lambda: NOW)
    try:
        cid = (await repo.find("amelia.hart@example.com")).customer_id
        rid = await repo.record_request(cid, "order_change", order_id=AMELIA_ORDER, conversation_id="conv-8")
        await repo.engine.dispose()
        build_demo(engine, 15, seed=7, now=NOW)
        assert [r.request_id for r in await repo.open_requests(cid)] == [rid]
    finally:
        engine.dispose()
        await repo.close()


async def test_store_down_is_unavailable() -> None:
    repo = ProfileRepository.from_url("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere", timeout_s=5)
    try:
        with pytest.raises(ProfileStoreUnavailable, match="could not record the request"):
            await repo.record_request("cus_0000000000000000", "data_export")
        with pytest.raises(ProfileStoreUnavailable):
            await repo.open_requests("cus_0000000000000000")
    finally:
        await repo.close()


async def test_unbuilt_store_is_unavailable_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    repo = ProfileRepository.from_url(f"sqlite+aiosqlite:///{path}")
    try:
        with pytest.raises(ProfileStoreUnavailable, match="not set up"):
            await repo.record_request("cus_0000000000000000", "data_export")
        async with repo.engine.connect() as conn:
            tables = (await conn.execute(text("SELECT count(*) FROM sqlite_master WHERE type = 'table'"))).scalar_one()
        assert tables == 0  # no half-built store
    finally:
        await repo.close()
