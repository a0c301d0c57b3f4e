"""Exceptions shared by the domain, the adapters and the handlers.

One class per failure. Each concrete class names its ``kind`` (what went wrong, in HTTP-free words) and its
machine-readable ``code``; ``woo_backend.api.STATUS_BY_KIND`` is the one table from kinds to statuses. There is
no default kind: raising ``DomainError`` itself, or a class that never said its kind, is a ``TypeError`` at the
raise, so a new failure cannot reach a caller with a status picked by accident.
"""

from __future__ import annotations

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


def describe_validation_errors(errors: Iterable[Mapping[str, Any]]) -> str:
    """A short, safe description of pydantic errors: field locations and messages, never inputs."""
    parts = []
    for err in list(errors)[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body",)) or "body"
        parts.append(f"{loc}: {err.get('msg', err.get('type', 'invalid'))}")
    return "; ".join(parts)
