"""Who is this? Identity once per session, from signed metadata or the channel; asking once; resuming."""

from __future__ import annotations

import time
from typing import Any

import pytest

from actions.forms import ValidateTrackOrderForm
from actions.identity import ActionConfirm, ActionIdentifyCustomer
from actions.orders import ActionTrackOrder
from actions.privacy import ActionForgetMe, ActionMyDataRequest, ActionWhyMyData
from actions.session import ActionSessionStart
from bot import identity_token
from bot.actions_support.identity import TRUST_UNSIGNED_ENV, channel_identifier
from bot.actions_support.runtime import use_services

from .conftest import make_services
from .helpers import AMELIA, IDENTITY_SECRET, clean, signed, three_parts, type_code

UNSIGNED_AMELIA = {"customer": {"verified_email": "amelia.hart@example.com"}}


async def test_widget_identity_fills_the_customer_slots(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("where is my parcel", "track_order", metadata=AMELIA)
    messages = await conversation.run(ActionTrackOrder())
    clean(messages)
    slots = conversation.slots
    assert slots["customer_id"].startswith("cus_")
    assert slots["customer_name"] == "Amelia"
    assert "open_order" in slots["customer_segments"]
    assert slots["personalisation_allowed"] is True
    assert "identified_widget|website|" in slots["data_used"]
    assert "utter_ask_identifier" not in conversation.response_names


async def test_messaging_channel_sender_identifies(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.input_channel = "whatsapp"
    conversation.sender_id = "+447700900104"  # David Evans, known from a WhatsApp conversation
    conversation.say("what data do you hold about me", "my_data_request")
    messages = await conversation.run(ActionMyDataRequest())
    clean(messages)
    assert conversation.slots["customer_id"].startswith("cus_")
    assert "sensitive_circumstance" in conversation.slots["customer_segments"]
    assert "identified_channel|messaging|" in conversation.slots["data_used"]


def test_rest_sender_ids_are_not_trusted() -> None:
    assert channel_identifier("rest", "amelia.hart@example.com") is None
    assert channel_identifier("socketio", "+447700900101") is None
    assert channel_identifier("whatsapp", "+447700900104") == "whatsapp:+447700900104"
    assert channel_identifier("twilio", "whatsapp:+447700900104") == "whatsapp:+447700900104"
    assert channel_identifier("facebook", "123456789") == "messenger:123456789"


async def test_rest_sender_that_looks_like_an_email_is_asked_instead(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.sender_id = "amelia.hart@example.com"
    conversation.say("delete all my data", "forget_me")
    await conversation.run(ActionForgetMe())
    assert conversation.response_names == ["utter_identity_for_forget_me", "utter_ask_identifier"]
    assert conversation.slots["customer_id"] is None


async def test_asks_once_then_resumes_the_request_with_a_followup_action(conversation, repo, outbox) -> None:  # type: ignore[no-untyped-def]
    conversation.say("forget me", "forget_me")
    first = await conversation.run(ActionForgetMe())
    clean(first)
    assert conversation.response_names.count("utter_ask_identifier") == 1
    assert conversation.slots["pending_action"] == "action_forget_me"
    assert conversation.slots["identity_asked"] is True

    conversation.say("it's Emma.Wilson@example.org", "inform", {"email": "Emma.Wilson@example.org"})
    second = await conversation.run(ActionIdentifyCustomer())
    # an e-mail address is a claim: a code goes to the address on file, nothing else happens yet
    assert conversation.response_names[-1] == "utter_verification_sent_email"
    assert conversation.followup() is None and conversation.slots["customer_id"] is None
    assert "Emma" not in " ".join(second)
    assert conversation.slots["identity_level"] == "claimed"
    resumed = await type_code(conversation, outbox, to="emma.wilson@example.org")
    assert resumed[0] == "Thanks, Emma, that's confirmed."
    assert conversation.slots["identity_level"] == "verified" and conversation.slots["pending_action"] is None
    # the waiting request ran next as itself (FollowupAction); erasure still waits for its own yes
    assert conversation.response_names[-1] == "utter_confirm_erasure"
    conversation.say("yes", "affirm")
    three_parts(await conversation.run(ActionConfirm()))  # the erasure statement
    profile = await repo.find("emma.wilson@example.org")
    assert profile.erasure_requested


async def test_unknown_and_ambiguous_addresses_get_the_same_answer_and_no_code(conversation, outbox) -> None:  # type: ignore[no-untyped-def]
    conversation.say("forget me", "forget_me")
    await conversation.run(ActionForgetMe())
    for email in ("nobody@example.com", "thesmiths@example.org"):
        conversation.say(email, "inform", {"email": email})
        await conversation.run(ActionIdentifyCustomer())
        assert conversation.response_names[-1] == "utter_verification_sent_email"  # no hint either way
        assert conversation.slots["customer_id"] is None
    assert not outbox.exists() or not list(outbox.iterdir())
    conversation.say("123456", "inform", {"one_time_code": "123456"})
    await conversation.run(ActionIdentifyCustomer())
    assert conversation.response_names[-1] == "utter_verification_wrong"
    assert conversation.response_names.count("utter_ask_identifier") == 1


async def test_inform_without_identifier(conversation) -> None:  # type: ignore[no-untyped-def]
    conversation.say("yes that one", "inform")
    await conversation.run(ActionIdentifyCustomer())
    assert conversation.response_names == ["utter_identifier_not_caught"]


async def test_order_number_identifies_after_the_code_and_why_my_data_says_so(conversation, outbox) -> None:  # type: ignore[no-untyped-def]
    conversation.say("where is 4000000901", "track_order", {"order_id": "4000000901"})
    await conversation.run(ActionTrackOrder())
    assert conversation.slots["customer_id"] is None
    await type_code(conversation, outbox)
    assert conversation.slots["customer_id"].startswith("cus_")
    conversation.say("why do you know that", "why_my_data")
    messages = await conversation.run(ActionWhyMyData())
    clean(messages)
    assert "- order 4000000901 and its shipment (from our orders and payments system), to find your parcel" in messages
    assert ("utter_data_use_order_shipment", {"source": "orders and payments system", "subject": "4000000901"}) in (
        conversation.responses
    )


async def test_forged_expired_or_foreign_tokens_are_no_identity(conversation) -> None:  # type: ignore[no-untyped-def]
    email = "amelia.hart@example.com"
    forged = {identity_token.METADATA_KEY: identity_token.issue("another-secret-that-is-long-enough-xx", "x", email=email)}
    expired = {
        identity_token.METADATA_KEY: identity_token.issue(
            IDENTITY_SECRET, "x", email=email, ttl_s=60, now=time.time() - 3600
        )
    }
    for metadata in (forged, expired, {identity_token.METADATA_KEY: "not.a.token"}):
        conversation.say("forget me", "forget_me", metadata=metadata)
        await conversation.run(ActionForgetMe())
        assert conversation.slots["customer_id"] is None


async def test_unsigned_identity_metadata_is_ignored(conversation, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv(TRUST_UNSIGNED_ENV, raising=False)
    conversation.say("forget me", "forget_me", metadata=UNSIGNED_AMELIA)
    await conversation.run(ActionForgetMe())
    assert conversation.slots["customer_id"] is None


async def test_unsigned_identity_is_trusted_only_with_the_development_flag(  # type: ignore[no-untyped-def]
    conversation, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TRUST_UNSIGNED_ENV, "1")
    conversation.say("where is my order", "track_order", metadata=UNSIGNED_AMELIA)
    await conversation.run(ActionTrackOrder())
    assert conversation.slots["customer_id"] is not None


# -- identity once per session -------------------------------------------------------------


async def _start_session(conversation: Any, metadata: dict[str, Any]) -> list[dict[str, Any]]:
    from rasa_sdk.executor import CollectingDispatcher

    conversation.slots["session_started_metadata"] = metadata
    events = await ActionSessionStart().run(CollectingDispatcher(), conversation.tracker(), conversation.domain)
    for event in events:
        if event.get("event") == "slot":
            conversation.slots[event["name"]] = event["value"]
    return events


async def test_session_start_identifies_from_the_signed_token(conversation) -> None:  # type: ignore[no-untyped-def]
    events = await _start_session(conversation, AMELIA)
    assert events[0]["event"] == "session_started"
    assert events[-1]["event"] == "action" and events[-1]["name"] == "action_listen"
    assert conversation.slots["customer_id"].startswith("cus_")
    assert conversation.slots["customer_name"] == "Amelia"
    assert "identified_widget|website|" in conversation.slots["data_used"]


async def test_session_start_ignores_unsigned_metadata_and_carries_slots_over(  # type: ignore[no-untyped-def]
    conversation, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TRUST_UNSIGNED_ENV, raising=False)
    conversation.slots["order_id"] = "4000000101"
    events = await _start_session(conversation, UNSIGNED_AMELIA)
    assert conversation.slots["customer_id"] is None
    assert any(e.get("name") == "order_id" and e.get("value") == "4000000101" for e in events)


class CountingStore:
    """The real profile repository, counting the profile reads made through it."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.reads = 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.store, name)
        if name not in ("get", "find"):
            return attr

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.reads += 1
            return await attr(*args, **kwargs)

        return counted


@pytest.fixture
def counting(repo: Any) -> Any:
    store = CountingStore(repo)
    use_services(make_services(store))
    yield store
    use_services(None)


async def test_the_profile_is_read_once_per_action_run(domain, counting) -> None:  # type: ignore[no-untyped-def]
    from .conftest import Conversation

    conv = Conversation(domain)
    await _start_session(conv, AMELIA)
    assert counting.reads == 1
    for intent, action in (("track_order", ActionTrackOrder()), ("my_data_request", ActionMyDataRequest())):
        counting.reads = 0
        conv.say("hi", intent, metadata={})
        await conv.run(action)
        assert counting.reads == 1, intent
    # a new signed identity in a message is new information: one read, by the token's e-mail
    counting.reads = 0
    conv.say("hi", "track_order", metadata=signed("ben.okafor@example.net"))
    await conv.run(ActionTrackOrder())
    assert counting.reads == 1


async def test_a_form_run_reads_the_profile_once(domain, counting) -> None:  # type: ignore[no-untyped-def]
    from .conftest import Conversation

    conv = Conversation(domain)
    await _start_session(conv, AMELIA)
    counting.reads = 0
    conv.say("where is order 4000000999", "track_order", {"order_id": "4000000999"})
    conv.slots["requested_slot"] = "order_id"
    conv.latest["intent"] = {"name": "inform", "confidence": 1.0}
    tracker = conv.tracker()
    tracker.active_loop = {"name": "track_order_form"}
    from rasa_sdk.executor import CollectingDispatcher

    await ValidateTrackOrderForm().run(CollectingDispatcher(), tracker, conv.domain)
    assert counting.reads == 1
