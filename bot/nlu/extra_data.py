"""Write ``data/nlu/extra_<intent>.yml``: extra training examples for the 27 business intents.

Why: the hand-written intent files are short and colloquial; customers also
write long, formal or clumsy requests and use many words for the same thing
(a *purchase*, an *article*, a *parcel*; a *reimbursement*, *money back*; a
*PIN* or *access key* for a password). This module combines request frames
("could you help me ...", "what do I have to do to ...") with the ways to say
each intent's action and object, all written here by the team, and samples a
fixed number of distinct examples per intent (seeded, so the files are
reproducible). Light noise (lower case, dropped apostrophes, a typo, an
expletive) mimics real chat input.

Run ``python -m bot.nlu.extra_data`` to rewrite the files; they are committed.
"""

from __future__ import annotations

import argparse
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from bot.settings import ROOT

ORDER = ["order", "purchase", "item", "product", "parcel", "package", "shipment", "package i ordered", "goods"]
REFUND = ["refund", "reimbursement", "money back", "rebate", "compensation", "repayment", "refund of my money", "return payment"]
ACCOUNT = ["account", "profile", "user account", "customer account", "user profile", "online account", "member account"]
PASSWORD = ["password", "PIN", "PIN code", "passcode", "login password", "login credentials", "sign-in password"]
INVOICE = ["invoice", "bill", "invoices", "bills", "receipt", "billing statement"]
ADDRESS = ["shipping address", "delivery address", "postal address", "address", "ship-to address", "mailing address"]
COMPLAINT = ["complaint", "claim", "grievance", "formal complaint", "consumer complaint", "official complaint"]
FEE = ["cancellation fee", "cancellation charge", "early termination fee", "exit fee", "termination penalty", "cancellation penalty"]
ACCOUNT_TYPES = ["premium", "standard", "business", "free", "gold", "platinum", "pro", "basic", "family", "student"]
SERVICE = ["customer service", "customer support", "the support team", "your helpdesk", "client service", "customer care", "the service desk"]
HUMAN = ["a human", "a real person", "a live agent", "an operator", "a person", "an agent", "a representative", "someone real", "a human being", "an assistant"]
NEWSLETTER = ["newsletter", "mailing list", "company newsletter", "email newsletter", "promotional emails", "news bulletin"]
PAYMENT = ["payment methods", "payment options", "ways to pay", "forms of payment", "payment types", "means of payment"]
REVIEW = ["review", "feedback", "opinion", "rating", "comment", "testimonial", "product review"]
SHIPPING = ["delivery options", "shipping options", "shipping methods", "delivery methods", "shipment options", "ways to ship"]

COUNTRIES = ["Germany", "France", "Canada", "Spain", "Italy", "Australia", "Ireland", "Mexico", "Japan", "Norway", "Poland"]
CITIES = ["Berlin", "Lyon", "Toronto", "Madrid", "Naples", "Dublin", "Oslo", "Krakow", "Boston", "Osaka", "Porto"]

#: request frames; {vp} is an infinitive verb phrase, {ing} its -ing form
TO_FRAMES = [
    "{vp}", "{vp} please", "I want to {vp}", "i wanna {vp}", "I'd like to {vp}", "I would like to {vp}",
    "I need to {vp}", "I have to {vp}", "I've got to {vp}", "I'm trying to {vp}", "im trying to {vp}",
    "can you help me {vp}?", "could you help me to {vp}", "help me {vp}", "please help me {vp}",
    "how do I {vp}?", "how can I {vp}", "how to {vp}", "how could I {vp}?", "where can I {vp}?",
    "what do I have to do to {vp}?", "what's the way to {vp}", "is it possible to {vp}?",
    "can I {vp}?", "I don't know how to {vp}", "i dont know how to {vp}", "tell me how to {vp}",
    "show me how to {vp}", "I want help to {vp}", "I need help to {vp}", "would it be possible to {vp}",
    "I'd need to {vp}, can you help?", "is there a way to {vp}", "I was wondering how I could {vp}",
    "I do not know what to do to {vp}", "I'm looking to {vp}", "assistance to {vp}",
]
ING_FRAMES = [
    "{ing}", "help {ing}", "I need help {ing}", "looking for support {ing}",
    "can you help me with {ing}?", "could you assist me with {ing}?", "I have a question about {ing}",
    "I have problems {ing}", "I need some help with {ing}", "help with {ing}", "I want information about {ing}",
    "can I get some help {ing}", "I'd like some help {ing}",
]
NOISE_WORDS = ["fucking", "damn", "bloody", "stupid", "goddamn"]


