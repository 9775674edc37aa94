"""Every metric of the report on hand-built event streams, through the real consumer."""

from __future__ import annotations

from datetime import timedelta

from tests.insights.helpers import T0, Sources


async def test_contained_conversation_counts_turns_fallbacks_and_out_of_scope(sources: Sources) -> None:
    (sources.chat("a").start().says("hi", "greet").bot("hello")
     .says("asdfgh", "nlu_fallback", 0.2, [("nlu_fallback", 0.2), ("track_order", 0.1)]).bot("rephrase?")
     .says("what's the weather", "out_of_scope").bot("can't help").says("where is my order", "track_order").flush())
    await sources.consume()
    rep = await sources.report()
    assert (rep.conversations, rep.contained, rep.containment_rate) == (1, 1, 1.0)
    assert (rep.handoffs, rep.user_turns) == (0, 4)
    assert (rep.fallback_rate, rep.out_of_scope_rate) == (0.25, 0.25)
    assert rep.daily == [{"day": "2026-03-02", "conversations": 1, "contained": 1, "containment_rate": 1.0,
                          "handoffs": 0, "handoffs_by_reason": {}}]


def _served(sources: Sources, sender: str, hid: str, *, wait: float, reply: float, handle: float,
            reason: str = "explicit_request", topic: str = "orders", channel: str = "rest",
            rating: float | None = None, comment: str | None = None, start=T0,
            disposition: str = "resolved") -> None:
    """A conversation handed off, accepted after ``wait`` s, first agent reply ``reply`` s later,
    closed ``handle`` s after acceptance, optionally rated."""
    chat = sources.chat(sender, start, channel).start().says("I want a person", "contact_human_agent")
    chat.handoff(reason, topic, hid)
    asked = chat.now
    accepted = asked + timedelta(seconds=wait)
    chat.bot("Hi, Ann here", agent="ann", at=accepted + timedelta(seconds=reply))
    closed = accepted + timedelta(seconds=handle)
    chat.resume(at=closed)
    if rating is not None:
        chat.slot("csat_rating", rating, after=10)
    if comment is not None:
        chat.slot("csat_comment", comment)
    chat.flush()
    sources.queue_row(hid, sender, asked, topic=topic, reason=f"{reason}: because", status="closed",
                      assigned_at=accepted, closed_at=closed, disposition=disposition,
                      agent_reply_at=accepted + timedelta(seconds=reply))


async def test_served_handoff_times_and_rating(sources: Sources) -> None:
    _served(sources, "b", "h-b", wait=30, reply=10, handle=300, rating=4, comment="quick, thanks")
    await sources.consume()
    rep = await sources.report()
    assert (rep.conversations, rep.contained, rep.handoffs, rep.handed_off_conversations) == (1, 0, 1, 1)
    assert (rep.explicit_requests, rep.policy_decided) == (1, 0)
    assert rep.handoffs_by_reason == {"explicit_request": 1} and rep.handoffs_by_topic == {"orders": 1}
    assert (rep.accepted, rep.abandoned, rep.handed_back, rep.still_waiting) == (1, 0, 0, 0)
    assert (rep.wait_p50_s, rep.wait_p90_s, rep.wait_avg_s) == (30.0, 30.0, 30.0)
    assert (rep.first_reply_avg_s, rep.handle_avg_s) == (10.0, 300.0)
    assert rep.intents_before_handoff == {"contact_human_agent": 1}
    assert rep.ratings.rated == 1 and rep.ratings.with_comment == 1 and rep.ratings.average == 4.0
    assert rep.ratings.distribution == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0} and rep.ratings.share_rated == 1.0
    assert rep.ratings_by_reason == {"explicit_request": {"conversations": 1, "rated": 1, "average": 4.0}}
    assert rep.ratings_by_topic == {"orders": {"conversations": 1, "rated": 1, "average": 4.0}}


