"""Reporting tables (prefix ``ins_``) in tandem's own insights database.

Three layers, all written by the consumer (:mod:`bot.insights.consumer`):

* **facts**: one row per conversation (``ins_conversation``: a Rasa session of one sender),
  per handoff (``ins_handoff``), per process request (``ins_request``), per follow-up
  (``ins_followup``) and per not-understood message (``ins_inbox``);
* **daily roll-ups** (``ins_day_*``): the facts of one UTC day summed by channel, topic and
  escalation reason, recomputed from the facts for every day a batch touched (``ins_dirty_day``
  says which), so a report reads a few hundred rows whatever the traffic;
* **cursors** (``ins_cursor``): how far each source was consumed, moved in the same transaction
  as the facts it produced.

Naive UTC ``DateTime`` columns everywhere (portable across SQLite and PostgreSQL). A
conversation's day is the day it started; a handoff's day is the day it was requested.
"""

from __future__ import annotations

import sqlalchemy as sa

from bot.db import cursor_table

metadata = sa.MetaData()

#: topic value of a conversation that never reached a person
NO_TOPIC = ""

cursor = cursor_table("ins_cursor", metadata)

conversation = sa.Table(
    "ins_conversation",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender_id", sa.String(255), nullable=False),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("last_event_at", sa.DateTime, nullable=False),
    sa.Column("channel", sa.String(64), nullable=False, default=""),
    sa.Column("user_turns", sa.Integer, nullable=False, default=0),
    sa.Column("fallback_turns", sa.Integer, nullable=False, default=0),
    sa.Column("oos_turns", sa.Integer, nullable=False, default=0),
    sa.Column("handoffs", sa.Integer, nullable=False, default=0),
    #: reason code and topic of the conversation's first handoff ("" when contained)
    sa.Column("reason", sa.String(64), nullable=False, default=""),
    sa.Column("topic", sa.String(32), nullable=False, default=NO_TOPIC),
    sa.Column("rating", sa.Float),
    sa.Column("rating_comment", sa.Boolean, nullable=False, default=False),
    #: state the fold needs between batches (last customer message, pending slot values...)
    sa.Column("state", sa.Text, nullable=False, default="{}"),
    sa.Index("ix_ins_conversation_sender", "sender_id", "id"),
    sa.Index("ix_ins_conversation_day", "day"),
)

