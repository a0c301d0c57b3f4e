"""The credits APIs' shapes: the native API's requests and answers, and the Dotix-compatible answers and errors.

The Dotix answers are compared byte for byte with the WordPress plugin's: field order is the models' order and
balances are strings, as Dotix sends them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler.openapi.params import Header, Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel, ConfigDict, Field

from woo_backend.api.amounts import CreditCount, CreditCountString
from woo_backend.api.bodies import JSON, Body
from woo_backend.api.resolver import status_of
from woo_backend.domain.credits import ConsumeResult, CreditAccount, LedgerEntry
from woo_backend.errors import DomainError, MalformedBody

# A WooCommerce order key (``wc_order_`` and 13 letters or digits by default; a filter may change the form): letters,
# digits, "_" and "-". Anything else is no order's key.
OrderKey = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$")
]


# ------------------------------------------------------------------ native API
class ConsumeRequest(BaseModel):
    amount: CreditCount | CreditCountString = Field(
        description='a positive whole number of credits, as a JSON integer or its ASCII digits, or exactly "max"'
    )


class AccountAnswer(BaseModel):
    """An order's credits (``GET /credits/v1/orders/{order_key}``), read off a ``CreditAccount``."""

    model_config = ConfigDict(from_attributes=True)

    order_key: str
    order_id: int
    status: str = Field(description="the WooCommerce order status last seen")
    granted: int
    consumed: int
    balance: int


class ConsumeAnswer(BaseModel):
    """What a consume took and what is left (a ``ConsumeResult``); a replay with the same Idempotency-Key gets
    the first answer."""

    model_config = ConfigDict(from_attributes=True)

    order_id: int
    consumed: int
    balance: int
    transaction_id: str = Field(description='empty when "max" took nothing from an empty order')


class Transaction(BaseModel):
    """One ledger entry (a ``LedgerEntry``: ``time`` is its ``created_at``)."""

    model_config = ConfigDict(from_attributes=True)

    transaction_id: str
    type: Literal["grant", "consume", "revoke", "adjustment"]
    amount: int = Field(description="signed: a grant is positive, a consume or a revoke negative, an adjustment either")
    balance_after: int
    time: str = Field(validation_alias="created_at", description="when it was written (ISO 8601, UTC, microseconds)")
    idempotency_key: str | None


class TransactionsPage(BaseModel):
    """The ledger, newest first; ``next_cursor`` (null on the last page) fetches the next page."""

    items: list[Transaction]
    next_cursor: str | None

    @classmethod
    def of(cls, entries: list[LedgerEntry], next_cursor: str | None) -> TransactionsPage:
        return cls(items=[Transaction.model_validate(entry) for entry in entries], next_cursor=next_cursor)


# ------------------------------------------------------------------ Dotix-compatible API
class DotixBalance(BaseModel):
    """``GET .../dotix/v1/order/{order_key}``: the balance as a string, as Dotix sends it."""

    model_config = ConfigDict(populate_by_name=True)

    res: Literal["ok"] = Field(default="ok", alias="_res")
    order_id: int
    status: str
    balance: str

    @classmethod
    def of(cls, account: CreditAccount) -> DotixBalance:
        return cls(order_id=account.order_id, status=account.status, balance=str(account.balance))


class DotixConsumed(BaseModel):
    """``POST .../dotix/v1/order/{order_key}`` with ``num``: what was taken and what is left, as strings."""

    model_config = ConfigDict(populate_by_name=True)

    res: Literal["ok"] = Field(default="ok", alias="_res")
    order_id: int
    consumed: str
    balance: str

    @classmethod
    def of(cls, result: ConsumeResult) -> DotixConsumed:
        return cls(order_id=result.order_id, consumed=str(result.consumed), balance=str(result.balance))


class DotixError(BaseModel):
    """A Dotix refusal: ``{"_res": "err", "_msg": tag}``."""

    model_config = ConfigDict(populate_by_name=True)

    res: Literal["err"] = Field(default="err", alias="_res")
    msg: str = Field(alias="_msg", description="wrong_hash, wrong_status, lack_of_param, lack_of_bal or our code")


# The one table from our error codes to Dotix's tags; any other code is its own tag.
DOTIX_TAGS = {
    "unknown_order": "wrong_hash",
    "order_not_completed": "wrong_status",
    "invalid_amount": "lack_of_param",
    "insufficient_credits": "lack_of_bal",
}


def dotix_error(exc: DomainError, error_status: str = "200") -> tuple[int, dict[str, Any]]:
    """Dotix's answer to a refusal. The status is the error kind's, as on the native API, with
    ``error_status="4xx"`` (``DOTIX_ERROR_STATUS``). With "200" (the default) a 4xx is answered with 200 as
    WordPress does: Dotix's REST callback returns an array, which WordPress serves as 200 whatever it holds.
    A refused API key stays 401 (WordPress answers a refused permission check with 401) and an upstream
    failure or a busy order stays 5xx (retry later)."""
    status = status_of(exc)
    if error_status == "200" and 400 <= status < 500 and status != 401:
        status = 200
    return status, DotixError(msg=DOTIX_TAGS.get(exc.code, exc.code)).model_dump(by_alias=True)


# What the OpenAPI document shows for the Dotix routes: the route's answer (its return model) and the refusals.
DOTIX_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {"description": 'the answer; by default (DOTIX_ERROR_STATUS=200) a 4xx refusal is a 200 with "_res": "err"'},
    **{
        status: {"description": what, "content": {"application/json": {"model": DotixError}}}
        for status, what in (
            (400, "lack_of_param: num missing or not a positive whole number (with DOTIX_ERROR_STATUS=4xx)"),
            (401, "invalid_api_key: X-Api-Key missing or wrong"),
            (404, "wrong_hash: no order has this key (with DOTIX_ERROR_STATUS=4xx)"),
            (409, "wrong_status: the order is not paid; lack_of_bal: too few credits (with DOTIX_ERROR_STATUS=4xx)"),
            (503, "busy: the order is being changed by many requests at once; retry shortly"),
        )
    },
}


def dotix_num(body: Body, query: Mapping[str, str] | None) -> Any:
    """``num`` from a form or JSON body, as Dotix's ``$_POST['num']`` (or the query string). The body is the one
    the resolver checked (``bodies.request_body``): decoded there, once."""
    if body.media == JSON:
        try:
            data = body.json if body.raw else {}
        except MalformedBody:
            data = {}
        return data.get("num") if isinstance(data, dict) else None
    if body.raw:
        try:
            values = parse_qs(body.text, keep_blank_values=True)
        except MalformedBody:
            values = {}
        if values.get("num"):
            return values["num"][0]
    return (query or {}).get("num")
