"""Issue 10, findings 2, 3 and 7: knowing an order number is not being the customer.

Real actions, the real SQLite profile store of the demo customers and Rasa's own
response rendering (the fixtures of tests/actions); the one-time codes are read
from the embedded set-up's outbox, as a person trying ``make run`` would.
"""

from __future__ import annotations

import os
import stat
from typing import Any

from actions.delivery import ActionChangeShippingAddress
from actions.handoff import ActionHandoff
from actions.identity import ActionConfirm, ActionDecline, ActionIdentifyCustomer
from actions.orders import ActionCheckCancelOrder, ActionTrackOrder
from actions.privacy import ActionForgetMe, ActionMyDataRequest
from actions.session import ActionSessionStart
from bot import identity_token
from bot.actions_support.assurance import seal_identity
from tests.actions.conftest import Conversation
from tests.actions.helpers import AMELIA, AMELIA_ORDER, IDENTITY_SECRET, IAN_ORDER, latest_code, type_code

#: what Amelia's order or account would give away
AMELIA_DETAILS = ("DPD", "DP4902811152GB", "Amelia", "Hart", "amelia", "£", "Leeds")


async def _requests(repo: Any) -> int:
    from sqlalchemy import func, select

    from bot.profile import schema

    async with repo.engine.connect() as connection:
        return (await connection.execute(select(func.count()).select_from(schema.tp_request))).scalar_one()


async def test_a_typed_order_number_shows_nothing_until_the_code(conversation, outbox) -> None:  # type: ignore[no-untyped-def]
    """Finding 2: "where is my order 4000000101" showed Amelia's status, carrier and tracking."""
    conversation.say(f"where is my order {AMELIA_ORDER}", "track_order", {"order_id": AMELIA_ORDER})
    said = " ".join(await conversation.run(ActionTrackOrder()))
    assert not any(detail in said for detail in AMELIA_DETAILS), said
    assert conversation.slots["customer_id"] is None
    # the code went to the address on file, not to the chat
    assert latest_code(outbox, to="amelia.hart@example.com") not in said
    resumed = " ".join(await type_code(conversation, outbox))
    assert "DPD" in resumed and conversation.slots["identity_level"] == "verified"


async def test_a_typed_order_number_and_yes_cancel_nothing(conversation, repo) -> None:  # type: ignore[no-untyped-def]
    """Finding 2: "please cancel order N", then "yes" cancelled it."""
    conversation.say(f"please cancel order {IAN_ORDER}", "cancel_order", {"order_id": IAN_ORDER})
    await conversation.run(ActionCheckCancelOrder())
    conversation.say("yes", "affirm")
    said = " ".join(await conversation.run(ActionConfirm()))
    assert "cancel" not in said.lower() or "Done" not in said
    assert await _requests(repo) == 0


async def test_a_typed_email_then_forget_me_erases_nothing(conversation, repo) -> None:  # type: ignore[no-untyped-def]
    """Finding 2: "my email is ..." then "forget me" started an erasure of her data."""
    conversation.say("my email is emma.wilson@example.org", "inform", {"email": "emma.wilson@example.org"})
    greeted = " ".join(await conversation.run(ActionIdentifyCustomer()))
    assert "Emma" not in greeted  # not even the name
    conversation.say("forget me", "forget_me")
    await conversation.run(ActionForgetMe())
    conversation.say("yes", "affirm")
    await conversation.run(ActionConfirm())
    assert not (await repo.find("emma.wilson@example.org")).erasure_requested


async def test_wrong_codes_lock_the_challenge_and_the_right_one_then_fails(conversation, outbox) -> None:  # type: ignore[no-untyped-def]
    conversation.say("what do you hold about me", "my_data_request", {"email": "amelia.hart@example.com"})
    await conversation.run(ActionMyDataRequest())
    code = latest_code(outbox)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(3):
        conversation.say(wrong, "inform", {"one_time_code": wrong})
        await conversation.run(ActionIdentifyCustomer())
    assert conversation.response_names[-3:] == [
        "utter_verification_wrong", "utter_verification_wrong", "utter_verification_spent",
    ]
    conversation.say(code, "inform", {"one_time_code": code})
    await conversation.run(ActionIdentifyCustomer())
    assert conversation.response_names[-1] == "utter_verification_spent"
    assert conversation.slots["customer_id"] is None


async def test_the_outbox_is_private(conversation, outbox) -> None:  # type: ignore[no-untyped-def]
    conversation.say("where is it", "track_order", {"order_id": AMELIA_ORDER})
    await conversation.run(ActionTrackOrder())
    assert stat.S_IMODE(os.stat(outbox).st_mode) == 0o700
    assert all(stat.S_IMODE(os.stat(p).st_mode) == 0o600 for p in outbox.iterdir())


