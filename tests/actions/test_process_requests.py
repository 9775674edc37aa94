"""Whatever the bot says it started exists as a request in the profile store.

Every action that starts a process records it (``record_request``) before it
says so and quotes the reference; a retried action does not create a second
request; when the store cannot take the write, the customer hears that nothing
was started and what to do, and the conversation is flagged.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any, AsyncIterator

import pytest

from actions.account import ActionCheckDeleteAccount, ActionRecoverPassword
from actions.billing import ActionGetInvoice, ActionPaymentIssue
from actions.delivery import ActionChangeShippingAddress, ActionConfirmAddressChange
from actions.identity import ActionConfirm
from actions.orders import ActionChangeOrder, ActionCheckCancelOrder, ActionTrackOrder
from actions.privacy import ActionMyDataRequest
from actions.refunds import ActionGetRefund
from bot.actions_support.runtime import use_services

from .conftest import Conversation, make_services
from .helpers import AMELIA, AMELIA_ORDER, CHLOE, EMMA, IAN, IAN_ORDER, clean, three_parts, type_code

REFERENCE = re.compile(r"\bR-[0-9A-F]{8}\b")
#: what the bot says when it claims to have started something
CLAIMS = ("I've asked", "I've started", "I've passed", "I've registered", "I've opened", "I've noted", "Done:")

Step = tuple[Any, str, dict[str, str], dict[str, Any]]

#: kind, order the request is about, steps (action, intent, entities, slots), metadata, who (identifier)
CASES: list[tuple[str, str | None, list[Step], dict[str, Any], str]] = [
    (
        "order_cancellation",
        IAN_ORDER,
        [(ActionCheckCancelOrder, "cancel_order", {"order_id": IAN_ORDER}, {}), (ActionConfirm, "affirm", {}, {})],
        IAN,
        IAN_ORDER,
    ),
    (
        "order_change",
        IAN_ORDER,
        [(ActionChangeOrder, "change_order", {"order_id": IAN_ORDER}, {}), (ActionConfirm, "affirm", {}, {})],
        IAN,
        IAN_ORDER,
    ),
    (
        "address_change",
        IAN_ORDER,
        [(ActionChangeShippingAddress, "change_shipping_address", {"order_id": IAN_ORDER}, {}), (ActionConfirmAddressChange, "inform", {}, {"new_address": "1600 Main Street, Springfield 20500"}), (ActionConfirm, "affirm", {}, {})],
        IAN,
        IAN_ORDER,
    ),
    (
        "address_change",
        AMELIA_ORDER,
        [(ActionChangeShippingAddress, "change_shipping_address", {}, {}), (ActionConfirmAddressChange, "inform", {}, {"new_address": "1600 Main Street, Springfield 20500"}), (ActionConfirm, "affirm", {}, {})],
        AMELIA,
        AMELIA_ORDER,
    ),
    (
        "refund",
        "4000000501",
        [(ActionGetRefund, "get_refund", {"order_id": "4000000501"}, {}), (ActionConfirm, "affirm", {}, {})],
        EMMA,
        "4000000501",
    ),
    ("invoice_copy", AMELIA_ORDER, [(ActionGetInvoice, "get_invoice", {"invoice_id": "INV-0000001"}, {})], AMELIA, AMELIA_ORDER),
    ("payment_investigation", None, [(ActionPaymentIssue, "payment_issue", {}, {})], AMELIA, AMELIA_ORDER),
    (
        "account_deletion",
        None,
        [(ActionCheckDeleteAccount, "delete_account", {}, {}), (ActionConfirm, "affirm", {}, {})],
        AMELIA,
        AMELIA_ORDER,
    ),
    ("password_recovery", None, [(ActionRecoverPassword, "recover_password", {}, {})], AMELIA, AMELIA_ORDER),
    (
        "data_export",
        None,
        [(ActionMyDataRequest, "my_data_request", {}, {}), (ActionConfirm, "affirm", {}, {})],
        AMELIA,
        AMELIA_ORDER,
    ),
]
IDS = [f"{kind}-{order or 'account'}" for kind, order, *_ in CASES]


async def _run(conv: Conversation, steps: list[Step], metadata: dict[str, Any]) -> list[str]:
    messages: list[str] = []
    for action_cls, intent, entities, slots in steps:
        conv.slots.update(slots)
        conv.say("please", intent, entities, metadata=metadata)
        messages = await conv.run(action_cls())
    return messages


@pytest.mark.parametrize(("kind", "order_id", "steps", "metadata", "who"), CASES, ids=IDS)
async def test_the_started_process_is_stored_with_its_reference(  # type: ignore[no-untyped-def]
    domain, services, repo, kind: str, order_id: str | None, steps: list[Step], metadata: dict[str, Any], who: str
) -> None:
    conv = Conversation(domain)
    messages = await _run(conv, steps, metadata)
    clean(messages)
    three_parts(messages)
    customer = await repo.find(who)
    (request,) = await repo.open_requests(customer.customer_id)
    assert request.kind == kind and request.order_id == order_id and request.state == "requested"
    assert request.conversation_id == conv.sender_id
    said = [m for m in messages if request.reference in m]
    assert said and any(claim in said[0] for claim in CLAIMS), messages  # the claim quotes the stored request
    assert "data_unavailable" not in conv.slots or not conv.slots["data_unavailable"]
    summary = (await repo.get(customer.customer_id)).to_summary()
    assert [r["kind"] for r in summary["open_items"]["requests"]] == [kind]  # the agent console sees it


async def test_retried_actions_do_not_duplicate_requests(domain, services, repo) -> None:  # type: ignore[no-untyped-def]
    conv = Conversation(domain)
    first = await _run(conv, [(ActionGetInvoice, "get_invoice", {"invoice_id": "INV-0000001"}, {})], AMELIA)
    again = await _run(conv, [(ActionGetInvoice, "get_invoice", {"invoice_id": "INV-0000001"}, {})], AMELIA)
    ref = REFERENCE.findall(" ".join(first))
    assert ref and ref == REFERENCE.findall(" ".join(again))
    export = [(ActionMyDataRequest, "my_data_request", {}, {}), (ActionConfirm, "affirm", {}, {})]
    await _run(conv, export, AMELIA)
    await _run(conv, export, AMELIA)
    amelia = await repo.find("amelia.hart@example.com")
    assert sorted(r.kind for r in await repo.open_requests(amelia.customer_id)) == ["data_export", "invoice_copy"]
    # another conversation is another request
    other = Conversation(domain, sender_id="another-conversation")
    await _run(other, [(ActionGetInvoice, "get_invoice", {"invoice_id": "INV-0000001"}, {})], AMELIA)
    assert len(await repo.open_requests(amelia.customer_id)) == 3


async def test_the_data_request_lists_open_requests(domain, services, repo) -> None:  # type: ignore[no-untyped-def]
    conv = Conversation(domain)
    await _run(conv, [(ActionGetInvoice, "get_invoice", {"invoice_id": "INV-0000001"}, {})], AMELIA)
    messages = await _run(conv, [(ActionMyDataRequest, "my_data_request", {}, {})], AMELIA)
    clean(messages)
    listed = [m for m in messages if m.startswith("Requests you've made that our team is still working on")]
    assert listed and "invoice copy for order 4000000101 (R-" in listed[0] and "requested)" in listed[0]
    assert any("requests you made through this assistant" in m for m in messages)  # by system: our own records


@pytest.mark.parametrize(
    ("steps", "metadata"),
    [
        ([(ActionCheckCancelOrder, "cancel_order", {}, {})], AMELIA),  # dispatched: can't be cancelled
        ([(ActionChangeOrder, "change_order", {}, {})], AMELIA),  # dispatched: return instead
        ([(ActionTrackOrder, "track_order", {}, {})], AMELIA),
        ([(ActionGetRefund, "get_refund", {"order_id": "4000000305"}, {})], CHLOE),
    ],
    ids=["cancel-after-dispatch", "change-after-dispatch", "track", "refund-refused"],
)
async def test_nothing_is_recorded_when_nothing_was_started(domain, services, repo, steps, metadata) -> None:  # type: ignore[no-untyped-def]
    conv = Conversation(domain)
    messages = await _run(conv, steps, metadata)
    assert not REFERENCE.search(" ".join(messages))
    async with repo.engine.connect() as connection:
        from sqlalchemy import func, select

        from bot.profile import schema

        assert (await connection.execute(select(func.count()).select_from(schema.tp_request))).scalar_one() == 0


async def test_an_unknown_customer_is_asked_before_an_investigation_is_promised(domain, services, repo, outbox) -> None:  # type: ignore[no-untyped-def]
    from actions.identity import ActionIdentifyCustomer

    conv = Conversation(domain)
    first = await _run(conv, [(ActionPaymentIssue, "payment_issue", {}, {})], {})
    clean(first)
    assert not any(claim in m for m in first for claim in CLAIMS)
    assert conv.slots["pending_action"] == "action_payment_issue"
    conv.say("amelia.hart@example.com", "inform", {"email": "amelia.hart@example.com"})
    await conv.run_and_follow(ActionIdentifyCustomer())
    assert not any(claim in m for m in conv.bot_messages for claim in CLAIMS)  # a claim is not proof
    resumed = await type_code(conv, outbox)
    three_parts(resumed)
    amelia = await repo.find("amelia.hart@example.com")
    (request,) = await repo.open_requests(amelia.customer_id)
    assert request.kind == "payment_investigation" and request.reference in " ".join(resumed)


@pytest.fixture
async def read_only(demo_db: Path, tmp_path: Path) -> AsyncIterator[None]:
    """The real store, readable but refusing every write (a read-only SQLite connection)."""
    from bot.profile import ProfileRepository

    copy = tmp_path / "read-only.db"
    shutil.copyfile(demo_db, copy)
    repository = ProfileRepository.from_url(f"sqlite+aiosqlite:///file:{copy}?mode=ro&uri=true")
    use_services(make_services(repository))
    yield
    use_services(None)
    await repository.close()


@pytest.mark.parametrize(("kind", "order_id", "steps", "metadata", "who"), CASES, ids=IDS)
async def test_store_refusing_the_write_is_said_honestly(  # type: ignore[no-untyped-def]
    domain, read_only, kind: str, order_id: str | None, steps: list[Step], metadata: dict[str, Any], who: str
) -> None:
    conv = Conversation(domain)
    messages = await _run(conv, steps, metadata)
    clean(messages)
    text = " ".join(messages)
    assert "couldn't record" in text and "hasn't been started yet" in text, messages
    assert 'say "agent"' in text
    assert not REFERENCE.search(text)
    assert not any(claim in m for m in messages for claim in CLAIMS), messages
    assert conv.slots["data_unavailable"] is True


async def test_a_cancellation_that_could_not_be_recorded_can_be_confirmed_again(domain, read_only) -> None:  # type: ignore[no-untyped-def]
    conv = Conversation(domain)
    await _run(conv, CASES[0][2], CASES[0][3])
    assert conv.slots["cancel_confirmation"] == IAN_ORDER  # "yes" again retries the same cancellation
