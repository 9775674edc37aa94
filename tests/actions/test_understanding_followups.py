"""Follow-up questions about a process the bot just started (issue 12, item 4), against the
real demo profile store: the answer is about that process, not a fresh look-up."""

from __future__ import annotations

from actions.identity import ActionConfirm
from actions.orders import ActionCheckCancelOrder
from actions.refunds import ActionTrackRefund

from .helpers import IAN, IAN_ORDER, clean, three_parts


async def test_money_back_right_after_a_cancellation_is_the_cancellations_refund(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say(f"cancel {IAN_ORDER}", "cancel_order", {"order_id": IAN_ORDER}, metadata=IAN)
    await conversation.run(ActionCheckCancelOrder())
    conversation.say("yes please cancel it", "affirm")
    await conversation.run(ActionConfirm())
    conversation.say("when will I get my money back?", "track_refund")
    messages = await conversation.run(ActionTrackRefund())
    clean(messages)
    answered = conversation.response_names[-2:]  # this turn's: the answer and its statement
    assert answered[0] == "utter_refund_follows_cancellation", conversation.response_names
    assert "utter_refund_not_seen_yet" not in conversation.response_names, messages
    assert f"Order {IAN_ORDER} is being cancelled (reference R-" in messages[0]
    statement = three_parts(messages)
    assert "refund" in statement


async def test_without_a_cancellation_an_unrefunded_order_still_says_so(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say(f"where is the refund for {IAN_ORDER}", "track_refund", {"order_id": IAN_ORDER}, metadata=IAN)
    await conversation.run(ActionTrackRefund())
    assert "utter_refund_follows_cancellation" not in conversation.response_names, conversation.response_names
