"""Exceptions shared by the domain, the adapters and the handlers.

Domain errors carry a machine-readable ``code`` and a ``kind``; the API layer maps kinds to HTTP
statuses, so domain code never speaks HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any


class ErrorKind(StrEnum):
    INVALID = "invalid"  # 400
    UNAUTHORIZED = "unauthorized"  # 401
    PAYMENT_REQUIRED = "payment_required"  # 402
    FORBIDDEN = "forbidden"  # 403
    NOT_FOUND = "not_found"  # 404
    CONFLICT = "conflict"  # 409
    GONE = "gone"  # 410
    SEMANTIC = "semantic"  # 422
    UNSUPPORTED_MEDIA = "unsupported_media"  # 415
    RATE_LIMITED = "rate_limited"  # 429
    BAD_GATEWAY = "bad_gateway"  # 502
    UNAVAILABLE = "unavailable"  # 503


class DomainError(Exception):
    """A failure the caller can understand and act on."""

    kind: ErrorKind = ErrorKind.INVALID
    code: str = "invalid_request"

    def __init__(self, message: str, *, code: str | None = None, kind: ErrorKind | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if kind is not None:
            self.kind = kind


class NotFound(DomainError):
    kind = ErrorKind.NOT_FOUND
    code = "not_found"


class Conflict(DomainError):
    kind = ErrorKind.CONFLICT
    code = "conflict"


class Unauthorized(DomainError):
    kind = ErrorKind.UNAUTHORIZED
    code = "unauthorized"


class Forbidden(DomainError):
    kind = ErrorKind.FORBIDDEN
    code = "forbidden"


class InvalidRequest(DomainError):
    kind = ErrorKind.INVALID
    code = "invalid_request"


# ---------------------------------------------------------------- upstream failures
class UpstreamError(DomainError):
    """A call to WooCommerce or Topomer failed; ``upstream`` names which."""

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
