"""The async repository against a generated SQLite store (the well-known demo customers)."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from bot.profile import (
    CustomerProfile,
    InvalidIdentifier,
    ProfileError,
    ProfileNotFound,
    ProfileRepository,
    ProfileStoreUnavailable,
)
from bot.profile.errors import AmbiguousIdentifier, InvalidProfileInput
from bot.profile.model import OrderStatus, RefundMethod, RefundState
from tests.profile.conftest import NOW


@pytest.mark.parametrize(
    "identifier, kind",
    [
        ("amelia.hart@example.com", None),
        ("AMELIA.HART@EXAMPLE.COM", "email"),
        ("07700 900101", None),
        ("+44 7700 900101", "phone"),
        ("C1000001", None),
        ("c 100 0001", "customer_number"),
        ("#004000000101", None),
        ("4000000101", "order_id"),
        ("INV-0000001", None),
    ],
)
async def test_find_by_any_identifier(repo: ProfileRepository, identifier: str, kind: str | None) -> None:
    profile = await repo.find(identifier, kind)
    assert isinstance(profile, CustomerProfile)
    assert profile.full_name == "Amelia Hart" and profile.customer_number == "C1000001"
    assert (await repo.get(profile.customer_id)).customer_id == profile.customer_id


async def test_dispatched_order_with_promised_date(repo: ProfileRepository) -> None:
    profile = await repo.find("amelia.hart@example.com")
    order = profile.order("#4000000101")
    assert order is not None and order.status is OrderStatus.DISPATCHED and order in profile.open_orders()
    assert order.shipment is not None and order.shipment.carrier == "DPD" and order.shipment.tracking_number
    assert order.shipment.promised_date == (NOW + timedelta(days=2)).date()
    assert profile.order("999999999") is None and profile.order("not an order") is None


async def test_approved_card_refund(repo: ProfileRepository) -> None:
    profile = await repo.find("ben.okafor@example.net")
    (refund,) = profile.refunds_for("4000000201")
    assert refund.method is RefundMethod.CARD and refund.state is RefundState.APPROVED and refund.amount == 5999
    assert refund.approved_at is not None and refund.paid_at is None
    assert profile.order("4000000201").status is OrderStatus.RETURNED
    assert "open_refund" in profile.segments and "recently_contacted_support" in profile.segments


async def test_high_value_customer_with_open_complaint(repo: ProfileRepository) -> None:
    profile = await repo.find("+447700900103")
    assert {"high_value", "open_complaint", "loyal"} <= profile.segments
    assert [t.ticket_id for t in profile.open_complaints()] == ["T-00000301"]
    assert not profile.marketing_allowed and "open complaint" in profile.suppressions["no_marketing"]


async def test_bereavement_flag_silences_marketing(repo: ProfileRepository) -> None:
    profile = await repo.find("whatsapp:+447700900104")
    assert [(f.name, f.kind) for f in profile.flags] == [("sensitive_circumstance", "bereavement")]
    assert profile.consent.marketing_allowed and not profile.marketing_allowed
    assert "whatsapp:+447700900104" in profile.channel_ids


async def test_gift_orders_do_not_shape_preferences(repo: ProfileRepository) -> None:
    profile = await repo.find("emma.wilson@example.org")
    assert profile.order("4000000501").is_gift
    assert "toys" not in profile.preferred_categories and "books" in profile.preferred_categories
    assert "preference:toys" in profile.suppressions and "gift_buyer" in profile.segments


async def test_shared_household_email_is_ambiguous_but_phones_are_not(repo: ProfileRepository) -> None:
    with pytest.raises(AmbiguousIdentifier) as info:
        await repo.find("thesmiths@example.org")
    assert isinstance(info.value, ProfileNotFound) and info.value.candidates >= 2
    frank, grace = await repo.find("07700 900106"), await repo.find("07700 900107")
    assert frank.customer_id != grace.customer_id
    assert (frank.given_name, grace.given_name) == ("Frank", "Grace")
    assert frank.address == grace.address


async def test_duplicate_entries_become_one_profile(repo: ProfileRepository) -> None:
    a = await repo.find("hannahlee@gmail.com")
    b = await repo.find("C1000018")
    c = await repo.find("0044 7700 900108")
    assert a.customer_id == b.customer_id == c.customer_id
    assert a.customer_numbers == ("C1000008", "C1000018") and a.given_name == "Hannah"
    assert a.address.city == "Glasgow"  # the newer CRM record's address survives


async def test_new_us_customer_and_stale_customer(repo: ProfileRepository) -> None:
    ian = await repo.find("+1 (202) 555-0143")
    assert "new" in ian.segments and ian.phone == "+12025550143"
    jack = await repo.find("C1000010")
    assert jack.fields["given_name"].stale and jack.greeting_name is None and jack.given_name == "Jack"


@pytest.mark.parametrize("identifier", ["nobody@example.com", "07700 900999", "C9999998", "123456789012", "INV-0000000", "messenger:99999"])
async def test_unknown_customer_is_not_found(repo: ProfileRepository, identifier: str) -> None:
    with pytest.raises(ProfileNotFound):
        await repo.find(identifier)


@pytest.mark.parametrize(
    "identifier, kind",
    [("jo@", None), ("07700 9001", "phone"), ("", None), ("x" * 5000, None), (None, None), (123, None), ("jo@example.com", "passport"), ("abc\x00", None), ("hello", "order_id")],
)
async def test_bad_input_is_a_validation_error(repo: ProfileRepository, identifier: object, kind: str | None) -> None:
    with pytest.raises(InvalidIdentifier) as info:
        await repo.find(identifier, kind)  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError) and isinstance(info.value, ProfileError) and str(info.value)


async def test_get_validates_and_reports_unknown_ids(repo: ProfileRepository) -> None:
    with pytest.raises(InvalidIdentifier):
        await repo.get("robert'); DROP TABLE tp_link;--")
    with pytest.raises(ProfileNotFound):
        await repo.get("cus_0000000000000000")


async def test_bot_writes_are_reflected_in_the_profile(repo: ProfileRepository) -> None:
    profile = await repo.find("C1000005")
    cid = profile.customer_id
    assert profile.greeting_name == "Emma" and profile.marketing_allowed
    await repo.set_personalisation(cid, False)
    await repo.set_marketing_consent(cid, False)
    fb = await repo.record_feedback(cid, "complaint", "The board game box was crushed.", "conv-1")
    review = await repo.record_feedback(cid, "review", "Lovely cookbook", None)
    er = await repo.request_erasure(cid, "conv-2")
    assert fb.startswith("FB-") and review.startswith("FB-") and er.startswith("ER-")
    after = await repo.get(cid)
    assert not after.consent.personalisation_allowed and after.greeting_name is None
    assert not after.consent.marketing_allowed and after.fields["consent.marketing_allowed"].system == "tandem"
    assert "open_complaint" in after.segments and any(getattr(c, "feedback_id", None) == fb for c in after.open_complaints())
    assert {f.kind for f in after.feedback} == {"complaint", "review"} and after.erasure_requested
    await repo.set_personalisation(cid, True, source="agent")
    assert (await repo.get(cid)).consent.personalisation_allowed


async def test_write_input_is_validated(repo: ProfileRepository) -> None:
    cid = (await repo.find("C1000002")).customer_id
    with pytest.raises(InvalidProfileInput):
        await repo.record_feedback(cid, "rant", "x", None)
    with pytest.raises(InvalidProfileInput):
        await repo.record_feedback(cid, "review", "x" * 10_000, None)
    with pytest.raises(InvalidProfileInput):
        await repo.set_personalisation(cid, "no")  # type: ignore[arg-type]
    with pytest.raises(ProfileNotFound):
        await repo.set_marketing_consent("cus_0000000000000000", True)


async def test_summary_of_a_real_profile_is_json_safe(repo: ProfileRepository) -> None:
    text = json.dumps((await repo.find("C1000003")).to_summary())
    assert "None" not in text and "null" not in text and "T-00000301" in text


async def test_concurrent_lookups_on_one_loop(repo: ProfileRepository) -> None:
    ids = ["C1000001", "C1000002", "C1000003", "C1000004", "C1000005", "C1000006", "C1000007", "C1000008"] * 4
    profiles = await asyncio.gather(*(repo.find(i) for i in ids))
    assert [p.customer_number for p in profiles] == ids


async def test_unbuilt_store_is_unavailable_not_a_crash(tmp_path: Path) -> None:
    repo = ProfileRepository.from_url(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(ProfileStoreUnavailable, match="profile build"):
        await repo.find("amelia.hart@example.com")
    await repo.create_schema()
    await repo.create_schema()  # idempotent
    with pytest.raises(ProfileNotFound):
        await repo.find("amelia.hart@example.com")
    await repo.close()


async def test_database_down_is_unavailable() -> None:
    repo = ProfileRepository(create_async_engine("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere", future=True), timeout_s=5)
    with pytest.raises(ProfileStoreUnavailable):
        await repo.find("C1000001")
    with pytest.raises(ProfileStoreUnavailable):
        await repo.set_personalisation("cus_0000000000000000", False)
    await repo.close()


async def test_timeout_is_unavailable() -> None:
    """A database that accepts the connection and never answers: the bound holds."""

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # never replies; returns when the client gives up
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    repo = ProfileRepository(create_async_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{port}/test", future=True), timeout_s=0.3)
    try:
        with pytest.raises(ProfileStoreUnavailable, match="in time"):
            await repo.find("C1000001")
    finally:
        await repo.close()
        server.close()
        await server.wait_closed()


def test_engine_must_be_async() -> None:
    from sqlalchemy import create_engine

    with pytest.raises(TypeError):
        ProfileRepository(create_engine("sqlite://", future=True))  # type: ignore[arg-type]
