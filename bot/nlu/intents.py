"""The intent vocabulary the NLU is measured against.

The 27 business intents are the contract with the evaluation data (Bitext
categories) and with the dialogue: anything else the model predicts (small
talk, privacy requests, ``out_of_scope``, ``nlu_fallback``) counts as *not*
a business intent, i.e. an out-of-scope query was rejected.
"""

from __future__ import annotations

BUSINESS_INTENTS: tuple[str, ...] = (
    "create_account",
    "delete_account",
    "edit_account",
    "recover_password",
    "registration_problems",
    "switch_account",
    "check_cancellation_fee",
    "contact_customer_service",
    "contact_human_agent",
    "delivery_options",
    "delivery_period",
    "complaint",
    "review",
    "check_invoice",
    "get_invoice",
    "newsletter_subscription",
    "cancel_order",
    "change_order",
    "place_order",
    "track_order",
    "check_payment_methods",
    "payment_issue",
    "check_refund_policy",
    "get_refund",
    "track_refund",
    "change_shipping_address",
    "set_up_shipping_address",
)

#: the intent Rasa's FallbackClassifier predicts when it is unsure
FALLBACK_INTENT = "nlu_fallback"
#: the explicit class for requests the contact centre does not serve
OUT_OF_SCOPE_INTENT = "out_of_scope"


def is_business_intent(intent: str | None) -> bool:
    """True when ``intent`` is one of the 27 intents the contact centre serves."""
    return intent in _BUSINESS_SET


_BUSINESS_SET = frozenset(BUSINESS_INTENTS)
