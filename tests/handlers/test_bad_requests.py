"""A bad request is a 4xx, never a 500 (issue 13, part 2), in process: bodies that are not UTF-8, multipart without a
boundary, JSON nested 1,000 deep, bodies over the limit, content types a route does not take, plain validation
messages, and ids that would name another upstream path. None of them logs an unhandled error."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import respx

from tests.handlers.conftest import ADMIN, account_credentials, sign, signed_webhook
from tests.handlers.lambdas import Function
from tests.handlers.upstreams import TOPOMER_URL, Topomer

AUTO = "/promo/v1/auto"
ACCOUNT = "/account/v1"
DEEP = ("[" * 1000 + "]" * 1000).encode()
QUOTE = {"cart_id": "cart-1", "cart_total": "120.00", "currency": "EUR"}


@pytest.fixture(autouse=True)
def no_unhandled_error(capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    """Whatever a test sends, no answer is a 500 and no ``UnhandledError`` metric is emitted."""
    yield
    out = capsys.readouterr()
    assert "UnhandledError" not in out.out + out.err
    assert "internal_error" not in out.out + out.err


# ------------------------------------------------------------------ encoding, multipart, depth
def test_a_json_body_that_is_not_utf8_is_400(promo: Function, account: Function) -> None:
    body = b'{"cart_id": "caf\xe9", "cart_total": "1.00", "currency": "EUR"}'
    assert promo("POST", AUTO, body=body, content_type="application/json").error == (400, "malformed_body")
    answer = account("POST", ACCOUNT, body=b'{"UID": "\xff"}', content_type="application/json")
    assert answer.account_error == (400, "malformed_body")


def test_multipart_without_a_boundary_is_415(promo: Function, account: Function) -> None:
    answer = promo("POST", AUTO, body=b"cart_id=1", content_type="multipart/form-data")
    assert answer.error == (415, "unsupported_content_type")
    assert "application/json" in answer.json()["error"]["message"]
    form = account("POST", ACCOUNT, body=b"UID=1", content_type="multipart/form-data")
    assert form.account_error == (415, "unsupported_content_type")


def test_json_nested_1000_deep_is_400_on_every_kind_of_route(
    promo: Function, account: Function, credits: Function
) -> None:
    assert promo("POST", AUTO, body=DEEP, content_type="application/json").error == (400, "malformed_json")
    nested = b'{"cart_id": ' + DEEP + b"}"
    assert promo("POST", AUTO, body=nested, content_type="application/json").error == (400, "malformed_json")
    assert account("POST", ACCOUNT, body=DEEP, content_type="application/json").account_error == (
        400,
        "malformed_json",
    )
    dotix = credits("POST", "/dotix/v1/order/wc_order_1key", body=DEEP, content_type="application/json")
    assert dotix.dotix_error == (200, "malformed_json")  # DOTIX_ERROR_STATUS=200: WordPress' 200
    # A webhook's bytes meet the signature first: unsigned, 401 whatever they hold; signed, not an order (400).
    unsigned = credits("POST", "/credits/webhooks/order", body=DEEP, content_type="application/json")
    assert unsigned.error == (401, "invalid_signature")
    headers = {"X-WC-Webhook-Topic": "order.updated", "X-WC-Webhook-Signature": sign(DEEP)}
    signed = credits("POST", "/credits/webhooks/order", body=DEEP, content_type="application/json", headers=headers)
    assert signed.error == (400, "invalid_payload")


def test_json_at_the_depth_limit_is_read_and_one_deeper_is_not(promo: Function) -> None:
    def nested(depth: int) -> bytes:
        return (
            '{"cart_id": "c", "cart_total": "1.00", "currency": "EUR", "x": '
            + "[" * (depth - 1)
            + "]" * (depth - 1)
            + "}"
        ).encode()

    # Brackets inside strings do not count.
    strings = json.dumps({**QUOTE, "cart_id": "[[[[" * 20}).encode()
    assert promo("POST", AUTO, body=strings, content_type="application/json").error == (400, "validation_error")
    assert promo("POST", AUTO, body=nested(32), content_type="application/json").error == (400, "validation_error")
    assert promo("POST", AUTO, body=nested(33), content_type="application/json").error == (400, "malformed_json")


def test_nan_and_infinity_are_not_json(promo: Function) -> None:
    for constant in (b"NaN", b"Infinity", b"-Infinity"):
        body = b'{"cart_id": "c", "cart_total": ' + constant + b', "currency": "EUR"}'
        assert promo("POST", AUTO, body=body, content_type="application/json").error == (400, "malformed_json")


# ------------------------------------------------------------------ size
def test_a_body_over_64_kb_is_413(promo: Function, account: Function, credits: Function) -> None:
    big = json.dumps({**QUOTE, "email": "a" * 70_000}).encode()
    assert promo("POST", AUTO, body=big, content_type="application/json").error == (413, "body_too_large")
    assert promo("POST", AUTO, body=big, content_type="application/json", base64_encoded=True).error == (
        413,
        "body_too_large",
    )
    form = account("POST", ACCOUNT, body=b"UID=" + b"1" * 70_000, content_type="application/x-www-form-urlencoded")
    assert form.account_error == (413, "body_too_large")
    consume = credits("POST", "/dotix/v1/order/wc_order_1key", body=b"num=" + b"1" * 70_000)
    assert consume.dotix_error == (200, "body_too_large")


def test_a_webhook_takes_a_large_order_but_not_more_than_1_mb(credits: Function) -> None:
    order = {"id": 1, "status": "processing", "meta_data": [{"key": "note", "value": "x" * 100_000}]}
    large = signed_webhook(order)
    assert credits("POST", "/credits/webhooks/order", **large).status == 200
    huge = signed_webhook({**order, "meta_data": [{"key": "note", "value": "x" * 1_100_000}]})
    assert credits("POST", "/credits/webhooks/order", **huge).error == (413, "body_too_large")


# ------------------------------------------------------------------ content types
@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "text/plain", "application/json; charset=iso-8859-1"],
)
def test_a_content_type_a_json_route_does_not_take_is_415(credits: Function, content_type: str) -> None:
    # curl -d '{"amount": 5}' sends application/x-www-form-urlencoded.
    answer = credits(
        "POST", "/credits/v1/orders/wc_order_1key/consume", body=b'{"amount": 5}', content_type=content_type
    )
    assert answer.error == (415, "unsupported_content_type")


def test_the_account_route_takes_json_or_a_form_and_dotix_a_form_json_or_a_query(
    account: Function, credits: Function
) -> None:
    creds = {**account_credentials(1), "action": "describe"}
    assert account("POST", ACCOUNT, json_body=creds).status == 200
    assert account("POST", ACCOUNT, form=creds).status == 200
    assert account("POST", ACCOUNT, body=b"<x/>", content_type="application/xml").account_error == (
        415,
        "unsupported_content_type",
    )
    url = "/dotix/v1/order/wc_order_unknownkey"
    for request in ({"form": {"num": "1"}}, {"json_body": {"num": 1}}, {"query": {"num": "1"}}):
        assert credits("POST", url, **request).dotix_error == (200, "wrong_hash"), request
    assert credits("POST", url, body=b"num=1", content_type="text/plain").dotix_error == (
        200,
        "unsupported_content_type",
    )


# ------------------------------------------------------------------ messages
def test_validation_messages_name_the_field_and_the_rule_in_plain_words(credits: Function, promo: Function) -> None:
    answer = credits("POST", "/credits/v1/orders/wc_order_1key/consume", json_body={"amount": 1.5})
    status, message = answer.status, answer.json()["error"]["message"]
    assert status == 400
    assert message.startswith("amount: "), message
    for internal in ("amount.int", "amount.str", "Input should", "function-", "["):
        assert internal not in message, message
    missing = promo("POST", AUTO, json_body={"cart_total": "1.00", "currency": "EUR", "extra": 1})
    assert missing.json()["error"]["message"] == "cart_id: is required; extra: is not a field of this request"


def test_a_bad_header_on_a_dotix_route_is_answered_in_dotix_shape(credits: Function) -> None:
    answer = credits("POST", "/dotix/v1/order/wc_order_1key", form={"num": "1"}, headers={"Idempotency-Key": "a b"})
    assert answer.dotix_error == (200, "validation_error")


# ------------------------------------------------------------------ ids in upstream URLs
@pytest.mark.parametrize("shopper_id", ["..", ".", ".hidden", "-x"])
def test_a_shopper_id_that_is_a_path_segment_never_reaches_topomer(
    balance: Function, topomer: Topomer, upstreams: respx.MockRouter, shopper_id: str
) -> None:
    topomer.shoppers[shopper_id] = ("t", "1.00")
    answer = balance("GET", f"/balance/v1/shoppers/{shopper_id}/balance", headers={"X-Shopper-Token": "t"})
    assert answer.error == (400, "validation_error")
    assert "shopper_id" in answer.json()["error"]["message"]
    reached: list[Any] = [c.request.url.path for c in upstreams.calls if str(c.request.url).startswith(TOPOMER_URL)]
    assert [path for path in reached if path != "/api/auth/token"] == []


def test_order_keys_and_codes_are_validated_to_what_the_shop_uses(credits: Function, promo: Function) -> None:
    for key in ("wc.order", "key!", "x" * 65):
        answer = credits("GET", f"/credits/v1/orders/{key}")
        assert answer.error == (400, "validation_error"), key
        assert answer.json()["error"]["message"].startswith("order_key: "), key
    assert credits("GET", "/dotix/v1/order/wc.order").dotix_error == (200, "validation_error")
    assert promo("GET", "/promo/v1/codes/A.B", headers=ADMIN).error == (400, "validation_error")
    assert promo("GET", "/promo/v1/codes/no-such-code", headers=ADMIN).error == (404, "unknown_code")
