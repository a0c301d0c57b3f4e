"""Exceptions shared by the domain, the adapters and the handlers.

One class per failure. Each concrete class names its ``kind`` (what went wrong, in HTTP-free words) and its
machine-readable ``code``; ``woo_backend.api.STATUS_BY_KIND`` is the one table from kinds to statuses. There is
no default kind: raising ``DomainError`` itself, or a class that never said its kind, is a ``TypeError`` at the
raise, so a new failure cannot reach a caller with a status picked by accident.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any, ClassVar


class ErrorKind(StrEnum):
    INVALID = "invalid"  # 400
    UNAUTHORIZED = "unauthorized"  # 401
    PAYMENT_REQUIRED = "payment_required"  # 402
    FORBIDDEN = "forbidden"  # 403
    NOT_FOUND = "not_found"  # 404
    CONFLICT = "conflict"  # 409
    GONE = "gone"  # 410
    PAYLOAD_TOO_LARGE = "payload_too_large"  # 413
    UNSUPPORTED_MEDIA = "unsupported_media"  # 415
    SEMANTIC = "semantic"  # 422
    RATE_LIMITED = "rate_limited"  # 429
    BAD_GATEWAY = "bad_gateway"  # 502
    UNAVAILABLE = "unavailable"  # 503


class DomainError(Exception):
    """A failure the caller can understand and act on. Abstract: raise one of its concrete subclasses."""

    kind: ClassVar[ErrorKind]
    code: ClassVar[str]

    def __init__(self, message: str) -> None:
        if not isinstance(getattr(type(self), "kind", None), ErrorKind) or not getattr(type(self), "code", ""):
            raise TypeError(f"{type(self).__name__} has no kind or code: raise a concrete DomainError subclass")
        super().__init__(message)
        self.message = message


# ---------------------------------------------------------------- bases by kind (their codes are the generic ones)
class InvalidRequest(DomainError):
    kind = ErrorKind.INVALID
    code = "invalid_request"


class Unauthorized(DomainError):
    kind = ErrorKind.UNAUTHORIZED
    code = "unauthorized"


class Forbidden(DomainError):
    kind = ErrorKind.FORBIDDEN
    code = "forbidden"


class NotFound(DomainError):
    kind = ErrorKind.NOT_FOUND
    code = "not_found"


class Conflict(DomainError):
    kind = ErrorKind.CONFLICT
    code = "conflict"


class Unprocessable(DomainError):
    """Well-formed, but it cannot apply (e.g. an idempotency key reused with another request)."""

    kind = ErrorKind.SEMANTIC
    code = "unprocessable"


class Busy(DomainError):
    """Too many requests raced for one record; the caller may retry at once. 503 on every API."""

    kind = ErrorKind.UNAVAILABLE
    code = "busy"


class ConcurrentUpdate(Conflict):
    """The record changed between our read and our write; the caller should read it again."""

    code = "conflict"


# ---------------------------------------------------------------- request bodies
class ValidationFailed(InvalidRequest):
    code = "validation_error"


class MalformedBody(InvalidRequest):
    code = "malformed_body"


class UnsupportedMediaType(DomainError):
    kind = ErrorKind.UNSUPPORTED_MEDIA
    code = "unsupported_content_type"


class BodyTooLarge(DomainError):
    kind = ErrorKind.PAYLOAD_TOO_LARGE
    code = "body_too_large"


# ---------------------------------------------------------------- upstream failures
class UpstreamError(DomainError):
    """A call to WooCommerce or Topomer failed; ``upstream`` names which. Abstract: raise a subclass."""

    def __init__(self, upstream: str, message: str, *, status: int | None = None) -> None:
        super().__init__(f"{upstream}: {message}")
        self.upstream = upstream
        self.status = status


class UpstreamNotFound(UpstreamError):
    kind = ErrorKind.NOT_FOUND
    code = "upstream_not_found"


class UpstreamRejected(UpstreamError):
    """The upstream answered 4xx (other than 404): our request was refused."""

    kind = ErrorKind.BAD_GATEWAY
    code = "upstream_rejected"


class UpstreamUnavailable(UpstreamError):
    """Timeouts, connection errors and 5xx after the retries ran out."""

    kind = ErrorKind.UNAVAILABLE
    code = "upstream_unavailable"


class UpstreamInvalidResponse(UpstreamError):
    """The upstream answered, but not in the wire format its client models describe."""

    kind = ErrorKind.BAD_GATEWAY
    code = "upstream_invalid_response"


# pydantic's type errors, as what the field must be (a union's branches fail together: their words are joined).
_TYPE_WORDS = {
    "int_type": "a whole number",
    "string_type": "a string",
    "bool_type": "true or false",
    "float_type": "a number",
    "decimal_type": "a decimal",
    "list_type": "a list",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "none_required": "null",
}
# A union branch's tag in an error's location (``amount.int``, ``x.function-after[...]``): not a field name.
_BRANCH_TAG = re.compile(
    r"^(int|str|float|bool|bytes|decimal|none|list|dict|date|datetime|time)$|[\[\]]|^(constrained|function|lax|json|is)-"
)
_WHERE = ("body", "query", "path", "header", "cookie")
_SHOULD = re.compile(r"^(Input|String|Value|List|Dictionary|Tuple|Set|Decimal|Number) should ")


def _field_name(loc: Iterable[Any]) -> str:
    name = ""
    for part in loc:
        if isinstance(part, int):
            name += f"[{part}]"
        elif part not in _WHERE and not _BRANCH_TAG.search(str(part)):
            name += f".{part}" if name else str(part)
    return name or "body"


def _rule(err: Mapping[str, Any]) -> str:
    kind, msg, ctx = err.get("type", ""), str(err.get("msg", "")), err.get("ctx") or {}
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a field of this request"
    if kind == "literal_error" and "expected" in ctx:
        return f"must be {ctx['expected']}"
    if msg.startswith("Value error, "):
        return msg.removeprefix("Value error, ")
    return _SHOULD.sub("must ", msg) or "is invalid"


def describe_validation_errors(errors: Iterable[Mapping[str, Any]]) -> str:
    """One plain sentence per field (``amount: must be a whole number or a string``), never the input.

    A union's branches fail together; they become one rule: the first branch that got past the type check
    says what is wrong, else the types the field may have are listed.
    """
    by_field: dict[str, list[Mapping[str, Any]]] = {}
    for err in errors:
        by_field.setdefault(_field_name(err.get("loc", ())), []).append(err)
    parts = []
    for field, errs in list(by_field.items())[:5]:
        specific = [e for e in errs if e.get("type") not in _TYPE_WORDS]
        if specific:
            rule = _rule(specific[0])
        else:
            words = list(dict.fromkeys(_TYPE_WORDS[str(e.get("type"))] for e in errs))
            rule = "must be " + " or ".join(words)
        parts.append(f"{field}: {rule}")
    return "; ".join(parts)