async def test_rating_without_comment_and_unrated_conversation(sources: Sources) -> None:
    _served(sources, "r1", "h-r1", wait=10, reply=5, handle=60, rating=2.0)
    _served(sources, "r2", "h-r2", wait=10, reply=5, handle=60, reason="frustration", topic="complaints",
            start=T0 + timedelta(minutes=5))
    _served(sources, "r3", "h-r3", wait=10, reply=5, handle=60, rating=5, comment="   ",
            start=T0 + timedelta(minutes=9))
    await sources.consume()
    ratings = (await sources.report()).ratings
    assert (ratings.rated, ratings.with_comment, ratings.average) == (2, 0, 3.5)
    assert ratings.distribution == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}
    assert ratings.share_rated == round(2 / 3, 4)
    rep = await sources.report(topic="complaints")
    assert rep.ratings.rated == 0 and rep.ratings.share_rated == 0.0 and rep.policy_decided == 1


async def test_handed_back_then_handed_off_again(sources: Sources) -> None:
    chat = sources.chat("c").start().says("talk to a human", "contact_human_agent").handoff("explicit_request", "orders", "h1")
    first_at = chat.now
    chat.bot("Ann here", agent="ann", after=20).resume(after=100)
    chat.says("where is my parcel", "track_order", after=30).bot("it is on its way")
    chat.says("no", "deny").says("no!!", "deny").handoff("repeated_deny", "orders", "h2")
    second_at = chat.now
    chat.bot("Bob here", agent="bob", after=60).resume(after=200).flush()
    sources.queue_row("h1", "c", first_at, status="handed_back", assigned_at=first_at + timedelta(seconds=15),
                      closed_at=first_at + timedelta(seconds=120), disposition="handed_back")
    sources.queue_row("h2", "c", second_at, reason="repeated_deny: no", status="closed",
                      assigned_at=second_at + timedelta(seconds=45), closed_at=second_at + timedelta(seconds=260),
                      disposition="resolved")
    await sources.consume()
    rep = await sources.report()
    assert (rep.conversations, rep.contained, rep.handed_off_conversations, rep.handoffs) == (1, 0, 1, 2)
    assert rep.handoffs_by_reason == {"explicit_request": 1, "repeated_deny": 1}
    assert (rep.handed_back, rep.accepted, rep.abandoned) == (1, 2, 0)
    assert (rep.explicit_requests, rep.policy_decided) == (1, 1)
    assert rep.wait_avg_s == 30.0 and rep.wait_p50_s == 15.0 and rep.wait_p90_s == 45.0
    assert rep.first_reply_avg_s == 10.0  # 20-15 and 60-45
    assert rep.handle_avg_s == (105 + 215) / 2
    # customer turns while an agent served them are not the bot's: 1 + 3
    assert rep.user_turns == 4
    assert rep.intents_before_handoff == {"contact_human_agent": 1, "deny": 1}


async def test_customer_leaves_while_queued(sources: Sources) -> None:
    chat = sources.chat("d").start().says("agent please", "contact_human_agent").handoff("explicit_request", "account", "h-d")
    chat.says("hello??", "greet", after=120).restart(after=60).flush()
    # the queue closes it without an agent when it sees the restart
    sources.queue_row("h-d", "d", T0, topic="account", status="closed", closed_at=chat.now, disposition="bot_restart")
    # another customer is accepted, but had gone quiet: the agent closes with no_response
    _served(sources, "e", "h-e", wait=600, reply=5, handle=120, start=T0 + timedelta(minutes=1),
            disposition="no_response")
    # a third waits still
    sources.chat("f", T0 + timedelta(minutes=10)).start().says("human", "contact_human_agent").handoff(
        "explicit_request", "orders", "h-f").flush()
    await sources.consume()
    rep = await sources.report()
    assert (rep.handoffs, rep.abandoned, rep.still_waiting, rep.accepted) == (3, 2, 1, 1)
    assert rep.abandonment_rate == 1.0  # both handoffs that ended did so without being served
    assert rep.wait_p50_s == 600.0
    # the queue's view alone (no restart in the broker) also counts as abandoned
    rep_account = await sources.report(topic="account")
    assert (rep_account.handoffs, rep_account.abandoned, rep_account.accepted) == (1, 1, 0)


async def test_left_while_queued_seen_only_by_the_broker(sources: Sources) -> None:
    sources.chat("g").start().says("human", "contact_human_agent").handoff("explicit_request", "orders").restart(
        after=300).flush()
    await sources.consume()
    rep = await sources.report()
    assert (rep.handoffs, rep.abandoned, rep.still_waiting) == (1, 1, 0)