handoff = sa.Table(
    "ins_handoff",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    #: the queue's handoff_id when known, else "<sender>#<broker event id>"
    sa.Column("handoff_key", sa.String(300), nullable=False, unique=True),
    sa.Column("conversation_id", sa.Integer),
    sa.Column("sender_id", sa.String(255), nullable=False),
    sa.Column("requested_at", sa.DateTime, nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("channel", sa.String(64), nullable=False, default=""),
    sa.Column("topic", sa.String(32), nullable=False),
    sa.Column("reason", sa.String(64), nullable=False),
    sa.Column("explicit", sa.Boolean, nullable=False, default=False),
    #: the intent of the customer's last message before the handoff
    sa.Column("intent_before", sa.String(128), nullable=False, default=""),
    sa.Column("accepted_at", sa.DateTime),
    sa.Column("first_reply_at", sa.DateTime),
    sa.Column("ended_at", sa.DateTime),
    #: waiting | accepted | handed_back | closed | abandoned
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("disposition", sa.String(32)),
    #: seconds from request to acceptance, acceptance to the agent's first reply, and to the end
    sa.Column("wait_s", sa.Float),
    sa.Column("reply_s", sa.Float),
    sa.Column("handle_s", sa.Float),
    #: upper edge of the wait's histogram bucket (bot.insights.fold.WAIT_EDGES)
    sa.Column("wait_bucket", sa.Integer),
    sa.Index("ix_ins_handoff_day", "day"),
    sa.Index("ix_ins_handoff_conversation", "conversation_id"),
    sa.Index("ix_ins_handoff_open", "outcome", "sender_id"),
)

request = sa.Table(
    "ins_request",
    metadata,
    sa.Column("request_id", sa.String(40), primary_key=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("sender_id", sa.String(255)),
    sa.Column("channel", sa.String(64), nullable=False, default=""),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Index("ix_ins_request_day", "day"),
)

followup = sa.Table(
    "ins_followup",
    metadata,
    sa.Column("event_id", sa.BigInteger, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("channel", sa.String(64), nullable=False, default=""),
    sa.Column("sent_at", sa.DateTime, nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Index("ix_ins_followup_day", "day"),
)

inbox = sa.Table(
    "ins_inbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    #: broker event id of the customer message (one inbox entry per message)
    sa.Column("event_id", sa.BigInteger, nullable=False, unique=True),
    sa.Column("sender_id", sa.String(255), nullable=False),
    sa.Column("received_at", sa.DateTime, nullable=False),
    sa.Column("channel", sa.String(64), nullable=False, default=""),
    #: nlu_fallback | out_of_scope | before_handoff
    sa.Column("kind", sa.String(32), nullable=False),
    #: the message with personal data masked (the raw text is never stored here)
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("intent", sa.String(128), nullable=False, default=""),
    sa.Column("confidence", sa.Float),
    #: intent | out_of_scope | ignore (None: not labelled yet)
    sa.Column("label_kind", sa.String(16)),
    sa.Column("label_intent", sa.String(128)),
    sa.Column("labelled_by", sa.String(64)),
    sa.Column("labelled_at", sa.DateTime),
    sa.Index("ix_ins_inbox_open", "label_kind", "received_at"),
)

dirty_day = sa.Table(
    "ins_dirty_day",
    metadata,
    sa.Column("day", sa.Date, primary_key=True),
)

def _dims() -> list[sa.Column]:
    """The dimensions every roll-up shares (``day``: the day, or the month's first day)."""
    return [
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("topic", sa.String(32), nullable=False),
    ]


def _conversation_measures() -> list[sa.Column]:
    return [
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("conversations", sa.Integer, nullable=False),
        sa.Column("contained", sa.Integer, nullable=False),
        sa.Column("user_turns", sa.Integer, nullable=False),
        sa.Column("fallback_turns", sa.Integer, nullable=False),
        sa.Column("oos_turns", sa.Integer, nullable=False),
        sa.Column("rated", sa.Integer, nullable=False),
        sa.Column("rated_with_comment", sa.Integer, nullable=False),
        sa.Column("rating_sum", sa.Float, nullable=False),
        *[sa.Column(f"r{i}", sa.Integer, nullable=False) for i in range(1, 6)],
    ]


def _handoff_measures() -> list[sa.Column]:
    return [
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("handoffs", sa.Integer, nullable=False),
        sa.Column("explicit", sa.Integer, nullable=False),
        sa.Column("accepted", sa.Integer, nullable=False),
        sa.Column("abandoned", sa.Integer, nullable=False),
        sa.Column("handed_back", sa.Integer, nullable=False),
        sa.Column("waiting", sa.Integer, nullable=False),
        sa.Column("wait_sum", sa.Float, nullable=False),
        sa.Column("reply_n", sa.Integer, nullable=False),
        sa.Column("reply_sum", sa.Float, nullable=False),
        sa.Column("handle_n", sa.Integer, nullable=False),
        sa.Column("handle_sum", sa.Float, nullable=False),
    ]


def _count_measures() -> list[sa.Column]:
    """Counts of named things: metric = wait (key: bucket edge) | intent_before_handoff |
    request | followup."""
    return [
        sa.Column("metric", sa.String(32), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
    ]


def _rollup(name: str, measures: list[sa.Column], cover: tuple[str, ...] = ()) -> sa.Table:
    """A roll-up table; ``cover`` adds columns to its index so the daily series (the one query
    that reads daily rows for a whole period) is answered from the index alone."""
    suffix = "_cover" if cover else ""
    return sa.Table(name, metadata, *_dims(), *measures,
                    sa.Index(f"ix_{name}{suffix}", "day", "channel", "topic", *cover))


day_conversation = _rollup("ins_day_conversation", _conversation_measures(), ("reason", "conversations", "contained"))
day_handoff = _rollup("ins_day_handoff", _handoff_measures(), ("reason", "handoffs"))
day_count = _rollup("ins_day_count", _count_measures(), ("metric", "key", "n"))
#: the same sums per calendar month (``day`` = the month's first day): long periods read these
month_conversation = _rollup("ins_month_conversation", _conversation_measures())
month_handoff = _rollup("ins_month_handoff", _handoff_measures())
month_count = _rollup("ins_month_count", _count_measures())

ROLLUPS = (day_conversation, day_handoff, day_count)
MONTHLY = {day_conversation: month_conversation, day_handoff: month_handoff, day_count: month_count}
#: columns of each roll-up that are summed (the rest are its group keys)
SUMMED = {
    table: [c.name for c in table.c if c.name not in ("day", "channel", "topic", "reason", "metric", "key")]
    for table in ROLLUPS
}
