"""Every action that starts or reports on a process ends with the three answers.

One real case per process of the catalogue (the handoff process is answered by
``action_handoff``, tested with the handoff service).
"""

from __future__ import annotations

from typing import Any

import pytest

from actions.account import ActionCheckDeleteAccount, ActionCreateAccount, ActionRecoverPassword
from actions.billing import ActionGetInvoice, ActionPaymentIssue
from actions.delivery import ActionChangeShippingAddress, ActionConfirmAddressChange, ActionSetUpShippingAddress
from actions.feedback import ActionNewsletter, ActionRecordComplaint
from actions.identity import ActionConfirm
from actions.orders import ActionChangeOrder, ActionCheckCancelOrder, ActionTrackOrder
from actions.privacy import ActionForgetMe, ActionMyDataRequest
from actions.refunds import ActionGetRefund, ActionTrackRefund
from bot.processes.catalogue import default_catalogue

from .conftest import Conversation
from .helpers import AMELIA, BEN, EMMA, IAN, IAN_ORDER, JACK, clean, three_parts

#: (process, variant, steps before the action: (action, intent, entities, slots), metadata)
CASES: list[tuple[str, str, list[tuple[Any, str, dict[str, str], dict[str, Any]]], dict[str, Any]]] = [
    ("refund", "card", [(ActionTrackRefund, "track_refund", {}, {})], BEN),
    ("order_cancellation", "before_dispatch", [(ActionCheckCancelOrder, "cancel_order", {"order_id": IAN_ORDER}, {}), (ActionConfirm, "affirm", {}, {})], IAN),
    ("order_cancellation", "after_dispatch", [(ActionCheckCancelOrder, "cancel_order", {}, {})], AMELIA),
    ("order_change", "before_dispatch", [(ActionChangeOrder, "change_order", {"order_id": IAN_ORDER}, {}), (ActionConfirm, "affirm", {}, {})], IAN),
    ("order_change", "after_dispatch", [(ActionChangeOrder, "change_order", {}, {})], AMELIA),
    ("address_change", "before_dispatch", [(ActionChangeShippingAddress, "change_shipping_address", {"order_id": IAN_ORDER}, {}), (ActionConfirmAddressChange, "inform", {}, {"new_address": "1600 Main Street, Springfield 20500"}), (ActionConfirm, "affirm", {}, {})], IAN),
    ("address_change", "after_dispatch", [(ActionChangeShippingAddress, "change_shipping_address", {}, {}), (ActionConfirmAddressChange, "inform", {}, {"new_address": "1600 Main Street, Springfield 20500"}), (ActionConfirm, "affirm", {}, {})], AMELIA),
    ("address_change", "account", [(ActionSetUpShippingAddress, "set_up_shipping_address", {}, {})], {}),
    ("delivery", "standard_domestic", [(ActionTrackOrder, "track_order", {}, {})], AMELIA),
    ("delivery", "standard_international", [(ActionTrackOrder, "track_order", {"order_id": IAN_ORDER}, {})], IAN),
    ("return", "standard", [(ActionGetRefund, "get_refund", {"order_id": "4000000501"}, {}), (ActionConfirm, "affirm", {}, {})], EMMA),
    ("invoice_copy", "email", [(ActionGetInvoice, "get_invoice", {"invoice_id": "INV-0000001"}, {})], AMELIA),
    ("payment_investigation", "standard", [(ActionPaymentIssue, "payment_issue", {}, {})], AMELIA),
    ("account_creation", "standard", [(ActionCreateAccount, "create_account", {}, {})], {}),
    ("account_deletion", "standard", [(ActionCheckDeleteAccount, "delete_account", {}, {}), (ActionConfirm, "affirm", {}, {})], AMELIA),
    ("password_recovery", "standard", [(ActionRecoverPassword, "recover_password", {}, {})], AMELIA),
    ("complaint", "standard", [(ActionRecordComplaint, "complaint", {}, {"feedback_text": "broken on arrival"})], AMELIA),
    ("newsletter", "subscribe", [(ActionNewsletter, "newsletter_subscription", {}, {})], JACK),
    ("data_export", "standard", [(ActionMyDataRequest, "my_data_request", {}, {}), (ActionConfirm, "affirm", {}, {})], AMELIA),
    ("erasure", "standard", [(ActionForgetMe, "forget_me", {}, {}), (ActionConfirm, "affirm", {}, {})], AMELIA),
]


def test_every_process_but_the_handoff_is_covered() -> None:
    covered = {process for process, *_ in CASES}
    assert covered == set(default_catalogue().processes) - {"handoff"}


@pytest.mark.parametrize(("process", "variant", "steps", "metadata"), CASES, ids=[f"{p}-{v}" for p, v, *_ in CASES])
async def test_three_questions(domain, services, process: str, variant: str, steps, metadata) -> None:  # type: ignore[no-untyped-def]
    conv = Conversation(domain)
    messages: list[str] = []
    for action_cls, intent, entities, slots in steps:
        conv.slots.update(slots)
        conv.say("...", intent, entities, metadata=metadata)
        messages = await conv.run(action_cls())
    clean(messages)
    statement = three_parts(messages)
    # the statement is this process's: its next step is one of the variant's step texts
    catalogue = default_catalogue()
    texts = [s.text.split("[[")[0].split("{")[0].strip() for s in catalogue.process(process).variant(variant).steps]
    next_line = statement.split("\n")[0]
    assert any(t[:25] in next_line for t in texts), (next_line, texts)
