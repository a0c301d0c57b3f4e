"""What the OpenAPI document says beyond each route's models: the native error shape, the security schemes,
and ``responses=`` helpers for the routes' decorators.

Each route lists every status it really answers (its errors' kinds through ``STATUS_BY_KIND``), so a generated
client knows them all. Powertools adds a 422 "Validation Error" to every route; this API answers validation with
400 in the error shape, so the merged document (``local/openapi.py``) drops that default where a route declares
no 422 of its own.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import content_types
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.models import SecurityScheme


class ErrorDetail(BaseModel):
    code: str = Field(description="stable, machine-readable: what failed (e.g. validation_error, busy)")
    message: str = Field(description="for people: the field and the rule, or what to do")


class ErrorAnswer(BaseModel):
    """Every refusal of the native API (credits, balance, promo)."""

    error: ErrorDetail


# What each status means on this API (a route may say more about its own).
MEANING: dict[int, str] = {
    400: "validation_error / malformed_json / malformed_body / invalid_*: the field and the rule are named",
    401: "credentials missing or refused",
    402: "insufficient_balance",
    403: "forbidden",
    404: "not found",
    409: "conflict with the record's state (or a concurrent change of it)",
    410: "token_expired",
    413: "body_too_large: the body is over the limit",
    415: "unsupported_content_type: send application/json",
    422: "semantically refused",
    429: "rate limited",
    502: "an upstream answered something unusable",
    503: "upstream unavailable, or busy: too many requests race for one record (retry)",
}

# Every route taking a body answers these whatever its use case.
BODY = (400, 413, 415)


def answered_with(model: Any, description: str) -> OpenAPIResponse:
    """A response answering ``model``: a pydantic model or a union of them (``A | B``)."""
    return {"description": description, "content": {content_types.APPLICATION_JSON: {"model": model}}}


def errors(*statuses: int | tuple[int, str], model: Any = ErrorAnswer) -> dict[int, OpenAPIResponse]:
    """Error responses in ``model``'s shape (a model or a union of them): a status alone takes ``MEANING``'s words,
    ``(status, words)`` its own."""
    answers: dict[int, OpenAPIResponse] = {}
    for entry in statuses:
        status, description = entry if isinstance(entry, tuple) else (entry, MEANING[entry])
        answers[status] = answered_with(model, description)
    return answers


def ok(description: str = "Successful Response", status: int = 200) -> dict[int, OpenAPIResponse]:
    """A success response whose body is the route's return annotation (Powertools fills in the schema)."""
    return {status: {"description": description}}


# ------------------------------------------------------------------ security schemes
ADMIN = "adminBearer"
API_KEY = "apiKey"
TOPOMER_TOKEN = "topomerToken"  # noqa: S105  (a scheme's name, not a secret)
SHOPPER_TOKEN = "shopperToken"  # noqa: S105
WEBHOOK_SIGNATURE = "wcWebhookSignature"


@functools.cache
def security_schemes() -> dict[str, SecurityScheme]:
    """The schemes the routes' ``security=`` name, for the OpenAPI document only (``Resolver.get_openapi_schema``):
    built on demand because Powertools' OpenAPI models are a costly import that no request needs."""
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, HTTPBearer

    return {
        ADMIN: HTTPBearer(description="Authorization: Bearer <ADMIN_API_KEY>: the promo admin's codes"),
        API_KEY: APIKey(
            in_=APIKeyIn.header,
            name="X-Api-Key",
            description="one of CREDITS_API_KEYS: the credits and Dotix-compatible APIs (open when none is set)",
        ),
        TOPOMER_TOKEN: APIKey(
            in_=APIKeyIn.header, name="X-Topomer-Token", description="the customer's Topomer token: balance, payments"
        ),
        SHOPPER_TOKEN: APIKey(
            in_=APIKeyIn.header, name="X-Shopper-Token", description="the shopper's Topomer token: the shopper balance"
        ),
        WEBHOOK_SIGNATURE: APIKey(
            in_=APIKeyIn.header,
            name="X-WC-Webhook-Signature",
            description="WooCommerce's webhook signature: base64 HMAC-SHA256 of the raw body with the webhook secret",
        ),
    }


def security(scheme: str) -> list[dict[str, list[str]]]:
    return [{scheme: []}]


# The account API carries its credentials in the body, which OpenAPI security schemes cannot express.
ACCOUNT_CREDENTIALS = (
    "Credentials travel in the body: `UID` (the customer), `blog`, `nonce` (`<expiry epoch>.<random>`) and "
    "`signature` (hex HMAC-SHA256 of `UID:blog:nonce` with the account signing secret, as the WordPress page "
    "mints them). Missing, wrong or expired: 401 (`missing_credentials`, `bad_signature`, "
    "`bad_nonce`, `expired_nonce`)."
)