async def test_customer_who_goes_quiet_while_queued_is_abandoned(sources: Sources) -> None:
    # "q" asks for a person and says nothing more; nobody accepts for 11 minutes (quiet after 10)
    sources.chat("q").start().says("a person please", "contact_human_agent").handoff(
        "explicit_request", "orders", "h-q").flush()
    asked = T0 + timedelta(seconds=6)
    sources.queue_row("h-q", "q", asked)
    sources.now = asked + timedelta(minutes=9)
    await sources.consume(quiet_s=600)
    assert ((await sources.report()).still_waiting, (await sources.report()).abandoned) == (1, 0)
    sources.now = asked + timedelta(minutes=11)
    await sources.consume(quiet_s=600)
    rep = await sources.report()
    assert (rep.handoffs, rep.abandoned, rep.still_waiting, rep.accepted) == (1, 1, 0, 0)
    # an agent who takes the conversation afterwards does not make it served, nor a wait
    sources.queue_row("h-q", "q", asked, status="closed", assigned_at=asked + timedelta(minutes=12),
                      closed_at=asked + timedelta(minutes=13), disposition="no_response",
                      agent_reply_at=asked + timedelta(minutes=12, seconds=5))
    await sources.consume(quiet_s=600)
    rep = await sources.report()
    assert (rep.abandoned, rep.accepted, rep.wait_p50_s, rep.first_reply_avg_s) == (1, 0, None, None)
    assert await sources.consume(quiet_s=600) == {"rasa_events": 0, "handoff_queue": 0, "process_requests": 0}
    assert (await sources.report()).abandoned == 1


async def test_messages_while_queued_keep_the_customer_present(sources: Sources) -> None:
    # "r" writes every 5 minutes (more than 10 minutes in all) and is accepted at 14 minutes
    chat = sources.chat("r").start().says("a person please", "contact_human_agent").handoff(
        "explicit_request", "account", "h-r")
    asked = chat.now
    chat.says("still there?", "greet", at=asked + timedelta(minutes=5)).says(
        "hello?", "greet", at=asked + timedelta(minutes=10))
    chat.bot("Hi, Ann here", agent="ann", at=asked + timedelta(minutes=14)).resume(at=asked + timedelta(minutes=20))
    chat.flush()
    sources.queue_row("h-r", "r", asked, topic="account", status="closed", assigned_at=asked + timedelta(minutes=14),
                      closed_at=asked + timedelta(minutes=20), disposition="resolved")
    await sources.consume(quiet_s=600)
    rep = await sources.report()
    assert (rep.handoffs, rep.abandoned, rep.accepted, rep.wait_p50_s) == (1, 0, 1, 840.0)


async def test_accepted_in_time_is_not_quiet_whatever_the_order_of_the_sources(sources: Sources) -> None:
    # the agent accepted at 9 minutes but the fold sees the customer's next message (at 12) first
    chat = sources.chat("s").start().says("a person please", "contact_human_agent").handoff(
        "explicit_request", "orders", "h-s")
    asked = chat.now
    chat.says("thanks", "thank", at=asked + timedelta(minutes=12)).flush()
    sources.now = asked + timedelta(minutes=12)
    consumer = sources.consumer(quiet_s=600)
    try:
        from bot.insights.db import create_schema

        await create_schema(consumer.engine)
        await consumer.broker_batch()  # the broker alone: the customer was quiet for 12 minutes
        sources.queue_row("h-s", "s", asked, status="assigned", assigned_at=asked + timedelta(minutes=9))
        await consumer.run_once()
    finally:
        await consumer.dispose()
    rep = await sources.report()
    assert (rep.handoffs, rep.abandoned, rep.accepted, rep.wait_p50_s) == (1, 0, 1, 540.0)


async def test_going_quiet_can_be_turned_off(sources: Sources) -> None:
    sources.chat("t").start().says("human", "contact_human_agent").handoff("explicit_request", "orders").flush()
    sources.now = T0 + timedelta(hours=3)
    await sources.consume(quiet_s=None)
    assert (await sources.report()).still_waiting == 1
    await sources.consume(quiet_s=3600)
    rep = await sources.report()
    assert (rep.still_waiting, rep.abandoned) == (0, 1)


