"""Refunds, invoices and payments against the real demo profile store."""

from __future__ import annotations

from actions.identity import ActionConfirm

from actions.billing import ActionCheckInvoice, ActionGetInvoice, ActionPaymentIssue, ActionPaymentMethods
from actions.refunds import ActionGetRefund, ActionRefundPolicy, ActionTrackRefund

from .helpers import AMELIA, BEN, CHLOE, EMMA, clean, three_parts


async def test_refund_policy(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("what is your refund policy", "check_refund_policy")
    messages = await conversation.run(ActionRefundPolicy())
    clean(messages)
    assert "within 30 days of delivery" in messages[0]


async def test_track_approved_card_refund(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("where is my refund", "track_refund", metadata=BEN)
    messages = await conversation.run(ActionTrackRefund())
    clean(messages)
    assert "Your refund of £59.99 for order 4000000201 was approved on Sunday 22 November as a card refund." in messages
    statement = three_parts(messages)
    # approved Sunday 22 Nov (23:00 London): 1 + 4 working days from Monday -> Friday 27 November
    assert "The money should be back on your card by Friday 27 November" in statement


async def test_recent_delivery_is_eligible(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("refund 4000000501", "get_refund", {"order_id": "4000000501"}, metadata=EMMA)
    messages = await conversation.run(ActionGetRefund())
    clean(messages)
    assert "can be refunded: it was delivered on Monday 16 November, within the 30-day returns window" in messages[0]
    assert conversation.response_names[-1] == "utter_confirm_refund"  # nothing registered before the yes
    conversation.say("yes", "affirm")
    three_parts(await conversation.run(ActionConfirm()))


async def test_old_delivery_is_refused_with_the_reason(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("refund 4000000305", "get_refund", {"order_id": "4000000305"}, metadata=CHLOE)
    messages = await conversation.run(ActionGetRefund())
    clean(messages)
    assert "can't be refunded under our policy" in messages[0]
    assert "returns window ended on Thursday 12 November" in messages[0]
    assert "statutory rights" in messages[0]
    assert conversation.response_names[-1] == "utter_refund_window_ended"


async def test_existing_refund_is_reported_not_duplicated(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("i want my money back for 4000000201", "get_refund", {"order_id": "4000000201"}, metadata=BEN)
    messages = await conversation.run(ActionGetRefund())
    assert any("was approved" in m for m in messages)
    three_parts(messages)


async def test_check_invoice_by_order_number(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("check invoice for 4000000101", "check_invoice", {"order_id": "4000000101"}, metadata=AMELIA)
    messages = await conversation.run(ActionCheckInvoice())
    clean(messages)
    assert messages[0] == "Invoice INV-0000001 for order 4000000101 was issued on Saturday 21 November for £59.99 and is paid."


async def test_get_invoice_masks_the_email(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("send me invoice INV-0000001", "get_invoice", {"invoice_id": "INV-0000001"}, metadata=AMELIA)
    messages = await conversation.run(ActionGetInvoice())
    clean(messages)
    statement = three_parts(messages)
    assert "a***@example.com" in statement and "amelia.hart" not in statement
    assert "within about 15 minutes" in statement


async def test_unknown_invoice(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("invoice INV-9999999", "check_invoice", {"invoice_id": "INV-9999999"}, metadata=AMELIA)
    messages = await conversation.run(ActionCheckInvoice())
    assert "I can't find invoice INV-9999999 on your account" in messages[0]


async def test_payment_issue_spots_the_expired_card(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("my payment failed", "payment_issue", metadata=AMELIA)
    messages = await conversation.run(ActionPaymentIssue())
    clean(messages)
    assert "your Visa ending 5358 expired in 05/26" in messages[0]
    three_parts(messages)


async def test_payment_methods_with_and_without_personalisation(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("how can i pay", "check_payment_methods", metadata=AMELIA)
    messages = await conversation.run(ActionPaymentMethods())
    assert "You have Visa ending 5358 saved on your account." in messages
    conversation.slots["personalisation_allowed"] = False
    messages = await conversation.run(ActionPaymentMethods())
    assert not any("saved on your account" in m for m in messages)