@dataclass
class IntentSpec:
    """How customers say one intent: verb phrases (with -ing forms) and free sentences."""

    vps: list[tuple[str, str]] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)


def _fill(template: str, rng: random.Random) -> str:
    """Replace {ORDER}, {REFUND}, ... placeholders with a random synonym; {NUM} with an id."""
    lists = {
        "ORDER": ORDER, "REFUND": REFUND, "ACCOUNT": ACCOUNT, "PASSWORD": PASSWORD, "INVOICE": INVOICE,
        "ADDRESS": ADDRESS, "COMPLAINT": COMPLAINT, "FEE": FEE, "TYPE": ACCOUNT_TYPES, "SERVICE": SERVICE,
        "HUMAN": HUMAN, "NEWSLETTER": NEWSLETTER, "PAYMENT": PAYMENT, "REVIEW": REVIEW, "SHIPPING": SHIPPING,
    }

    def one(match: re.Match[str]) -> str:
        key = match.group(1)
        if key == "ORDER_ID":
            return f"[{_number(rng)}](order_id)"
        if key == "INVOICE_ID":
            number = _number(rng) if rng.random() < 0.6 else f"INV-{rng.randint(1000000, 9999999)}"
            return f"[{number}](invoice_id)"
        if key == "AMOUNT":
            return f"[{rng.choice(['$', '€', '£'])}{rng.randint(5, 900)}](refund_amount)"
        if key == "COUNTRY":
            return rng.choice(COUNTRIES)
        if key == "CITY":
            return rng.choice(CITIES)
        if key == "TYPE":
            return f"[{rng.choice(ACCOUNT_TYPES)}](account_type)"
        return rng.choice(lists[key])

    return re.sub(r"\{([A-Z_]+)\}", one, template)


def _number(rng: random.Random) -> str:
    digits = rng.randint(6, 12)
    number = str(rng.randint(10 ** (digits - 1), 10**digits - 1))
    return ("000" + number) if rng.random() < 0.15 else number


