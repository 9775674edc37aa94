"""Who is this? Identification from the channel, once-only asking, resuming the request."""

from __future__ import annotations

from actions.identity import ActionIdentifyCustomer
from actions.orders import ActionTrackOrder
from actions.privacy import ActionForgetMe, ActionMyDataRequest, ActionWhyMyData
from bot.actions_support.identity import ASK_IDENTIFIER, channel_identifier

from .helpers import AMELIA, clean, three_parts


async def test_widget_identity_fills_the_customer_slots(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("where is my parcel", "track_order", metadata=AMELIA)
    messages = await conversation.run(ActionTrackOrder())
    clean(messages)
    slots = conversation.slots
    assert slots["customer_id"].startswith("cus_")
    assert slots["customer_name"] == "Amelia"
    assert "open_order" in slots["customer_segments"]
    assert slots["personalisation_allowed"] is True
    assert any("signed-in account" in u for u in slots["data_used"])
    assert not any(ASK_IDENTIFIER in m for m in messages)


async def test_messaging_channel_sender_identifies(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.input_channel = "whatsapp"
    conversation.sender_id = "+447700900104"  # David Evans, known from a WhatsApp conversation
    conversation.say("what data do you hold about me", "my_data_request")
    messages = await conversation.run(ActionMyDataRequest())
    clean(messages)
    assert conversation.slots["customer_id"].startswith("cus_")
    assert "sensitive_circumstance" in conversation.slots["customer_segments"]
    assert any("messaging id you're writing from" in u for u in conversation.slots["data_used"])


def test_rest_sender_ids_are_not_trusted() -> None:
    assert channel_identifier("rest", "amelia.hart@example.com") is None
    assert channel_identifier("socketio", "+447700900101") is None
    assert channel_identifier("whatsapp", "+447700900104") == "whatsapp:+447700900104"
    assert channel_identifier("twilio", "whatsapp:+447700900104") == "whatsapp:+447700900104"
    assert channel_identifier("facebook", "123456789") == "messenger:123456789"


async def test_rest_sender_that_looks_like_an_email_is_asked_instead(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.sender_id = "amelia.hart@example.com"
    conversation.say("delete all my data", "forget_me")
    messages = await conversation.run(ActionForgetMe())
    assert any(ASK_IDENTIFIER in m for m in messages)
    assert conversation.slots["customer_id"] is None


async def test_asks_once_then_resumes_the_request(conversation, repo) -> None:  # type: ignore[no-untyped-def]
    conversation.say("forget me", "forget_me")
    first = await conversation.run(ActionForgetMe())
    clean(first)
    assert sum(ASK_IDENTIFIER in m for m in first) == 1
    assert conversation.slots["pending_action"] == "action_forget_me"
    assert conversation.slots["identity_asked"] is True

    conversation.say("it's Emma.Wilson@example.org", "inform", {"email": "Emma.Wilson@example.org"})
    second = await conversation.run(ActionIdentifyCustomer())
    clean(second)
    assert second[0].startswith("Thanks, Emma: I've found your account.")
    three_parts(second)  # the erasure statement of the resumed request
    assert conversation.slots["pending_action"] is None
    profile = await repo.find("emma.wilson@example.org")
    assert profile.erasure_requested


async def test_never_asks_the_same_question_again(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("forget me", "forget_me")
    await conversation.run(ActionForgetMe())
    conversation.say("nobody@example.com", "inform", {"email": "nobody@example.com"})
    wrong = await conversation.run(ActionIdentifyCustomer())
    assert "couldn't find an account with that e-mail address" in wrong[0]
    assert conversation.slots["email"] is None  # not tried again
    conversation.say("what do you hold about me", "my_data_request")
    again = await conversation.run(ActionMyDataRequest())
    assert not any(ASK_IDENTIFIER in m for m in again)
    assert "I still don't know which account is yours" in again[0]


async def test_family_email_is_ambiguous(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("forget me", "forget_me")
    await conversation.run(ActionForgetMe())
    conversation.say("thesmiths@example.org", "inform", {"email": "thesmiths@example.org"})
    messages = await conversation.run(ActionIdentifyCustomer())
    assert "belongs to more than one account" in messages[0]
    assert conversation.slots["customer_id"] is None


async def test_inform_without_identifier(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("yes that one", "inform")
    messages = await conversation.run(ActionIdentifyCustomer())
    assert "didn't catch an e-mail address or an order number" in messages[0]


async def test_order_number_identifies_and_why_my_data_says_so(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("where is 4000000901", "track_order", {"order_id": "4000000901"})
    await conversation.run(ActionTrackOrder())
    assert conversation.slots["customer_id"].startswith("cus_")
    conversation.say("why do you know that", "why_my_data")
    messages = await conversation.run(ActionWhyMyData())
    clean(messages)
    assert "the order number you gave me (from our orders and payments system), to find your account" in messages[0]
    assert "order 4000000901 and its shipment (from our orders and payments system), to find your parcel" in messages[0]


async def test_signed_widget_identity(conversation, services) -> None:  # type: ignore[no-untyped-def]
    import time

    from bot.actions_support.identity import sign_identity

    services.identity_secret = "s3cret"
    now = int(time.time())
    good = {"customer": {"verified_email": "amelia.hart@example.com", "issued_at": now,
                         "signature": sign_identity("s3cret", "amelia.hart@example.com", now)}}
    conversation.say("where is my order", "track_order", metadata=good)
    messages = await conversation.run(ActionTrackOrder())
    assert conversation.slots["customer_id"] is not None and any("DPD" in m for m in messages)


async def test_forged_or_stale_widget_identity_is_ignored(conversation, services) -> None:  # type: ignore[no-untyped-def]
    import time

    from bot.actions_support.identity import sign_identity, verify_identity

    services.identity_secret = "s3cret"
    old = int(time.time()) - 3 * 24 * 3600
    forged = {"customer": {"verified_email": "amelia.hart@example.com", "issued_at": int(time.time()), "signature": "00"}}
    stale = {"customer": {"verified_email": "amelia.hart@example.com", "issued_at": old,
                          "signature": sign_identity("s3cret", "amelia.hart@example.com", old)}}
    for metadata in (forged, stale, AMELIA):  # AMELIA carries no signature at all
        conversation.say("forget me", "forget_me", metadata=metadata)
        await conversation.run(ActionForgetMe())
        assert conversation.slots["customer_id"] is None
    assert verify_identity({}, "x", None)  # no secret configured: developer set-up
