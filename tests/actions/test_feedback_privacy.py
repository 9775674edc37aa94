"""Complaints, reviews, newsletter, and the privacy actions: stored for real, persisted, explained."""

from __future__ import annotations

import re

from actions.feedback import ActionNewsletter, ActionRecordComplaint, ActionRecordReview
from actions.identity import ActionConfirm, ActionIdentifyCustomer
from actions.orders import ActionTrackOrder
from actions.privacy import ActionForgetMe, ActionMyDataRequest, ActionPersonalizationOptOut, ActionWhyMyData

from .helpers import AMELIA, CHLOE, EMMA, JACK, clean, three_parts, latest_code, type_code


async def test_complaint_is_stored_against_the_profile(conversation, repo) -> None:  # type: ignore[no-untyped-def]
    conversation.say("i want to complain", "complaint", metadata=AMELIA)
    conversation.slots["feedback_text"] = "The courier threw my parcel over the fence."
    messages = await conversation.run(ActionRecordComplaint())
    clean(messages)
    statement = three_parts(messages)
    assert re.search(r"with reference R-[0-9A-F]{8} ", statement)  # the one reference format
    assert conversation.slots["feedback_text"] is None
    profile = await repo.find("amelia.hart@example.com")
    stored = [f for f in profile.feedback if f.kind == "complaint"]
    assert stored and stored[0].text == "The courier threw my parcel over the fence."
    assert stored[0].conversation_id == conversation.sender_id
    assert "open_complaint" in profile.segments  # agents and the policy see it


async def test_complaint_from_an_unknown_customer_asks_once_then_stores(conversation, repo, outbox) -> None:  # type: ignore[no-untyped-def]
    conversation.say("complaint", "complaint")
    conversation.slots["feedback_text"] = "Wrong size sent twice."
    first = await conversation.run(ActionRecordComplaint())
    assert conversation.slots["pending_action"] == "action_record_complaint"
    assert "put your complaint on record" in first[0]
    conversation.say("chloe.martin@example.com", "inform", {"email": "chloe.martin@example.com"})
    await conversation.run(ActionIdentifyCustomer())
    assert conversation.followup() is None  # the address is a claim: a code goes to it first
    assert latest_code(outbox, to="chloe.martin@example.com")
    three_parts(await type_code(conversation, outbox))
    profile = await repo.find("chloe.martin@example.com")
    assert any(f.text == "Wrong size sent twice." for f in profile.feedback)


async def test_review_is_stored(conversation, repo) -> None:  # type: ignore[no-untyped-def]
    conversation.say("i want to leave a review", "review", metadata=AMELIA)
    conversation.slots["feedback_text"] = "Great headphones."
    messages = await conversation.run(ActionRecordReview())
    assert messages == ["Thank you, your review is recorded. Reviews are checked and published within 2 working days."]
    profile = await repo.find("amelia.hart@example.com")
    assert any(f.kind == "review" and f.text == "Great headphones." for f in profile.feedback)


async def test_newsletter_subscribe_and_unsubscribe_persist_consent(conversation, repo) -> None:  # type: ignore[no-untyped-def]
    conversation.say("sign me up for the newsletter", "newsletter_subscription", metadata=JACK)
    messages = await conversation.run(ActionNewsletter())
    clean(messages)
    assert messages[0].startswith("Thanks for subscribing.")
    three_parts(messages)
    assert (await repo.find("jack.turner@example.net")).consent.marketing_allowed is True
    conversation.say("unsubscribe me from the newsletter", "newsletter_subscription")
    messages = await conversation.run(ActionNewsletter())
    assert messages[0] == "Done: you're off the newsletter."
    assert (await repo.find("jack.turner@example.net")).consent.marketing_allowed is False