SPECS: dict[str, IntentSpec] = {
    "create_account": IntentSpec(
        vps=[("open a new {ACCOUNT}", "opening a new {ACCOUNT}"), ("create an {ACCOUNT}", "creating an {ACCOUNT}"),
             ("sign up", "signing up"), ("register", "registering"), ("make a {TYPE} {ACCOUNT}", "making a {TYPE} {ACCOUNT}"),
             ("set up a new {ACCOUNT}", "setting up a new {ACCOUNT}"), ("become a member", "becoming a member"),
             ("create a {TYPE} {ACCOUNT} for me", "creating a {TYPE} {ACCOUNT}")],
        sentences=["new {ACCOUNT}", "I don't have an {ACCOUNT} yet, how do I get one", "I'd like to join as a {TYPE} member",
                   "registration for a new {ACCOUNT}", "open {TYPE} {ACCOUNT}", "want to be a customer, where do i register"]),
    "delete_account": IntentSpec(
        vps=[("delete my {ACCOUNT}", "deleting my {ACCOUNT}"), ("close my {ACCOUNT}", "closing my {ACCOUNT}"),
             ("remove my {ACCOUNT}", "removing my {ACCOUNT}"), ("cancel my {ACCOUNT}", "cancelling my {ACCOUNT}"),
             ("terminate my {TYPE} {ACCOUNT}", "terminating my {TYPE} {ACCOUNT}"), ("deactivate my {ACCOUNT}", "deactivating my {ACCOUNT}"),
             ("get rid of my {ACCOUNT}", "getting rid of my {ACCOUNT}"), ("unsubscribe from your site completely", "unsubscribing from your site completely")],
        sentences=["I don't want my {ACCOUNT} anymore", "close {ACCOUNT}", "delete {ACCOUNT} now", "I'm done with you, erase my {ACCOUNT}",
                   "{ACCOUNT} deletion", "how do I stop being a member", "delete {TYPE} {ACCOUNT}",
                   "remove the {TYPE} {ACCOUNT} I have", "I no longer need my {TYPE} {ACCOUNT}, close it",
                   "end my {TYPE} membership for good", "shut down my {TYPE} {ACCOUNT}"]),
    "edit_account": IntentSpec(
        vps=[("edit my {ACCOUNT}", "editing my {ACCOUNT}"), ("update my {ACCOUNT} details", "updating my {ACCOUNT} details"),
             ("change the details of my {ACCOUNT}", "changing the details of my {ACCOUNT}"), ("modify my {ACCOUNT}", "modifying my {ACCOUNT}"),
             ("update my personal data", "updating my personal data"), ("change my name on the {ACCOUNT}", "changing my name on the {ACCOUNT}"),
             ("correct the info in my {ACCOUNT}", "correcting the info in my {ACCOUNT}"), ("update the email on my {ACCOUNT}", "updating the email on my {ACCOUNT}")],
        sentences=["{ACCOUNT} details are wrong, I want to fix them", "edit {ACCOUNT} info", "my {ACCOUNT} has an old phone number",
                   "change personal information", "modify the data in my {TYPE} {ACCOUNT}"]),
    "recover_password": IntentSpec(
        vps=[("reset my {PASSWORD}", "resetting my {PASSWORD}"), ("recover my {PASSWORD}", "recovering my {PASSWORD}"),
             ("retrieve my {PASSWORD}", "retrieving my {PASSWORD}"), ("set a new {PASSWORD}", "setting a new {PASSWORD}"),
             ("get a new {PASSWORD}", "getting a new {PASSWORD}"), ("recover access to my {ACCOUNT}", "recovering access to my {ACCOUNT}"),
             ("get back into my {ACCOUNT}", "getting back into my {ACCOUNT}")],
        sentences=["I forgot my {PASSWORD}", "i lost my {PASSWORD}", "forgotten {PASSWORD}", "can't remember the {PASSWORD} of my {ACCOUNT}",
                   "{PASSWORD} reset", "I'm locked out of my {ACCOUNT}", "my {PASSWORD} doesn't work anymore, I need a new one",
                   "I can't log into my {ACCOUNT}, forgot the {PASSWORD}", "lost the {PASSWORD} for my {ACCOUNT}",
                   "the {PASSWORD} of my {ACCOUNT} is gone from my memory", "{PASSWORD} recovery for my {ACCOUNT}"]),
    "registration_problems": IntentSpec(
        vps=[("report a problem with registration", "reporting a problem with registration"),
             ("fix an error when signing up", "fixing an error when signing up"),
             ("solve a sign-up issue", "solving a sign-up issue"), ("notify you of registration errors", "notifying you of registration errors")],
        sentences=["I can't register", "i cannot sign up", "registration doesn't work", "sign up error",
                   "I got an error while registering", "the registration form won't accept my email",
                   "problems with the registration", "I tried to create an {ACCOUNT} but it fails", "signup page keeps failing",
                   "I have an issue registering", "registration is not working for me", "I can't finish opening an {ACCOUNT}",
                   "error message when I try to sign up", "trouble with registration", "the sign-up process is broken"]),
    "switch_account": IntentSpec(
        vps=[("switch to the {TYPE} {ACCOUNT}", "switching to the {TYPE} {ACCOUNT}"), ("change to another {ACCOUNT}", "changing to another {ACCOUNT}"),
             ("move to a {TYPE} {ACCOUNT}", "moving to a {TYPE} {ACCOUNT}"), ("upgrade to {TYPE}", "upgrading to {TYPE}"),
             ("downgrade my {ACCOUNT} to {TYPE}", "downgrading my {ACCOUNT} to {TYPE}"), ("swap my {ACCOUNT} for a {TYPE} one", "swapping my {ACCOUNT} for a {TYPE} one"),
             ("use a different {ACCOUNT}", "using a different {ACCOUNT}"), ("change my {ACCOUNT} type", "changing my {ACCOUNT} type")],
        sentences=["switch {ACCOUNT}", "change {ACCOUNT} type to {TYPE}", "I want the {TYPE} plan instead", "{TYPE} {ACCOUNT} switch",
                   "can I go from {TYPE} to {TYPE}"]),
    "check_cancellation_fee": IntentSpec(
        vps=[("check the {FEE}", "checking the {FEE}"), ("see the {FEE}", "seeing the {FEE}"), ("find out the {FEE}", "finding out the {FEE}"),
             ("know how much the {FEE} is", "knowing how much the {FEE} is"), ("look up the {FEE}s", "looking up the {FEE}s")],
        sentences=["{FEE}", "how much is the {FEE}", "is there a {FEE}", "what's the {FEE} if I leave", "do you charge a {FEE}",
                   "what would I pay to cancel early", "penalty for ending my contract early", "{FEE} amount?", "are there fees for cancelling"]),
    "contact_customer_service": IntentSpec(
        vps=[("contact {SERVICE}", "contacting {SERVICE}"), ("reach {SERVICE}", "reaching {SERVICE}"), ("call {SERVICE}", "calling {SERVICE}"),
             ("email {SERVICE}", "emailing {SERVICE}"), ("get in touch with {SERVICE}", "getting in touch with {SERVICE}"),
             ("talk to {SERVICE}", "talking to {SERVICE}"), ("find the phone number of {SERVICE}", "finding the phone number of {SERVICE}")],
        sentences=["{SERVICE} phone number", "what are the opening hours of {SERVICE}", "how do I reach you", "{SERVICE} email address",
                   "when is {SERVICE} available", "contact details please", "what hours can I call {SERVICE}"]),
    "contact_human_agent": IntentSpec(
        vps=[("speak to {HUMAN}", "speaking to {HUMAN}"), ("talk with {HUMAN}", "talking with {HUMAN}"), ("chat with {HUMAN}", "chatting with {HUMAN}"),
             ("be transferred to {HUMAN}", "being transferred to {HUMAN}"), ("get {HUMAN} on the line", "getting {HUMAN} on the line")],
        sentences=["{HUMAN} please", "I want {HUMAN}, not a bot", "transfer me to {HUMAN}", "put me through to {HUMAN}",
                   "are there any humans there", "let me speak with {HUMAN}", "connect me with {HUMAN} now", "stop the bot, {HUMAN}"]),
    "delivery_options": IntentSpec(
        vps=[("see the {SHIPPING}", "seeing the {SHIPPING}"), ("check your {SHIPPING}", "checking your {SHIPPING}"),
             ("know which {SHIPPING} you offer", "knowing which {SHIPPING} you offer"), ("choose express shipping", "choosing express shipping"),
             ("find out about {SHIPPING}", "finding out about {SHIPPING}")],
        sentences=["{SHIPPING}", "what {SHIPPING} do you have", "do you offer express delivery", "can I pick up my {ORDER} in store",
                   "which carriers do you ship with", "is there next day delivery", "standard or express shipping?",
                   "do you deliver to {ADDRESS}es abroad", "what kinds of shipping are available",
                   "do you ship to [{COUNTRY}](delivery_country)", "can you deliver to [{CITY}](delivery_city)",
                   "which countries do you deliver to", "is shipping to [{COUNTRY}](delivery_country) possible",
                   "can I buy from you if I live in [{COUNTRY}](delivery_country)", "do you send parcels to [{CITY}](delivery_city)"]),
    "delivery_period": IntentSpec(
        vps=[("know the expected delivery date", "knowing the expected delivery date"),
             ("find out the arrival date of my {ORDER}", "finding out the arrival date of my {ORDER}"),
             ("know the delivery time", "knowing the delivery time"), ("find out how long shipping takes", "finding out how long shipping takes"),
             ("estimate the arrival of my {ORDER}", "estimating the arrival of my {ORDER}"),
             ("know when my {ORDER} is going to arrive", "knowing when my {ORDER} is going to arrive")],
        sentences=["when will my {ORDER} arrive", "how long does delivery take", "how many business days does shipping take",
                   "how many days until my {ORDER} gets here", "estimated delivery date", "when is my {ORDER} going to be delivered",
                   "what's the delivery time for {ORDER} {ORDER_ID}", "how long will it take to receive my {ORDER}",
                   "when do I get my {ORDER}", "ETA for my {ORDER}?", "delivery time to my {ADDRESS}"]),
    "complaint": IntentSpec(
        vps=[("file a {COMPLAINT}", "filing a {COMPLAINT}"), ("make a {COMPLAINT}", "making a {COMPLAINT}"),
             ("raise a {COMPLAINT} with your shop", "raising a {COMPLAINT} with your shop"),
             ("submit a {COMPLAINT}", "submitting a {COMPLAINT}"), ("complain about your service", "complaining about your service"),
             ("report bad service", "reporting bad service"), ("open a {COMPLAINT} about my {ORDER}", "opening a {COMPLAINT} about my {ORDER}")],
        sentences=["I want to complain", "your service is terrible and I want to complain", "this is unacceptable, I'm filing a {COMPLAINT}",
                   "{COMPLAINT} about your staff", "I am very unhappy with your company", "where do I send a {COMPLAINT}",
                   "I'm not satisfied with the service at all"]),
    "review": IntentSpec(
        vps=[("leave a {REVIEW}", "leaving a {REVIEW}"), ("write a {REVIEW}", "writing a {REVIEW}"), ("give some {REVIEW}", "giving some {REVIEW}"),
             ("submit a {REVIEW} for your service", "submitting a {REVIEW} for your service"), ("rate my {ORDER}", "rating my {ORDER}"),
             ("share my {REVIEW} about your products", "sharing my {REVIEW} about your products"), ("post a {REVIEW}", "posting a {REVIEW}")],
        sentences=["I want to tell you what I think about your service", "where can I rate you", "{REVIEW} for your company",
                   "i'd like to say your staff was great", "how do I leave {REVIEW}", "give {REVIEW}"]),
    "check_invoice": IntentSpec(
        vps=[("check my {INVOICE}", "checking my {INVOICE}"), ("see my {INVOICE}", "seeing my {INVOICE}"), ("find my {INVOICE}", "finding my {INVOICE}"),
             ("look at {INVOICE} {INVOICE_ID}", "looking at {INVOICE} {INVOICE_ID}"), ("view the {INVOICE} from last month", "viewing the {INVOICE} from last month"),
             ("locate {INVOICE} {INVOICE_ID}", "locating {INVOICE} {INVOICE_ID}"), ("review the charges on my {INVOICE}", "reviewing the charges on my {INVOICE}")],
        sentences=["where are my {INVOICE}", "show me {INVOICE} {INVOICE_ID}", "what is on my {INVOICE}", "{INVOICE} {INVOICE_ID} details",
                   "I can't find my {INVOICE}", "check {INVOICE} {INVOICE_ID}"]),
    "get_invoice": IntentSpec(
        vps=[("get my {INVOICE}", "getting my {INVOICE}"), ("download my {INVOICE}", "downloading my {INVOICE}"),
             ("receive a copy of my {INVOICE}", "receiving a copy of my {INVOICE}"), ("request {INVOICE} {INVOICE_ID}", "requesting {INVOICE} {INVOICE_ID}"),
             ("have the {INVOICE} sent to me", "having the {INVOICE} sent to me"), ("obtain the {INVOICE} for my {ORDER}", "obtaining the {INVOICE} for my {ORDER}"),
             ("print my {INVOICE}", "printing my {INVOICE}")],
        sentences=["send me the {INVOICE}", "I need a copy of {INVOICE} {INVOICE_ID}", "email me my {INVOICE}", "{INVOICE} copy please",
                   "can I get a pdf of my {INVOICE}", "I need my {INVOICE} for my taxes"]),
    "newsletter_subscription": IntentSpec(
        vps=[("subscribe to the {NEWSLETTER}", "subscribing to the {NEWSLETTER}"), ("sign up for your {NEWSLETTER}", "signing up for your {NEWSLETTER}"),
             ("unsubscribe from the {NEWSLETTER}", "unsubscribing from the {NEWSLETTER}"), ("cancel my {NEWSLETTER} subscription", "cancelling my {NEWSLETTER} subscription"),
             ("stop receiving the {NEWSLETTER}", "stopping the {NEWSLETTER}"), ("join the {NEWSLETTER}", "joining the {NEWSLETTER}")],
        sentences=["{NEWSLETTER}", "{NEWSLETTER} subscription", "add me to the {NEWSLETTER}", "take me off the {NEWSLETTER}",
                   "I get too many {NEWSLETTER}", "how often do you send the {NEWSLETTER}"]),
    "cancel_order": IntentSpec(
        vps=[("cancel my {ORDER}", "cancelling my {ORDER}"), ("cancel {ORDER} {ORDER_ID}", "canceling {ORDER} {ORDER_ID}"),
             ("call off my {ORDER}", "calling off my {ORDER}"), ("stop {ORDER} {ORDER_ID}", "stopping {ORDER} {ORDER_ID}"),
             ("withdraw my {ORDER}", "withdrawing my {ORDER}"), ("cancel the {ORDER} I made yesterday", "cancelling the {ORDER} I made yesterday")],
        sentences=["cancel {ORDER} {ORDER_ID}", "I don't want my {ORDER} anymore, cancel it", "{ORDER} cancellation request", "please cancel {ORDER_ID}",
                   "I changed my mind about {ORDER} {ORDER_ID}"]),
    "change_order": IntentSpec(
        vps=[("change my {ORDER}", "changing my {ORDER}"), ("modify {ORDER} {ORDER_ID}", "modifying {ORDER} {ORDER_ID}"),
             ("edit my {ORDER}", "editing my {ORDER}"), ("put another product in {ORDER} {ORDER_ID}", "putting another product in {ORDER} {ORDER_ID}"),
             ("remove some products from my {ORDER}", "removing some products from my {ORDER}"), ("update {ORDER} {ORDER_ID}", "updating {ORDER} {ORDER_ID}"),
             ("change the size in my {ORDER}", "changing the size in my {ORDER}"),
             ("replace an item of {ORDER} {ORDER_ID}", "replacing an item of {ORDER} {ORDER_ID}")],
        sentences=["change {ORDER} {ORDER_ID}", "I ordered the wrong colour, can I change it", "add something to my {ORDER}",
                   "modify the quantity in my {ORDER}", "{ORDER} modification"]),
    "place_order": IntentSpec(
        vps=[("place an order", "placing an order"), ("buy some products", "buying some products"), ("purchase an item", "purchasing an item"),
             ("make a purchase", "making a purchase"), ("order a few things", "ordering a few things"), ("buy something from you", "buying something from you"),
             ("make an order", "making an order"), ("get some items from your store", "getting some items from your store")],
        sentences=["I want to buy this", "how do I order from your shop", "new order", "can I order by phone", "i'd like to purchase two of these",
                   "help me make a purchase", "ordering online"]),
    "track_order": IntentSpec(
        vps=[("track my {ORDER}", "tracking my {ORDER}"), ("track {ORDER} {ORDER_ID}", "tracking {ORDER} {ORDER_ID}"),
             ("check the status of my {ORDER}", "checking the status of my {ORDER}"), ("see where my {ORDER} is", "seeing where my {ORDER} is"),
             ("locate {ORDER} {ORDER_ID}", "locating {ORDER} {ORDER_ID}"), ("follow my {ORDER}", "following my {ORDER}"),
             ("find out the status of {ORDER} {ORDER_ID}", "finding out the status of {ORDER} {ORDER_ID}")],
        sentences=["where is my {ORDER}", "status of {ORDER} {ORDER_ID}", "{ORDER} status", "has my {ORDER} shipped yet",
                   "tracking number for {ORDER} {ORDER_ID}", "what's happening with my {ORDER}"]),
    "check_payment_methods": IntentSpec(
        vps=[("see the {PAYMENT}", "seeing the {PAYMENT}"), ("check your {PAYMENT}", "checking your {PAYMENT}"),
             ("know which {PAYMENT} you accept", "knowing which {PAYMENT} you accept"), ("pay with paypal", "paying with paypal"),
             ("find out about {PAYMENT}", "finding out about {PAYMENT}"), ("pay by bank transfer", "paying by bank transfer")],
        sentences=["{PAYMENT}", "what {PAYMENT} do you accept", "do you take credit cards", "can I pay in instalments",
                   "is apple pay accepted", "which cards can I use", "list the {PAYMENT}"]),
    "payment_issue": IntentSpec(
        vps=[("report a payment problem", "reporting a payment problem"), ("solve an issue with my payment", "solving an issue with my payment"),
             ("fix a failed payment", "fixing a failed payment"), ("notify a payment error", "notifying a payment error"),
             ("sort out a problem paying for my {ORDER}", "sorting out a problem paying for my {ORDER}")],
        sentences=["my payment failed", "I can't pay", "payment was declined", "I was charged twice", "the payment doesn't go through",
                   "error when paying", "my card got rejected at checkout", "problem with payment", "I paid but the {ORDER} says unpaid",
                   "checkout keeps failing when I pay", "issue with a payment"]),
    "check_refund_policy": IntentSpec(
        vps=[("check your {REFUND} policy", "checking your {REFUND} policy"), ("see the {REFUND} policy", "seeing the {REFUND} policy"),
             ("know the conditions for a {REFUND}", "knowing the conditions for a {REFUND}"),
             ("read the {REFUND} terms", "reading the {REFUND} terms"), ("find out if I can get a {REFUND}", "finding out if I can get a {REFUND}")],
        sentences=["{REFUND} policy", "what is your {REFUND} policy", "in which cases can I ask for a {REFUND}", "how many days do I have to get a {REFUND}",
                   "do you give {REFUND}s", "am I entitled to a {REFUND}", "{REFUND} conditions", "what's your return and {REFUND} policy"]),
    "get_refund": IntentSpec(
        vps=[("get a {REFUND}", "getting a {REFUND}"), ("request a {REFUND}", "requesting a {REFUND}"), ("ask for a {REFUND}", "asking for a {REFUND}"),
             ("claim {AMOUNT} back", "claiming {AMOUNT} back"), ("get my {REFUND} for {ORDER} {ORDER_ID}", "getting my {REFUND} for {ORDER} {ORDER_ID}"),
             ("receive a {REFUND}", "receiving a {REFUND}"), ("return my {ORDER} and get a {REFUND}", "returning my {ORDER} and getting a {REFUND}")],
        sentences=["I want my {REFUND}", "{REFUND} please", "refund me {AMOUNT}", "I demand a {REFUND}", "can I have a {REFUND}",
                   "{REFUND} for a broken {ORDER}"]),
    "track_refund": IntentSpec(
        vps=[("track my {REFUND}", "tracking my {REFUND}"), ("check the status of my {REFUND}", "checking the status of my {REFUND}"),
             ("see if my {REFUND} was processed", "seeing if my {REFUND} was processed"), ("know when I'll get my {REFUND}", "knowing when I'll get my {REFUND}"),
             ("follow up on my {REFUND}", "following up on my {REFUND}"), ("find out where my {REFUND} of {AMOUNT} is", "finding out where my {REFUND} of {AMOUNT} is")],
        sentences=["my {REFUND} still hasn't shown up", "it's been two weeks and no {REFUND}", "where is my {REFUND}",
                   "has my {REFUND} been processed", "status of my {REFUND}", "I still haven't received my {REFUND}",
                   "when will I get the {REFUND}", "any update on the {REFUND} of {AMOUNT}?", "been waiting ages for my {REFUND}",
                   "waiting on the {AMOUNT} {REFUND} you owe me", "{AMOUNT} {REFUND} pending, any news", "how much longer for my {REFUND}", "{REFUND} status check pls", "my {REFUND} hasn't arrived"]),
    "change_shipping_address": IntentSpec(
        vps=[("change my {ADDRESS}", "changing my {ADDRESS}"), ("update the {ADDRESS}", "updating the {ADDRESS}"),
             ("modify the {ADDRESS} of {ORDER} {ORDER_ID}", "modifying the {ADDRESS} of {ORDER} {ORDER_ID}"), ("correct my {ADDRESS}", "correcting my {ADDRESS}"),
             ("edit the {ADDRESS}", "editing the {ADDRESS}"), ("send my {ORDER} to a different {ADDRESS}", "sending my {ORDER} to a different {ADDRESS}")],
        sentences=["wrong {ADDRESS}", "I moved, new {ADDRESS}", "{ADDRESS} change", "the {ADDRESS} on my {ORDER} is wrong", "ship to another address instead"]),
    "set_up_shipping_address": IntentSpec(
        vps=[("set up a {ADDRESS}", "setting up a {ADDRESS}"), ("add a new {ADDRESS}", "adding a new {ADDRESS}"),
             ("enter a {ADDRESS}", "entering a {ADDRESS}"), ("save another {ADDRESS}", "saving another {ADDRESS}"),
             ("register a secondary {ADDRESS}", "registering a secondary {ADDRESS}"), ("create a {ADDRESS}", "creating a {ADDRESS}")],
        sentences=["new {ADDRESS}", "I don't have a {ADDRESS} yet", "add {ADDRESS}", "how do I put in a second {ADDRESS}",
                   "set up {ADDRESS}", "I can't set up my {ADDRESS}"]),
}


