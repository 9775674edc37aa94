"""The same store on the real PostgreSQL server (a unique schema per test, dropped afterwards)."""

from __future__ import annotations

from sqlalchemy import text

from bot.profile import ProfileNotFound, ProfileRepository
from bot.profile.build import build_demo, sync_engine
from bot.profile.errors import AmbiguousIdentifier, InvalidIdentifier
from bot.profile.model import OrderStatus, RefundState
from bot.profile.quality import measure
from tests.profile.conftest import NOW, PG_URL

import pytest


async def test_build_resolve_and_look_up_on_postgresql(pg_schema: str) -> None:
    engine = sync_engine(PG_URL, schema_name=pg_schema)
    try:
        stats = build_demo(engine, 150, seed=3, now=NOW)
        with engine.connect() as conn:
            quality = measure(conn)
            tables = conn.execute(text("SELECT count(*) FROM information_schema.tables WHERE table_schema = :s"), {"s": pg_schema}).scalar_one()
    finally:
        engine.dispose()
    assert stats.resolution.records > 300 and tables >= 18  # everything landed in the test schema
    assert quality.precision >= 0.99 and quality.recall >= 0.95

    repo = ProfileRepository.from_url(PG_URL, schema_name=pg_schema, clock=lambda: NOW)
    try:
        await repo.create_schema()  # idempotent on a built store
        amelia = await repo.find("07700 900101")
        order = amelia.order("#4000000101")
        assert amelia.full_name == "Amelia Hart" and order.status is OrderStatus.DISPATCHED
        assert order.shipment.promised_date is not None and order.placed_at.year == 2025
        ben = await repo.find("C1000002")
        assert ben.refunds[0].state is RefundState.APPROVED and ben.refunds[0].approved_at is not None
        assert (await repo.find("whatsapp:+447700900104")).flags[0].kind == "bereavement"
        with pytest.raises(AmbiguousIdentifier):
            await repo.find("thesmiths@example.org")
        with pytest.raises(ProfileNotFound):
            await repo.find("nobody@example.com")
        with pytest.raises(InvalidIdentifier):
            await repo.find("07700 9001", "phone")
        cid = amelia.customer_id
        await repo.set_personalisation(cid, False)
        fb = await repo.record_feedback(cid, "complaint", "late", "conv-9")
        after = await repo.get(cid)
        assert not after.consent.personalisation_allowed and "open_complaint" in after.segments
        assert any(getattr(c, "feedback_id", None) == fb for c in after.open_complaints())
        assert after.to_summary()["identity"]["full_name"] == "Amelia Hart"
    finally:
        await repo.close()


async def test_process_requests_on_postgresql(pg_schema: str) -> None:
    """record_request / open_requests / update_request, idempotency (also under concurrency),
    and a store built before tp_request existed, on the real server."""
    import asyncio

    from bot.profile.errors import InvalidProfileInput

    engine = sync_engine(PG_URL, schema_name=pg_schema)
    try:
        build_demo(engine, 20, seed=3, now=NOW)
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE tp_request"))  # as built by an older version
    finally:
        engine.dispose()

    repo = ProfileRepository.from_url(PG_URL, schema_name=pg_schema, clock=lambda: NOW)
    try:
        amelia = await repo.find("amelia.hart@example.com")  # reads work, the table is added
        cid = amelia.customer_id
        ids = await asyncio.gather(
            *(repo.record_request(cid, "order_cancellation", order_id="4000000101", conversation_id="conv-pg", details={"variant": "before_dispatch"}) for _ in range(4))
        )
        assert len(set(ids)) == 1
        export = await repo.record_request(cid, "data_export", conversation_id="conv-pg")
        cancel, data = await repo.open_requests(cid)  # oldest first (same clock: ids are time-ordered)
        assert cancel.request_id == ids[0] and cancel.order_id == "4000000101" and cancel.state == "requested"
        assert dict(cancel.details) == {"variant": "before_dispatch"} and cancel.created_at == NOW
        assert data.kind == "data_export" and data.order_id is None
        summary = (await repo.get(cid)).to_summary()
        assert {r["kind"] for r in summary["open_items"]["requests"]} == {"order_cancellation", "data_export"}
        await repo.update_request(export, "done")
        assert [r.request_id for r in await repo.open_requests(cid)] == [ids[0]]
        assert await repo.record_request(cid, "data_export", conversation_id="conv-pg") != export
        with pytest.raises(ProfileNotFound):
            await repo.record_request(cid, "refund", order_id="4000000201")  # Ben's order
        with pytest.raises(InvalidProfileInput):
            await repo.record_request(cid, "nonsense")
    finally:
        await repo.close()
