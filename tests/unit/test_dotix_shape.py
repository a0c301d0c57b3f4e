"""The credits APIs' shapes: the Dotix error table (tag and status of each refusal, under both
DOTIX_ERROR_STATUS settings) and the answer models as Powertools serialises them, byte for byte."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import content_types
from pydantic import BaseModel

from woo_backend.api import create_resolver, json_response
from woo_backend.api.bodies import Body
from woo_backend.api.credits import (
    DOTIX_TAGS,
    AccountAnswer,
    ConsumeAnswer,
    DotixBalance,
    DotixConsumed,
    TransactionsPage,
    dotix_error,
    dotix_num,
)
from woo_backend.auth import InvalidApiKey
from woo_backend.domain.credits import (
    ConsumeResult,
    CreditAccount,
    IdempotencyKeyReused,
    InsufficientCredits,
    LedgerEntry,
    OrderNotCompleted,
    UnknownOrder,
    check_dotix_readable,
)
from woo_backend.domain.money import InvalidAmount
from woo_backend.errors import Busy, DomainError
from woo_backend.store.paging import InvalidCursor

# Each refusal the credits routes raise: its Dotix tag, its status by default (200, as WordPress) and with 4xx.
REFUSALS: list[tuple[type[DomainError], str, int, int]] = [
    (UnknownOrder, "wrong_hash", 200, 404),
    (OrderNotCompleted, "wrong_status", 200, 409),
    (InvalidAmount, "lack_of_param", 200, 400),
    (InsufficientCredits, "lack_of_bal", 200, 409),
    (IdempotencyKeyReused, "idempotency_key_reused", 200, 422),
    (InvalidCursor, "invalid_cursor", 200, 400),
    (InvalidApiKey, "invalid_api_key", 401, 401),  # WordPress refuses a permission check with 401
    (Busy, "busy", 503, 503),  # retry later, whatever the setting
]


@pytest.mark.parametrize(("error", "tag", "default_status", "status_4xx"), REFUSALS)
def test_each_refusal_has_its_dotix_tag_and_status(
    error: type[DomainError], tag: str, default_status: int, status_4xx: int
) -> None:
    body = {"_res": "err", "_msg": tag}
    assert dotix_error(error("refused")) == (default_status, body)
    assert dotix_error(error("refused"), error_status="200") == (default_status, body)
    assert dotix_error(error("refused"), error_status="4xx") == (status_4xx, body)


def test_the_tag_table_names_only_codes_the_credits_routes_raise() -> None:
    mapped = {error.code for error, tag, _, _ in REFUSALS if tag != error.code}
    assert mapped == set(DOTIX_TAGS)


@pytest.mark.parametrize(
    ("content_type", "body", "query", "num"),
    [
        ("application/json", b'{"num": 5}', None, 5),
        ("application/json; charset=utf-8", b"not json", {"num": "3"}, None),  # a JSON body is the only source
        ("application/json", b"[5]", None, None),
        ("application/x-www-form-urlencoded", b"num=7&x=1", {"num": "3"}, "7"),
        ("application/x-www-form-urlencoded", b"num=", {"num": "3"}, ""),  # sent blank: refused as missing
        ("application/x-www-form-urlencoded", b"other=1", {"num": "3"}, "3"),
        ("application/x-www-form-urlencoded", b"\xff", {"num": "3"}, "3"),
        ("", b"", None, None),
    ],
)
def test_num_is_read_as_dotix_reads_post_then_the_query(
    content_type: str, body: bytes, query: dict[str, str] | None, num: Any
) -> None:
    assert dotix_num(Body(body, content_type), query) == num


@pytest.mark.parametrize(("status", "readable"), [("completed", True), ("processing", True), ("on-hold", False)])
def test_dotix_shows_the_balance_of_paid_orders_only(status: str, readable: bool) -> None:
    account = CreditAccount(order_key="wc_order_k", order_id=7, status=status)
    if readable:
        assert check_dotix_readable(account) is account
    else:
        with pytest.raises(OrderNotCompleted):
            check_dotix_readable(account)


# ------------------------------------------------------------------ answers as Powertools serialises them
ACCOUNT = CreditAccount(order_key="wc_order_k", order_id=7, status="completed", granted=700, consumed=100, balance=600)
RESULT = ConsumeResult(order_id=7, consumed=100, balance=500, transaction_id="tx_1")
ENTRIES = [
    LedgerEntry(
        transaction_id="tx_1", type="consume", amount=-100, balance_after=500, created_at="t1", idempotency_key="k"
    ),
    LedgerEntry(transaction_id="tx_0", type="grant", amount=600, balance_after=600, created_at="t0"),
]
ANSWERS: list[tuple[BaseModel, bytes]] = [
    (DotixBalance.of(ACCOUNT), b'{"_res":"ok","order_id":7,"status":"completed","balance":"600"}'),
    (DotixConsumed.of(RESULT), b'{"_res":"ok","order_id":7,"consumed":"100","balance":"500"}'),
    (
        AccountAnswer.model_validate(ACCOUNT),
        b'{"order_key":"wc_order_k","order_id":7,"status":"completed","granted":700,"consumed":100,"balance":600}',
    ),
    (ConsumeAnswer.model_validate(RESULT), b'{"order_id":7,"consumed":100,"balance":500,"transaction_id":"tx_1"}'),
    (
        TransactionsPage.of(ENTRIES, None),
        b'{"items":[{"transaction_id":"tx_1","type":"consume","amount":-100,"balance_after":500,"time":"t1",'
        b'"idempotency_key":"k"},{"transaction_id":"tx_0","type":"grant","amount":600,"balance_after":600,'
        b'"time":"t0","idempotency_key":null}],"next_cursor":null}',
    ),
]


def answered(model: BaseModel) -> dict[str, Any]:
    """The API Gateway answer of a route returning ``model``, as the credits routes return theirs."""
    app = create_resolver()
    kind = type(model)

    def route() -> Any:
        return model

    route.__annotations__["return"] = kind
    app.get("/shape")(route)
    event = {
        "version": "2.0",
        "routeKey": "GET /shape",
        "rawPath": "/shape",
        "rawQueryString": "",
        "headers": {},
        "requestContext": {"http": {"method": "GET", "path": "/shape"}, "requestId": "r", "stage": "$default"},
        "isBase64Encoded": False,
    }
    return app.resolve(event, {})  # type: ignore[arg-type]


@pytest.mark.parametrize(("model", "expected"), ANSWERS)
def test_answers_are_the_bytes_json_response_sent(model: BaseModel, expected: bytes) -> None:
    answer = answered(model)
    assert (answer["statusCode"], answer["headers"]["Content-Type"]) == (200, content_types.APPLICATION_JSON)
    assert answer["body"].encode() == expected
    # What the handlers sent before the models: json_response over the same fields.
    before = json_response(200, json.loads(expected)).body
    assert before is not None
    assert before.encode() == expected