def _noise(text: str, rng: random.Random) -> str:
    """Chat-style noise on a share of the examples (never inside an entity annotation)."""
    if rng.random() < 0.35:
        text = re.sub(r"(^|\]\([a-z_]+\)|[^\[\]()]+)", lambda m: m.group(0) if m.group(0).startswith("](") else m.group(0).lower(), text)
    if rng.random() < 0.2:
        text = text.replace("'", "")
    if rng.random() < 0.2:
        words = text.split(" ")
        spot = rng.randrange(len(words))
        if re.fullmatch(r"[A-Za-z]{4,}", words[spot]):
            w = words[spot]
            i = rng.randrange(len(w) - 1)
            words[spot] = w[:i] + w[i + 1] + w[i] + w[i + 2 :]
        text = " ".join(words)
    if rng.random() < 0.05:
        for noun in ("order", "account", "refund", "invoice", "bill", "password", "package", "purchase"):
            if f" {noun}" in text:
                text = text.replace(f" {noun}", f" {rng.choice(NOISE_WORDS)} {noun}", 1)
                break
    if rng.random() < 0.1:
        text = text.rstrip("?") + rng.choice([" asap", " thanks", " pls", " now", "!!", " thank you"])
    return text


def _key(text: str) -> str:
    return re.sub(r"\[([^\]]*)\]\([a-z_]+\)", "#", text.lower())


