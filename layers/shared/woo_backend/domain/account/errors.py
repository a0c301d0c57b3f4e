"""The account API's own errors (each maps to its HTTP status through its ``kind``)."""

from __future__ import annotations

from woo_backend.errors import Conflict, DomainError, ErrorKind, Forbidden, InvalidRequest, NotFound


class NotYours(Forbidden):
    code = "forbidden"


class UnknownCustomer(NotFound):
    code = "unknown_customer"


class UnknownSubscription(NotFound):
    code = "unknown_subscription"


class UnknownOrder(NotFound):
    code = "unknown_order"


UNKNOWN_OBJECT: dict[str, type[NotFound]] = {
    "customer": UnknownCustomer,
    "subscription": UnknownSubscription,
    "order": UnknownOrder,
}


class InvalidTransition(Conflict):
    code = "invalid_transition"


class DateRefused(Conflict):
    """WooCommerce Subscriptions refused a date for the subscription's schedule."""

    code = "date_refused"


class MissingAction(InvalidRequest):
    code = "missing_action"


class UnknownAction(InvalidRequest):
    code = "unknown_action"


class BadDate(InvalidRequest):
    code = "bad_date"


class BadMethod(InvalidRequest):
    code = "bad_method"


class BadInterval(InvalidRequest):
    code = "bad_interval"


class TooManyMails(DomainError):
    kind = ErrorKind.RATE_LIMITED
    code = "too_many_mails"


class ChangeNotApplied(DomainError):
    """WooCommerce answered a write but its state does not show the change."""

    kind = ErrorKind.BAD_GATEWAY
    code = "change_not_applied"
