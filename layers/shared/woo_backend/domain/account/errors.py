"""The account API's own errors (each maps to its HTTP status through its ``kind``)."""

from __future__ import annotations

from woo_backend.errors import Conflict, DomainError, ErrorKind, Forbidden, NotFound


class NotYours(Forbidden):
    code = "forbidden"


class UnknownObject(NotFound):
    code = "not_found"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class TooManyMails(DomainError):
    kind = ErrorKind.RATE_LIMITED
    code = "too_many_mails"


class ChangeNotApplied(DomainError):
    """WooCommerce answered a write but its state does not show the change."""

    kind = ErrorKind.BAD_GATEWAY
    code = "change_not_applied"