def test_quiet_timeout_from_the_environment() -> None:
    import pytest

    from bot.insights.db import quiet_from_env

    assert quiet_from_env({}) == 600.0
    assert quiet_from_env({"TANDEM_INSIGHTS_QUIET_S": "90"}) == 90.0
    assert quiet_from_env({"TANDEM_INSIGHTS_QUIET_S": "0"}) is None
    for bad in ("ten", "-5", "nan", "inf"):
        with pytest.raises(ValueError, match="TANDEM_INSIGHTS_QUIET_S"):
            quiet_from_env({"TANDEM_INSIGHTS_QUIET_S": bad})


async def test_conversation_spanning_midnight(sources: Sources) -> None:
    late = T0.replace(hour=23, minute=50)
    chat = sources.chat("m", late).start().says("hi", "greet").bot("hello")
    chat.says("i want a refund", "request_refund").bot("which order?")
    chat.says("nvm get me someone", "contact_human_agent", at=late + timedelta(minutes=20))
    chat.handoff("explicit_request", "refunds_billing", "h-m").flush()
    asked = chat.now
    sources.queue_row("h-m", "m", asked, topic="refunds_billing", status="assigned",
                      assigned_at=asked + timedelta(seconds=50))
    await sources.consume()
    rep = await sources.report()
    assert [(d["day"], d["conversations"], d["handoffs"]) for d in rep.daily] == [
        ("2026-03-02", 1, 0), ("2026-03-03", 0, 1)]
    day1 = await sources.report(since=T0.date(), until=T0.date())
    assert (day1.conversations, day1.contained, day1.handoffs) == (1, 0, 0)
    day2 = await sources.report(since=T0.date() + timedelta(days=1))
    assert (day2.conversations, day2.handoffs, day2.accepted, day2.wait_p50_s) == (0, 1, 1, 50.0)


async def test_filters_by_channel_and_topic(sources: Sources) -> None:
    _served(sources, "w1", "h-w1", wait=5, reply=5, handle=50, channel="socketio", topic="orders")
    _served(sources, "w2", "h-w2", wait=5, reply=5, handle=50, channel="whatsapp", topic="account",
            reason="legal_threat")
    sources.chat("w3", channel="socketio").start().says("hi", "greet").flush()
    await sources.consume()
    web = await sources.report(channel="socketio")
    assert (web.conversations, web.contained, web.handoffs, web.handoffs_by_topic) == (2, 1, 1, {"orders": 1})
    account = await sources.report(topic="account")
    assert (account.conversations, account.handoffs_by_reason) == (1, {"legal_threat": 1})
    assert (await sources.report(channel="sms")).conversations == 0


async def test_requests_and_followups(sources: Sources) -> None:
    sources.chat("p").start().says("cancel my order", "cancel_order").bot("done").external(
        "refund_paid", after=3600).flush()
    sources.request("REQ1", "order_cancellation", "p", T0 + timedelta(minutes=1))
    sources.request("REQ2", "address_change", "q", T0 + timedelta(minutes=2))
    await sources.consume()
    sources.request("REQ3", "order_cancellation", "p", T0 + timedelta(minutes=3))
    sources.chat("p", T0 + timedelta(hours=2)).external("parcel_delayed").flush()
    await sources.consume()
    rep = await sources.report()
    assert rep.requests_by_type == {"address_change": 1, "order_cancellation": 2}
    assert rep.followups_sent == 2 and rep.followups_by_type == {"parcel_delayed": 1, "refund_paid": 1}
    assert rep.conversations == 1 and rep.user_turns == 1  # a follow-up is not a customer turn


def _mixed_traffic(sources: Sources) -> None:
    _served(sources, "i1", "h-i1", wait=30, reply=10, handle=300, rating=5)
    chat = sources.chat("i2").start().says("hm", "nlu_fallback", 0.1, [("nlu_fallback", 0.1), ("greet", 0.05)])
    chat.says("meh", "nlu_fallback", 0.1).handoff("repeated_fallback", "general", "h-i2").flush()
    sources.chat("i3", T0.replace(hour=23, minute=59)).start().says("hi", "greet").says(
        "bye", "goodbye", after=120).flush()


