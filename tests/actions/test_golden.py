"""Golden paths: the exact words a customer reads on the key paths, rendered from the domain.

Unit tests assert response names and variables; these few hold the wording
itself, so a copy edit shows up here (and only here) for review.
"""

from __future__ import annotations

from actions.identity import ActionConfirm, ActionIdentifyCustomer
from actions.orders import ActionTrackOrder
from actions.refunds import ActionGetRefund

from .helpers import AMELIA, EMMA, type_code


async def test_track_an_order(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("where is my order", "track_order", metadata=AMELIA)
    assert await conversation.run(ActionTrackOrder()) == GOLDEN_TRACK


async def test_start_a_refund(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("refund 4000000501", "get_refund", {"order_id": "4000000501"}, metadata=EMMA)
    asked = await conversation.run(ActionGetRefund())
    assert asked == GOLDEN_REFUND_ASK
    conversation.say("yes", "affirm")
    messages = await conversation.run(ActionConfirm())
    reference = conversation.responses[-2][1]["reference"]
    assert messages == [m.replace("R-XXXXXXXX", reference) for m in GOLDEN_REFUND]


async def test_asked_once_then_verified_then_resumed(conversation, outbox) -> None:  # type: ignore[no-untyped-def]
    conversation.say("where is my order", "track_order")
    first = await conversation.run(ActionTrackOrder())
    conversation.say("amelia.hart@example.com", "inform", {"email": "amelia.hart@example.com"})
    second = await conversation.run_and_follow(ActionIdentifyCustomer())
    third = await type_code(conversation, outbox, to="amelia.hart@example.com")
    assert first == GOLDEN_ASK
    assert second == [GOLDEN_CODE_SENT]
    assert third == ["Thanks, Amelia, that's confirmed.", *GOLDEN_TRACK]


GOLDEN_ASK = [
    "I can check where your order is.",
    "So I can look at your own account, what's your e-mail address or an order number? I'll only use it for this request.",
]
GOLDEN_TRACK = [
    "I'm using your order history to find the parcel.",
    "Order 4000000101 left our warehouse on Saturday 21 November with DPD.",
    "What happens next: The carrier DPD delivers the parcel; the tracking number is DP4902811152GB.\nHow long: The parcel should arrive by Wednesday 25 November (2 working days from now).\nIf something goes wrong: Nobody is in when the carrier calls. The carrier leaves a card and tries again the next working day, or you can rearrange delivery on their website (DPD).",
]
GOLDEN_CODE_SENT = (
    "To keep your account safe, I need to check it's you before I look at anything. If that e-mail address is on "
    "our records, I've just sent a 6-digit code to it. Please type the code here; it's valid for 10 minutes."
)
GOLDEN_REFUND_ASK = [
    "Order 4000000501 can be refunded: it was delivered on Monday 16 November, within the 30-day returns window (until Wednesday 16 December).",
    "If you say yes, I'll register a refund request for order 4000000501: you'll get a free returns label by e-mail, and once the parcel is back with us the refund goes to your original payment method. Shall I register it?",
]
GOLDEN_REFUND = [
    "I've registered your refund request (reference R-XXXXXXXX).",
    "What happens next: Print the free returns label from your account (or show the QR code at a drop-off point) and send the items back from order 4000000501.\nHow long: If you send it within a few days, the refund should be approved by Monday 14 December (15 working days from now).\nIf something goes wrong: The parcel gets lost on the way back to us. Keep the drop-off receipt; from drop-off the parcel is our responsibility, and we refund you once the carrier confirms it's lost.",
]