def hand_written_keys(data_dir: Path) -> set[str]:
    """Keys of the hand-written examples: a generated example must never repeat one
    (an identical sentence under two intents is a contradiction Rasa rejects)."""
    keys: set[str] = set()
    for path in data_dir.glob("*.yml"):
        if path.name.startswith("extra_"):
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            stripped = line.strip()
            if stripped.startswith("- ") and not stripped.startswith("- intent:"):
                keys.add(_key(re.sub(r"\s+", " ", stripped[2:]).strip()))
    return keys


def generate(intent: str, count: int, seed: int, exclude: frozenset[str] = frozenset()) -> list[str]:
    """``count`` distinct examples for ``intent`` (fewer if the combinations run out)."""
    spec = SPECS[intent]
    rng = random.Random(f"{seed}:{intent}")
    seen: set[str] = set(exclude)
    out: list[str] = []
    attempts = 0
    while len(out) < count and attempts < count * 50:
        attempts += 1
        roll = rng.random()
        if spec.sentences and (roll < 0.25 or not spec.vps):
            text = rng.choice(spec.sentences)
        elif roll < 0.75 or not spec.vps:
            text = rng.choice(TO_FRAMES).format(vp=rng.choice(spec.vps)[0])
        else:
            text = rng.choice(ING_FRAMES).format(ing=rng.choice(spec.vps)[1])
        text = _noise(_fill(text, rng), rng)
        text = re.sub(r"\s+", " ", text).strip()
        key = _key(text)
        if key not in seen:
            seen.add(key)
            out.append(text)
    return out


def render(intent: str, examples: list[str]) -> str:
    lines = [
        'version: "3.1"',
        f"# Extra {intent} examples written by the NLU work (bot/nlu/extra_data.py, seeded; do not edit by hand).",
        "nlu:",
        f"- intent: {intent}",
        "  examples: |",
    ]
    lines += [f"    - {text}" for text in examples]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "nlu")
    parser.add_argument("--count", type=int, default=100, help="examples per intent")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    exclude = frozenset(hand_written_keys(args.out))
    for intent in SPECS:
        path = args.out / f"extra_{intent}.yml"
        path.write_text(render(intent, generate(intent, args.count, args.seed, exclude)), encoding="utf-8")
    print(f"wrote {len(SPECS)} files to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