async def test_consuming_again_or_in_small_batches_changes_nothing(sources: Sources, tmp_path) -> None:
    _mixed_traffic(sources)
    await sources.consume(batch_size=3)
    first = (await sources.report()).to_json()
    assert first["conversations"] == 3 and first["handoffs"] == 2 and first["fallback_rate"] == 0.4  # 2 of 5 turns
    assert await sources.consume() == {"rasa_events": 0, "handoff_queue": 0, "process_requests": 0}
    assert (await sources.report()).to_json() == first
    whole = Sources(tmp_path / "whole")
    try:
        _mixed_traffic(whole)
        await whole.consume()
        assert (await whole.report()).to_json() == first
    finally:
        whole.dispose()


async def test_queue_seen_before_the_broker_event_is_one_handoff(sources: Sources) -> None:
    # the action server announces the request to the queue before Rasa's events reach the broker
    sources.queue_row("h-x", "x", T0 + timedelta(seconds=11), status="assigned",
                      assigned_at=T0 + timedelta(seconds=41))
    await sources.consume()
    assert (await sources.report()).handoffs == 1
    sources.chat("x").start().says("a person please", "contact_human_agent").handoff(
        "explicit_request", "orders", "h-x").flush()
    await sources.consume()
    rep = await sources.report()
    assert (rep.conversations, rep.handoffs, rep.accepted, rep.wait_p50_s) == (1, 1, 1, 30.0)
    assert rep.intents_before_handoff == {"contact_human_agent": 1}


def test_period_split_into_whole_months_and_edge_days() -> None:
    from datetime import date

    from bot.insights.report import Filters, spans

    assert spans(Filters()) == [(True, None, None)]
    assert spans(Filters(since=date(2026, 3, 1), until=date(2026, 5, 31))) == [
        (True, date(2026, 3, 1), date(2026, 5, 1))]
    assert spans(Filters(since=date(2026, 2, 15), until=date(2026, 5, 10))) == [
        (True, date(2026, 3, 1), date(2026, 4, 1)), (False, date(2026, 2, 15), date(2026, 2, 28)),
        (False, date(2026, 5, 1), date(2026, 5, 10))]
    assert spans(Filters(since=date(2026, 3, 2), until=date(2026, 3, 30))) == [(False, date(2026, 3, 2), date(2026, 3, 30))]
    assert spans(Filters(since=date(2026, 12, 5))) == [(True, date(2027, 1, 1), None), (False, date(2026, 12, 5),
                                                                                        date(2026, 12, 31))]


async def test_reports_across_month_boundaries_agree_with_the_days(sources: Sources) -> None:
    from datetime import date

    for i, day in enumerate((date(2026, 1, 31), date(2026, 2, 1), date(2026, 2, 28), date(2026, 3, 1), date(2026, 3, 2))):
        start = T0.replace(year=day.year, month=day.month, day=day.day, hour=12)
        _served(sources, f"mb{i}", f"h-mb{i}", wait=10 * (i + 1), reply=5, handle=60, rating=1 + i, start=start)
        sources.chat(f"mc{i}", start).start().says("hi", "greet").flush()
    await sources.consume()
    whole = await sources.report()
    assert (whole.conversations, whole.handoffs, whole.ratings.rated, whole.wait_p50_s) == (10, 5, 5, 30.0)
    feb = await sources.report(since=date(2026, 2, 1), until=date(2026, 2, 28))
    assert (feb.conversations, feb.handoffs, feb.ratings.average) == (4, 2, 2.5)
    odd = await sources.report(since=date(2026, 1, 31), until=date(2026, 3, 1))
    assert (odd.conversations, odd.handoffs, odd.wait_p90_s, len(odd.daily)) == (8, 4, 40.0, 4)


async def test_a_follow_up_alone_is_no_conversation_and_a_later_visit_counts_on_its_day(sources: Sources) -> None:
    sources.chat("fu", T0).start().external("refund_paid").flush()
    later = T0 + timedelta(days=3)
    sources.chat("fu", later).start().says("thanks for the refund", "thank").flush()
    await sources.consume()
    rep = await sources.report()
    assert (rep.conversations, rep.followups_sent, rep.user_turns) == (1, 1, 1)
    assert [(d["day"], d["conversations"]) for d in rep.daily] == [(later.date().isoformat(), 1)]