async def test_a_planted_customer_id_is_not_trusted(domain, services, repo) -> None:  # type: ignore[no-untyped-def]
    """Finding 2 / 6: a customer_id slot set through Rasa's API or a forged tracker shows nothing."""
    amelia = await repo.find("amelia.hart@example.com")
    from bot.actions_support.assurance import seal_key

    key = seal_key(IDENTITY_SECRET)
    planted = [
        {"customer_id": amelia.customer_id},
        {"customer_id": amelia.customer_id, "identity_level": "verified", "identity_seal": "0" * 64},
        # a genuine seal, but from another conversation
        {"customer_id": amelia.customer_id, "identity_level": "verified",
         "identity_seal": seal_identity(key, "another-conversation", amelia.customer_id, "verified")},
        # a genuine seal for a claim, not a verification
        {"customer_id": amelia.customer_id, "identity_level": "claimed",
         "identity_seal": seal_identity(key, "test-conversation", amelia.customer_id, "claimed")},
    ]
    for slots in planted:
        conv = Conversation(domain)
        conv.slots.update(slots)
        conv.say("what do you hold about me", "my_data_request")
        said = " ".join(await conv.run(ActionMyDataRequest()))
        assert conv.response_names[-1] == "utter_ask_identifier", slots
        assert not any(detail in said for detail in AMELIA_DETAILS)
        _, events = await _handoff(conv)
        assert events[0]["value"]["customer_id"] is None  # nor does it reach an agent as hers


async def _handoff(conv: Conversation) -> tuple[Any, list[dict[str, Any]]]:
    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    conv.say("agent", "contact_human_agent")
    events = await ActionHandoff().run(dispatcher, conv.tracker(), conv.domain)
    return dispatcher.messages, events


async def test_a_misread_address_question_changes_nothing(conversation, repo) -> None:  # type: ignore[no-untyped-def]
    """Finding 3: "what's the address on my account?" redirected an order with no new address."""
    conversation.say("what's the address on my account?", "change_shipping_address", metadata=AMELIA)
    said = await conversation.run(ActionChangeShippingAddress())
    assert "I've asked" not in " ".join(said) and await _requests(repo) == 0
    assert conversation.followup() == "address_form"  # at most it asks for a new address
    conversation.say("no", "deny")
    declined = await conversation.run(ActionDecline())
    assert declined and await _requests(repo) == 0
    conversation.say("yes", "affirm")  # a later yes has nothing to confirm
    await conversation.run(ActionConfirm())
    assert await _requests(repo) == 0


async def test_a_verified_high_value_customer_is_queued_as_themselves(conversation, repo) -> None:  # type: ignore[no-untyped-def]
    """Finding 7: a signed-in customer (customer_number C1000003) was queued as "unidentified"."""
    from rasa_sdk.executor import CollectingDispatcher

    token = identity_token.issue(IDENTITY_SECRET, "site:chloe", customer_number="C1000003")
    conversation.slots["session_started_metadata"] = {identity_token.METADATA_KEY: token}
    for event in await ActionSessionStart().run(CollectingDispatcher(), conversation.tracker(), conversation.domain):
        if event.get("event") == "slot":
            conversation.slots[event["name"]] = event["value"]
    chloe = await repo.find("C1000003")
    assert conversation.slots["customer_id"] == chloe.customer_id
    assert {"high_value", "open_complaint"} <= set(conversation.slots["customer_segments"])
    _, events = await _handoff(conversation)
    assert events[0]["value"]["customer_id"] == chloe.customer_id


def test_a_code_expires_and_a_conversation_gets_at_most_three() -> None:
    from bot.actions_support import assurance

    key = assurance.seal_key(IDENTITY_SECRET)
    challenge, code = assurance.new_challenge(key, "c1", "cus_1", "email", now=1000.0)
    assert assurance.check_code(key, "c1", challenge, code, now=1000.0 + 599).outcome == "verified"
    assert assurance.check_code(key, "c1", challenge, code, now=1000.0 + 600).outcome == "expired"
    assert assurance.check_code(key, "c2", challenge, code, now=1001.0).outcome == "wrong"  # another conversation
    # the sealed slot cannot be edited (more attempts, a later expiry) or moved to another conversation
    slot = challenge.to_slot(key, "c1")
    assert assurance.open_challenge(slot, "c1", key) == challenge
    assert assurance.open_challenge({**slot, "attempts_left": 99}, "c1", key) is None
    assert assurance.open_challenge(slot, "c2", key) is None
    third, _ = assurance.new_challenge(key, "c1", "cus_1", "email", now=1000.0, previous=challenge)
    third, _ = assurance.new_challenge(key, "c1", "cus_1", "email", now=1000.0, previous=third)
    assert third.codes_sent == assurance.MAX_CODES