async def test_why_my_data_before_and_after(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("why do you have my data", "why_my_data")
    first = await conversation.run(ActionWhyMyData())
    assert first[0] == "So far in this conversation I haven't used any of your personal data."
    conversation.say("where is my order", "track_order", metadata=AMELIA)
    await conversation.run(ActionTrackOrder())
    conversation.say("why do you know that", "why_my_data")
    second = await conversation.run(ActionWhyMyData())
    clean(second)
    assert second[:4] == [
        "In this conversation I've used:",
        "- your signed-in account on our website (from our website sign-in), to recognise you",
        "- order 4000000101 and its shipment (from our orders and payments system), to find your parcel",
        "Nothing else, and only for what you asked.",
    ]
    assert conversation.response_names[-5:-1] == [
        "utter_data_used_intro",
        "utter_data_use_identified_widget",
        "utter_data_use_order_shipment",
        "utter_data_used_nothing_else",
    ]


async def test_opt_out_is_immediate_and_persists(conversation, repo) -> None:  # type: ignore[no-untyped-def]
    conversation.say("hi", "greet", metadata=AMELIA)
    conversation.say("stop personalising", "personalization_opt_out", metadata=AMELIA)
    messages = await conversation.run(ActionPersonalizationOptOut())
    clean(messages)
    assert messages[0].startswith("Done: from now on I'll only use the data a request strictly needs")
    assert "saved to your account" in messages[1]
    assert conversation.slots["personalisation_allowed"] is False
    assert conversation.slots["customer_name"] is None
    profile = await repo.find("amelia.hart@example.com")
    assert profile.consent.personalisation_allowed is False
    assert profile.greeting_name is None
    # afterwards: only what the transaction needs (no saved payment methods offered)
    from actions.billing import ActionPaymentMethods

    conversation.say("how can i pay", "check_payment_methods")
    later = await conversation.run(ActionPaymentMethods())
    assert not any("saved on your account" in m for m in later)


async def test_opt_out_anonymous_applies_now_and_offers_to_persist(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("dont personalise", "personalization_opt_out")
    messages = await conversation.run(ActionPersonalizationOptOut())
    assert conversation.slots["personalisation_allowed"] is False
    assert conversation.slots["pending_action"] == "action_personalization_opt_out"
    assert "It applies to this conversation." in messages[1]


async def test_my_data_request_summarises_by_source(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("what data do you hold", "my_data_request", metadata=CHLOE)
    messages = await conversation.run(ActionMyDataRequest())
    clean(messages)
    assert messages[0] == "Here's what we hold about you, by system:"
    assert any(m.startswith("- Customer records: ") for m in messages)
    assert any(m.startswith("- Orders and payments system: ") and "orders" in m for m in messages)
    assert any(m.startswith("- Contact-centre history: ") for m in messages)
    assert "In numbers: 5 orders, 0 refunds, 5 invoices and 1 past conversation." in messages
    assert ("utter_data_held_counts", {"orders": "5 orders", "refunds": "0 refunds", "invoices": "5 invoices",
            "conversations": "1 past conversation"}) in conversation.responses
    # a full copy leaves the building: it waits for a yes
    assert conversation.response_names[-1] == "utter_confirm_data_export_with_email"
    assert conversation.slots["pending_change"]["kind"] == "data_export"
    conversation.say("yes", "affirm")
    three_parts(await conversation.run(ActionConfirm()))


async def test_forget_me_records_the_erasure_request(conversation, repo) -> None:  # type: ignore[no-untyped-def]
    conversation.say("forget me", "forget_me", metadata=AMELIA)
    asked = await conversation.run(ActionForgetMe())
    assert asked[0].startswith("If you say yes, I'll start erasing your personal data")
    assert not (await repo.find("amelia.hart@example.com")).erasure_requested  # nothing before the yes
    conversation.say("yes", "affirm")
    messages = await conversation.run(ActionConfirm())
    clean(messages)
    assert messages[0].startswith("I've started an erasure request")
    # what the erasure keeps, and why (she has invoices within the tax retention period)
    assert ("utter_erasure_what_is_kept_invoices", {"years": "10"}) in conversation.responses
    assert any("By law we must keep your invoices for 10 years" in m for m in messages)
    statement = three_parts(messages)
    assert re.search(r"with reference R-[0-9A-F]{8};", statement)  # the one reference format
    assert "by Monday 14 December" in statement
    profile = await repo.find("amelia.hart@example.com")
    assert profile.erasure_requested
    assert "no_marketing" in profile.suppressions


async def test_newsletter_suggestions_ignore_gifts_and_recent_purchases(conversation) -> None:  # type: ignore[no-untyped-def]
    # Emma bought toys as a gift ten days ago and books for herself
    conversation.say("subscribe me to the newsletter", "newsletter_subscription", metadata=EMMA)
    messages = await conversation.run(ActionNewsletter())
    clean(messages)
    suggestion = next(m for m in messages if "might interest you" in m)
    assert "books" in suggestion and "toys" not in suggestion
    assert "own_order_categories|commerce|" in conversation.slots["data_used"]


async def test_no_suggestions_in_a_sensitive_circumstance_or_after_opt_out(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.input_channel, conversation.sender_id = "whatsapp", "+447700900104"  # bereavement on record
    conversation.say("sign me up for the newsletter", "newsletter_subscription")
    messages = await conversation.run(ActionNewsletter())
    assert not any("might interest you" in m for m in messages)
    from .conftest import Conversation

    other = Conversation(conversation.domain)
    other.slots["personalisation_allowed"] = False
    other.say("subscribe me", "newsletter_subscription", metadata=EMMA)
    assert not any("might interest you" in m for m in await other.run(ActionNewsletter()))


async def test_after_opt_out_only_what_the_request_needs_is_used(conversation) -> None:  # type: ignore[no-untyped-def]
    from actions.delivery import ActionDeliveryOptions
    from actions.orders import ActionTrackOrder

    conversation.slots["personalisation_allowed"] = False
    conversation.say("what delivery options do you have", "delivery_options", metadata=AMELIA)
    options = await conversation.run(ActionDeliveryOptions())
    assert not any("saved address" in m for m in options)  # a convenience: not used any more
    conversation.say("where is my order", "track_order", metadata=AMELIA)
    tracked = await conversation.run(ActionTrackOrder())
    assert any("DPD" in m for m in tracked)  # what the request needs: still used
    assert conversation.slots["customer_name"] is None