async def test_queue_rows_beyond_a_batch_are_not_skipped(sources: Sources) -> None:
    # q1 and q5 are known from the broker (open here); q2-q4 reached the queue only
    for i in range(1, 6):
        sources.queue_row(f"q{i}", f"qs{i}", T0 + timedelta(minutes=i), status="assigned",
                          assigned_at=T0 + timedelta(minutes=i, seconds=20))
    for i in (1, 5):
        sources.chat(f"qs{i}", T0 + timedelta(minutes=i) - timedelta(seconds=11)).start().says(
            "person", "contact_human_agent").handoff("explicit_request", "orders", f"q{i}").flush()
    await sources.consume(batch_size=2)
    rep = await sources.report()
    assert (rep.handoffs, rep.accepted) == (5, 5)


async def test_asking_again_while_queued_is_the_same_handoff(sources: Sources) -> None:
    chat = sources.chat("again").start().says("a person", "contact_human_agent").handoff(
        "explicit_request", "orders", "h-again-1")
    chat.says("hello?? a PERSON", "contact_human_agent", after=60).handoff("explicit_request", "orders", "h-again-2")
    chat.flush()
    sources.queue_row("h-again-1", "again", T0, status="closed", closed_at=chat.now + timedelta(seconds=30),
                      disposition="bot_restart")
    await sources.consume()
    rep = await sources.report()
    assert (rep.conversations, rep.handoffs, rep.abandoned, rep.still_waiting) == (1, 1, 1, 0)


async def test_two_consumers_at_once_count_everything_once(sources: Sources) -> None:
    import asyncio

    for i in range(12):
        _served(sources, f"par{i}", f"h-par{i}", wait=10 + i, reply=5, handle=60, start=T0 + timedelta(minutes=i))
    consumers = [sources.consumer(batch_size=7) for _ in range(2)]
    try:
        from bot.insights.db import create_schema

        await create_schema(consumers[0].engine)
        for _ in range(3):
            await asyncio.gather(*(c.run_once() for c in consumers))
    finally:
        for c in consumers:
            await c.dispose()
    rep = await sources.report()
    assert (rep.conversations, rep.handoffs, rep.accepted, rep.user_turns) == (12, 12, 12, 12)


async def test_queue_row_closed_before_the_broker_events_is_one_handoff(sources: Sources) -> None:
    """The queue pass can see a request, already served and closed, before the broker's events of
    the same request are folded (a second consumer, or a broker that lags): still one handoff."""
    chat = sources.chat("lag", T0).start().says("I want a person", "contact_human_agent").flush()
    await sources.consume()
    asked = chat.now + timedelta(seconds=1)
    sources.queue_row("h-lag", "lag", asked, status="closed", assigned_at=asked + timedelta(seconds=20),
                      closed_at=asked + timedelta(seconds=90), disposition="resolved",
                      agent_reply_at=asked + timedelta(seconds=25))
    await sources.consume()
    chat.handoff("explicit_request", "orders", "h-lag").bot("Hi", agent="ann").resume().flush()
    await sources.consume()
    rep = await sources.report()
    assert (rep.conversations, rep.handoffs, rep.accepted, rep.abandoned) == (1, 1, 1, 0)
    assert rep.intents_before_handoff == {"contact_human_agent": 1}
    assert (rep.wait_p50_s, rep.handle_avg_s) == (20.0, 70.0)


async def test_a_provisional_entry_stored_before_the_queue_row_is_removed(sources: Sources) -> None:
    """The action event is folded (a provisional ``sender#event`` entry is stored), then the queue
    row, already closed, then the request slot naming it: the provisional entry goes."""
    chat = sources.chat("split", T0).start().says("I want a person", "contact_human_agent")
    chat.slot("escalation_reason", "explicit_request: because", after=1).slot("escalation_topic", "orders")
    chat.action("action_handoff", after=0).flush()
    await sources.consume()
    asked = chat.now
    sources.queue_row("h-split", "split", asked, status="closed", assigned_at=asked + timedelta(seconds=30),
                      closed_at=asked + timedelta(seconds=60), disposition="resolved")
    await sources.consume()
    chat.slot("handoff_request", {"handoff_id": "h-split", "topic": "orders", "reason": "explicit_request: because",
                                  "requested_at": 0}).flush()
    await sources.consume()
    rep = await sources.report()
    assert (rep.conversations, rep.handoffs, rep.accepted) == (1, 1, 1)
    assert rep.handoffs_by_reason == {"explicit_request": 1} and rep.handoffs_by_topic == {"orders": 1}
