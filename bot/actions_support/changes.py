"""No change without confirmation.

Every action that would change something for the customer (cancel or change an
order, redirect it or change its address, start a refund, a data export, an
erasure, close the account) first says exactly what will happen (a domain
response with the specifics) and asks for a yes. It records what waits in
the ``pending_change`` slot, with the action that asked. ``action_confirm``
carries it out only when the customer's "yes" answers that very question
(the action that asked is the last one before the "yes"); "no", anything
else, or a "yes" to something later changes nothing, and the waiting change
is dropped (:func:`stale_slots`).
"""

from __future__ import annotations

from typing import Any, Mapping

from bot.actions_support.conversation import Context, Reply

__all__ = ["PENDING_SLOT", "CONFIRMATION_SLOTS", "ask", "waiting", "stale_slots"]

PENDING_SLOT = "pending_change"
#: every slot that holds a change waiting for a yes, and the action that asks for it
CONFIRMATION_SLOTS: Mapping[str, str | None] = {
    PENDING_SLOT: None,  # the asking action is recorded in the change itself
    "cancel_confirmation": "action_check_cancel_order",
    "delete_confirmation": "action_check_delete_account",
}
#: what a waiting change may be
KINDS = ("order_change", "address_change", "refund", "data_export", "erasure")


def ask(reply: Reply, kind: str, asked_by: str, **details: Any) -> Reply:
    """Make ``reply`` (which already says what will happen and asks) wait for a yes."""
    if kind not in KINDS:
        raise ValueError(f"unknown change {kind!r}")
    reply.slots[PENDING_SLOT] = {"kind": kind, "asked_by": asked_by, **{k: v for k, v in details.items() if v is not None}}
    return reply


def _asked_just_now(ctx: Context, asked_by: str | None) -> bool:
    return bool(asked_by) and ctx.turn.previous_action == asked_by


def waiting(ctx: Context, slot: str = PENDING_SLOT) -> Any:
    """The change this "yes" or "no" answers, or None (nothing asked, or asked before something else)."""
    value = ctx.turn.slot(slot)
    if not value:
        return None
    if slot == PENDING_SLOT:
        if not isinstance(value, Mapping) or value.get("kind") not in KINDS:
            return None
        return value if _asked_just_now(ctx, value.get("asked_by")) else None
    return value if _asked_just_now(ctx, CONFIRMATION_SLOTS[slot]) else None


def stale_slots(ctx: Context, action_name: str, reply: Reply) -> dict[str, None]:
    """Waiting changes to drop: any action other than the answer to the question moves on from it."""
    if action_name in ("action_confirm", "action_decline"):
        return {}
    return {slot: None for slot in CONFIRMATION_SLOTS if ctx.turn.slot(slot) and slot not in reply.slots}
