"""Form validation: fill what the profile already holds, verify what the customer gives.

A form asks for an order or invoice number only when neither the
conversation nor the profile makes it obvious: ``extract_order_id`` fills it
when the identified customer has exactly one order the request can be about
(e.g. the only open order for "where is my order"). ``validate_order_id``
checks a given number against the profile, so a typo is caught at once.
Both share one identification per form run (one profile read).
"""

from __future__ import annotations

import abc
import logging
import contextvars
from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.base import turn_from_tracker
from bot.actions_support.address import check_address
from bot.actions_support.billing import find_invoice
from bot.actions_support.common import order_candidates
from bot.actions_support.gateway import Lookup, Outcome
from bot.actions_support.identity import identify
from bot.actions_support.runtime import Services, get_services

logger = logging.getLogger(__name__)


#: this run's identification, so extract_* and validate_* of one form run share one profile read
_RUN_LOOKUP: contextvars.ContextVar[Lookup | None] = contextvars.ContextVar("tandem_form_lookup", default=None)


async def _identify(tracker: Tracker) -> tuple[Services, Lookup]:
    """The customer for this form run: identified once, on first need, then reused."""
    services = get_services()
    lookup = _RUN_LOOKUP.get()
    if lookup is None:
        ident = await identify(turn_from_tracker(tracker), services.gateway, services.identity_secret)
        # only a verified customer's orders pre-fill or check a form; a claim shows nothing yet
        lookup = ident.lookup if (ident.verified or ident.lookup.outcome is Outcome.UNAVAILABLE) else Lookup(Outcome.NOT_FOUND)
        _RUN_LOOKUP.set(lookup)
    return services, lookup


class ProfileFormValidation(FormValidationAction, abc.ABC):
    """A form validator whose extract_* and validate_* methods share one identification per run."""

    @abc.abstractmethod
    def name(self) -> Text:
        """Abstract, so that rasa-sdk registers only the concrete forms' validators."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        token = _RUN_LOOKUP.set(None)
        try:
            return await super().run(dispatcher, tracker, domain)
        finally:
            _RUN_LOOKUP.reset(token)


class OrderFormValidation(ProfileFormValidation, abc.ABC):
    """Shared by every form that needs an order number."""

    @abc.abstractmethod
    def name(self) -> Text:
        """Abstract, so that rasa-sdk registers only the concrete forms' validators."""

    #: what the request is about, for :func:`order_candidates`
    purpose: str = "track"

    async def extract_order_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if tracker.get_slot("order_id"):
            return {}
        try:
            services, lookup = await _identify(tracker)
            if not lookup.found or lookup.profile is None:
                return {}
            candidates = order_candidates(lookup.profile, self.purpose, services.now())
        except Exception:  # never break the form: it simply asks
            logger.exception("could not pre-fill order_id")
            return {}
        if len(candidates) == 1:
            return {"order_id": candidates[0].order_id}
        return {}

    async def validate_order_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if not value:
            return {"order_id": None}
        order_id = str(value).strip()
        try:
            services, lookup = await _identify(tracker)
        except Exception:
            logger.exception("could not verify order_id")
            return {"order_id": order_id}
        if not lookup.found or lookup.profile is None:
            # unknown customer (or the store is out): the business action looks the number
            # up and explains what it finds, so the form does not loop on it
            return {"order_id": order_id}
        if lookup.profile.order(order_id) is not None:
            return {"order_id": order_id}
        # an identified customer gave a number that isn't theirs: most likely a typo
        dispatcher.utter_message(response="utter_unknown_order_typo", order_id=order_id)
        return {"order_id": None}


class ValidateTrackOrderForm(OrderFormValidation):
    purpose = "track"

    def name(self) -> Text:
        return "validate_track_order_form"


class ValidateCancelOrderForm(OrderFormValidation):
    purpose = "cancel"

    def name(self) -> Text:
        return "validate_cancel_order_form"


class ValidateChangeOrderForm(OrderFormValidation):
    purpose = "change"

    def name(self) -> Text:
        return "validate_change_order_form"


class ValidateGetRefundForm(OrderFormValidation):
    purpose = "refund"

    def name(self) -> Text:
        return "validate_get_refund_form"


class ValidateTrackRefundForm(OrderFormValidation):
    purpose = "refund_status"

    def name(self) -> Text:
        return "validate_track_refund_form"


class InvoiceFormValidation(ProfileFormValidation, abc.ABC):
    """Fills the invoice number from the order the conversation is about, or the only invoice."""

    @abc.abstractmethod
    def name(self) -> Text:
        """Abstract, so that rasa-sdk registers only the concrete forms' validators."""

    async def extract_invoice_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if tracker.get_slot("invoice_id"):
            return {}
        try:
            _, lookup = await _identify(tracker)
        except Exception:
            logger.exception("could not pre-fill invoice_id")
            return {}
        profile = lookup.profile if lookup.found else None
        if profile is None:
            return {}
        order_id = tracker.get_slot("order_id")
        invoice = find_invoice(profile, order_id) if order_id else None
        if invoice is None and len(profile.invoices) == 1:
            invoice = profile.invoices[0]
        return {"invoice_id": invoice.invoice_id} if invoice is not None else {}


class ValidateCheckInvoiceForm(InvoiceFormValidation):
    def name(self) -> Text:
        return "validate_check_invoice_form"


class ValidateGetInvoiceForm(InvoiceFormValidation):
    def name(self) -> Text:
        return "validate_get_invoice_form"


class ValidateAddressForm(ProfileFormValidation):
    """The new delivery address: not empty, with a street and a postcode of the order's country."""

    def name(self) -> Text:
        return "validate_address_form"

    async def validate_new_address(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        country = None
        try:
            _, lookup = await _identify(tracker)
            order_id = tracker.get_slot("order_id")
            order = lookup.profile.order(str(order_id)) if lookup.found and lookup.profile and order_id else None
            country = order.destination_country if order is not None else None
        except Exception:  # the check still runs, with the generic postcode format
            logger.exception("could not read the order's country for the address check")
        checked = check_address(value, country)
        if not checked.ok:
            dispatcher.utter_message(response=f"utter_address_invalid_{checked.problem}")
            return {"new_address": None}
        return {"new_address": checked.address}
