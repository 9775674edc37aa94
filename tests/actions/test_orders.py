"""Order actions against the real demo profile store."""

from __future__ import annotations

import re

from actions.identity import ActionConfirm, ActionDecline
from actions.orders import (
    ActionCancellationFee,
    ActionChangeOrder,
    ActionCheckCancelOrder,
    ActionTrackOrder,
)

from .helpers import AMELIA, AMELIA_ORDER, CHLOE, IAN_ORDER, clean, three_parts, IAN, type_code


async def test_track_dispatched_order_uses_carrier_and_promised_date(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("wheres my stuff", "track_order", metadata=AMELIA)
    messages = await conversation.run(ActionTrackOrder())
    clean(messages)
    assert messages[0] == "I'm using your order history to find the parcel."
    assert f"Order {AMELIA_ORDER} left our warehouse on Saturday 21 November with DPD." in messages
    statement = three_parts(messages)
    assert "by Wednesday 25 November (2 working days from now)" in statement  # the carrier's promise
    assert "DPD" in statement
    assert conversation.slots["order_id"] == AMELIA_ORDER


async def test_track_by_order_number_without_identity(conversation, outbox) -> None:  # type: ignore[no-untyped-def]
    conversation.say(f"where is order {IAN_ORDER}", "track_order", {"order_id": IAN_ORDER})
    first = await conversation.run(ActionTrackOrder())
    # knowing the number is not being the customer: a code first, nothing about the order
    assert conversation.response_names == ["utter_verification_sent_order_id"]
    assert "prepared" not in " ".join(first)
    messages = await type_code(conversation, outbox)
    clean(messages)
    assert messages[0] == "Thanks, Ian, that's confirmed."
    assert "is being prepared in our warehouse" in messages[2]
    statement = three_parts(messages)
    assert "Thursday 26 November" in statement  # promised date from the commerce system


async def test_unknown_order_number(conversation, outbox) -> None:  # type: ignore[no-untyped-def]
    conversation.say("where is order 99999999", "track_order", {"order_id": "99999999"})
    messages = await conversation.run(ActionTrackOrder())
    clean(messages)
    # the same answer as for a real order number: no hint whether it exists, and no code sent
    assert conversation.response_names == ["utter_verification_sent_order_id"]
    assert not outbox.exists() or not list(outbox.iterdir())


async def test_several_candidate_orders_are_listed(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("I want a refund", "get_refund", metadata=CHLOE)
    from actions.refunds import ActionGetRefund

    messages = await conversation.run(ActionGetRefund())
    clean(messages)
    assert "several orders" in messages[0] and "Which one is it?" in messages[0]
    assert "order 4000000305" in messages[0]


async def test_cancel_before_dispatch_asks_then_cancels(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say(f"cancel {IAN_ORDER}", "cancel_order", {"order_id": IAN_ORDER}, metadata=IAN)
    ask = await conversation.run(ActionCheckCancelOrder())
    clean(ask)
    assert "hasn't been dispatched yet, so it can be cancelled, free of charge. Shall I cancel it?" in ask[0]
    assert conversation.slots["cancel_confirmation"] == IAN_ORDER
    conversation.say("yes", "affirm")
    done = await conversation.run(ActionConfirm())
    clean(done)
    assert re.fullmatch(rf"Done: I've asked our warehouse to cancel order {IAN_ORDER} \(reference R-[0-9A-F]{{8}}\)\.", done[0])
    statement = three_parts(done)
    assert "cancelled and refunded" in statement
    assert conversation.slots["cancel_confirmation"] is None


async def test_cancel_declined_keeps_the_order(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say(f"cancel {IAN_ORDER}", "cancel_order", {"order_id": IAN_ORDER}, metadata=IAN)
    await conversation.run(ActionCheckCancelOrder())
    conversation.say("no", "deny")
    kept = await conversation.run(ActionDecline())
    assert kept == [f"No problem, order {IAN_ORDER} stays as it is."]
    assert conversation.slots["cancel_confirmation"] is None


async def test_cannot_cancel_after_dispatch(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("cancel my order", "cancel_order", metadata=AMELIA)
    messages = await conversation.run(ActionCheckCancelOrder())
    clean(messages)
    assert "already left our warehouse with DPD, so it can't be cancelled" in messages[0]
    statement = three_parts(messages)
    assert "refuse the parcel" in statement
    assert conversation.slots["cancel_confirmation"] is None
    conversation.say("yes", "affirm")
    nothing = await conversation.run(ActionConfirm())
    assert nothing == ["Great. Is there anything else I can help with?"]


async def test_change_dispatched_order(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("change my order", "change_order", metadata=AMELIA)
    messages = await conversation.run(ActionChangeOrder())
    clean(messages)
    statement = three_parts(messages)
    assert "can't be changed" in statement


async def test_change_open_order_waits_for_a_yes(conversation, repo) -> None:  # type: ignore[no-untyped-def]
    """Before, "change it" filed an order change at once; now the bot says what a yes starts."""
    conversation.say("swap the mug for the blue one", "change_order", {"order_id": IAN_ORDER}, metadata=IAN)
    messages = await conversation.run(ActionChangeOrder())
    clean(messages)
    assert messages[-1].startswith(f"Order {IAN_ORDER} hasn't been dispatched yet, so it can still be changed")
    assert "If you say yes, I'll pass your change request" in messages[-1] and messages[-1].endswith("Shall I go ahead?")
    assert conversation.slots["pending_change"]["kind"] == "order_change"
    ian = await repo.find(IAN_ORDER, kind="order_id")
    assert not await repo.open_requests(ian.customer_id)  # nothing recorded before the yes
    conversation.say("yes", "affirm", metadata=IAN)
    done = await conversation.run(ActionConfirm())
    clean(done)
    assert done[0].startswith(f"Done: I've passed your change request for order {IAN_ORDER} to a colleague (reference R-")
    three_parts(done)
    (request,) = await repo.open_requests(ian.customer_id)
    assert request.kind == "order_change" and request.order_id == IAN_ORDER
    assert request.details["customer_message"] == "swap the mug for the blue one"  # not "yes"


async def test_change_open_order_declined_changes_nothing(conversation, repo) -> None:  # type: ignore[no-untyped-def]
    conversation.say("change it", "change_order", {"order_id": IAN_ORDER}, metadata=IAN)
    await conversation.run(ActionChangeOrder())
    conversation.say("no", "deny", metadata=IAN)
    said = await conversation.run(ActionDecline())
    assert said == [f"No problem: I haven't asked for any change, and order {IAN_ORDER} stays as it is."]
    ian = await repo.find(IAN_ORDER, kind="order_id")
    assert not await repo.open_requests(ian.customer_id)
    assert conversation.slots["pending_change"] is None


async def test_cancellation_fee_mentions_free_open_orders(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("is there a cancellation fee", "check_cancellation_fee", {"order_id": IAN_ORDER}, metadata=IAN)
    messages = await conversation.run(ActionCancellationFee())
    clean(messages)
    assert messages[0].startswith("Cancelling an order before it's dispatched is free.")
    assert any(f"order {IAN_ORDER}" in m and "can still be cancelled free of charge" in m for m in messages)


async def test_answering_which_order_resumes_the_request(conversation) -> None:  # type: ignore[no-untyped-def]
    from actions.identity import ActionIdentifyCustomer
    from actions.refunds import ActionGetRefund

    conversation.say("I want a refund", "get_refund", metadata=CHLOE)
    await conversation.run(ActionGetRefund())
    assert conversation.slots["pending_action"] == "action_get_refund"
    conversation.say("4000000305", "inform", {"order_id": "4000000305"})
    assert await conversation.run(ActionIdentifyCustomer()) == []  # already known: no ceremony
    assert conversation.followup() == "action_get_refund"
    messages = await conversation.run(ActionGetRefund())
    assert "can't be refunded under our policy" in messages[0]
    assert conversation.slots["pending_action"] is None