async def test_no_more_codes_than_the_limit(conversation, outbox) -> None:  # type: ignore[no-untyped-def]
    for order_id in ("4000000101", "4000000901", "4000000501", "4000000201"):
        conversation.say(f"where is {order_id}", "track_order", {"order_id": order_id})
        await conversation.run(ActionTrackOrder())
    assert conversation.response_names[-1] == "utter_verification_limit"
    assert len(list(outbox.iterdir())) == 3


async def test_a_verification_by_code_runs_out_and_personal_data_needs_a_new_code(  # type: ignore[no-untyped-def]
    conversation, services, outbox
) -> None:
    """Before, one code verified the conversation for good; now the proof lasts ``verified_for_s``
    (TANDEM_REVERIFY_AFTER_S), then the account is hidden again until a new code comes back."""
    import asyncio

    services.verified_for_s = 1.5
    conversation.say(f"where is my order {AMELIA_ORDER}", "track_order", {"order_id": AMELIA_ORDER})
    await conversation.run(ActionTrackOrder())
    assert "DPD" in " ".join(await type_code(conversation, outbox))
    conversation.say("and where is it now", "track_order")
    assert "DPD" in " ".join(await conversation.run(ActionTrackOrder()))  # within the time: still her
    await asyncio.sleep(1.6)
    conversation.say("where is it now", "track_order")
    said = " ".join(await conversation.run(ActionTrackOrder()))
    assert not any(detail in said for detail in AMELIA_DETAILS), said
    assert conversation.response_names[-1] == "utter_verification_sent_order_id"
    assert len(list(outbox.iterdir())) == 2  # a new code, to the address on file
    _, events = await _handoff(conversation)
    assert events[0]["value"]["customer_id"] is None  # nor is she queued as verified
    assert "DPD" in " ".join(await type_code(conversation, outbox))
    assert conversation.slots["identity_level"] == "verified"


async def test_an_extended_verification_time_is_not_trusted(conversation, services, outbox) -> None:  # type: ignore[no-untyped-def]
    conversation.say(f"where is my order {AMELIA_ORDER}", "track_order", {"order_id": AMELIA_ORDER})
    await conversation.run(ActionTrackOrder())
    await type_code(conversation, outbox)
    conversation.slots["identity_verified_until"] += 3600  # edited through Rasa's API, say
    conversation.say("where is it", "track_order")
    said = " ".join(await conversation.run(ActionTrackOrder()))
    assert not any(detail in said for detail in AMELIA_DETAILS), said


def test_the_code_message_is_the_domain_response_for_its_channel(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The e-mail or SMS text is ``utter_verification_code_message`` (domain/identity.yml), not Python."""
    import time

    import yaml

    from bot.actions_support.code_sender import DOMAIN_FILE, CodeMessage

    responses = yaml.safe_load(DOMAIN_FILE.read_text())["responses"]["utter_verification_code_message"]
    by_channel = {r.get("channel"): r["text"] for r in responses}
    message = CodeMessage("email", "a@example.com", "123456", time.time() + 600, "c1")
    assert message.body() == by_channel[None].format(code="123456", minutes=10)  # e-mail: the default
    sms = CodeMessage("sms", "+447700900123", "654321", time.time() + 600, "c1")
    assert sms.body() == by_channel["sms"].format(code="654321", minutes=10)
    edited = tmp_path / "identity.yml"
    edited.write_text(yaml.safe_dump({"responses": {"utter_verification_code_message": [
        {"text": "Code {code}, {minutes} min."}]}}))
    assert message.body(edited) == "Code 123456, 10 min."  # a copy edit is a domain edit


async def test_the_outbox_holds_the_domain_text(conversation, outbox) -> None:  # type: ignore[no-untyped-def]
    from bot.actions_support.code_sender import read_outbox

    conversation.say(f"where is my order {AMELIA_ORDER}", "track_order", {"order_id": AMELIA_ORDER})
    await conversation.run(ActionTrackOrder())
    (sent,) = read_outbox(outbox)
    assert sent["body"].startswith(f"Your verification code is {sent['code']}. Type it in the chat")
    assert "ignore this e-mail" in sent["body"]  # the e-mail variation
