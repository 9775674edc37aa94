"""What the customer reads from the handoff, in one place (plain wording, no placeholders left)."""

from __future__ import annotations

from datetime import datetime

from bot.handoff.models import Topic
from bot.handoff.routing import describe_wait

TOPIC_LABEL = {
    Topic.ORDERS: "orders and deliveries",
    Topic.REFUNDS_BILLING: "refunds and billing",
    Topic.ACCOUNT: "account",
    Topic.COMPLAINTS: "complaints",
    Topic.GENERAL: "customer service",
}

# Button payloads are plain words, not ``/intent`` payloads: the bot is paused when the customer
# picks one, so no intent is needed; the handoff service reads the text from the broker.
CALLBACK_PAYLOAD = "Call me back"
EMAIL_PAYLOAD = "Answer me by e-mail"
KEEP_WAITING_PAYLOAD = "I'll wait here"


def queued(topic: Topic, position: int, eta_s: int | None) -> str:
    return (
        f"I'm passing you to a person from our {TOPIC_LABEL[topic]} team. "
        f"You're number {position} in the queue; the estimated wait is {describe_wait(eta_s)}. "
        "They will see this conversation, so you won't need to repeat anything. "
        "Anything you write while you wait reaches them too. "
        "If the wait gets long, you'll get an update here."
    )


def no_agent(topic: Topic, open_now: bool, hours: str, next_opening: datetime | None) -> str:
    if open_now:
        why = f"Right now no one from our {TOPIC_LABEL[topic]} team is free to chat."
    else:
        when = f" We open again {next_opening:%A at %H:%M} UTC." if next_opening else ""
        why = f"Our agents are not available at the moment (opening hours: {hours}).{when}"
    return (
        f"{why} Your request is saved, with this conversation, so nothing gets lost. "
        "You can keep this chat open and wait, ask for a call back, or get an answer by e-mail "
        "(usually within one working day)."
    )


def position_update(topic: Topic, position: int, eta_s: int | None) -> str:
    return (
        f"Update: you're now number {position} in the queue for {TOPIC_LABEL[topic]}; "
        f"the estimated wait is {describe_wait(eta_s)}."
    )


def agent_joined(agent: str) -> str:
    return (
        f"Hi, this is {agent.title()} from customer service. I can see your conversation with the "
        "assistant, so there's no need to repeat anything. Give me a moment to read it."
    )


def handed_back(agent: str) -> str:
    return (
        f"{agent.title()} has passed you back to the virtual assistant. I'm here again: ask me anything, "
        'or say "agent" whenever you want a person.'
    )


def closed(agent: str) -> str:
    return (
        f"{agent.title()} has closed this conversation. Thank you for your patience! "
        "The virtual assistant is back if you need anything else."
    )


def callback_confirmed(identified: bool) -> str:
    target = "the phone number on your account" if identified else "the number you type here next"
    return (
        f"Done: an agent will call you back on {target}, usually within one working day. "
        "You won't lose your place. Meanwhile the virtual assistant is back if you need it."
    )


def email_confirmed(identified: bool) -> str:
    target = "the e-mail address on your account" if identified else "the e-mail address you type here next"
    return (
        f"Done: we've opened a ticket and an agent will answer by e-mail to {target}, usually within "
        "one working day. Meanwhile the virtual assistant is back if you need it."
    )
