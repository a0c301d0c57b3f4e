"""CreditsFunction's Dotix-compatible routes (both prefixes): answers byte for byte and Dotix's error shape."""

from __future__ import annotations

from typing import Any

import pytest

from tests.handlers.conftest import CREDITS_API_KEY, Load, signed_webhook
from tests.handlers.lambdas import Function
from tests.handlers.test_credits import completed_order, granted
from tests.handlers.upstreams import Shop

PREFIXES = ("/dotix/v1/order", "/wp-json/dotix/v1/order")


@pytest.mark.parametrize("prefix", PREFIXES)
def test_balance_and_consumes_answer_byte_for_byte(credits: Function, shop: Shop, prefix: str) -> None:
    key = granted(credits, shop)["order_key"]
    url = f"{prefix}/{key}"
    read = credits("GET", url)
    assert (read.status, read.body) == (200, b'{"_res":"ok","order_id":501,"status":"completed","balance":"700"}')
    assert read.headers["content-type"] == "application/json"
    steps: list[tuple[dict[str, Any], bytes]] = [
        ({"form": {"num": "100"}}, b'{"_res":"ok","order_id":501,"consumed":"100","balance":"600"}'),
        ({"json_body": {"num": 58}}, b'{"_res":"ok","order_id":501,"consumed":"58","balance":"542"}'),
        ({"query": {"num": "42"}}, b'{"_res":"ok","order_id":501,"consumed":"42","balance":"500"}'),
        ({"form": {"num": "max"}}, b'{"_res":"ok","order_id":501,"consumed":"500","balance":"0"}'),
    ]
    for request, expected in steps:
        answer = credits("POST", url, **request)
        assert (answer.status, answer.body) == (200, expected), request


@pytest.mark.parametrize("prefix", PREFIXES)
def test_refusals_are_200_with_dotix_tags(credits: Function, shop: Shop, prefix: str) -> None:
    key = granted(credits, shop)["order_key"]
    url = f"{prefix}/{key}"
    assert credits("POST", url, form={"num": "701"}).dotix_error == (200, "lack_of_bal")
    for bad in ({}, {"num": ""}, {"num": "-5"}, {"num": "abc"}, {"num": "1.5"}):
        assert credits("POST", url, form=bad).dotix_error == (200, "lack_of_param"), bad
    assert credits("GET", f"{prefix}/wc_order_nope").dotix_error == (200, "wrong_hash")
    assert credits("POST", f"{prefix}/wc_order_nope", form={"num": "1"}).dotix_error == (200, "wrong_hash")
    on_hold = completed_order(shop, 502, status="on-hold", payment_method="bacs")
    assert credits("POST", "/credits/webhooks/order", **signed_webhook(on_hold)).status == 200
    pending = f"{prefix}/{on_hold['order_key']}"
    assert credits("GET", pending).dotix_error == (200, "wrong_status")
    assert credits("POST", pending, form={"num": "1"}).dotix_error == (200, "wrong_status")
    assert credits("GET", url).json()["balance"] == "700"


@pytest.mark.parametrize("prefix", PREFIXES)
def test_dotix_error_status_4xx_keeps_the_kinds_statuses(load: Load, shop: Shop, prefix: str) -> None:
    credits = load("CreditsFunction", DOTIX_ERROR_STATUS="4xx")
    key = granted(credits, shop)["order_key"]
    assert credits("GET", f"{prefix}/wc_order_nope").dotix_error == (404, "wrong_hash")
    assert credits("POST", f"{prefix}/{key}", form={"num": "701"}).dotix_error == (409, "lack_of_bal")
    assert credits("POST", f"{prefix}/{key}", form={"num": "x"}).dotix_error == (400, "lack_of_param")


@pytest.mark.parametrize("headers", [{}, {"X-Api-Key": "wrong-key"}], ids=["missing", "wrong"])
def test_a_refused_api_key_is_401_even_with_a_bad_body(load: Load, shop: Shop, headers: dict[str, str]) -> None:
    credits = load("CreditsFunction", CREDITS_API_KEYS=CREDITS_API_KEY)
    key = granted(credits, shop)["order_key"]
    for prefix in PREFIXES:
        url = f"{prefix}/{key}"
        assert credits("GET", url, headers=headers).dotix_error == (401, "invalid_api_key")
        refused = credits("POST", url, headers=headers, body=b"{not json", content_type="application/json")
        assert refused.dotix_error == (401, "invalid_api_key")
        spent = credits("POST", url, headers={"X-Api-Key": CREDITS_API_KEY}, form={"num": "1"})
        assert spent.status == 200
    assert credits("GET", f"/dotix/v1/order/{key}", headers={"X-Api-Key": CREDITS_API_KEY}).body == (
        b'{"_res":"ok","order_id":501,"status":"completed","balance":"698"}'
    )


def test_dotix_and_native_share_one_ledger(credits: Function, shop: Shop) -> None:
    key = granted(credits, shop)["order_key"]
    assert credits("POST", f"/dotix/v1/order/{key}", form={"num": "25"}).status == 200
    assert credits("POST", f"/credits/v1/orders/{key}/consume", json_body={"amount": 25}).status == 200
    assert credits("GET", f"/credits/v1/orders/{key}").json()["balance"] == 650
    assert credits("GET", f"/wp-json/dotix/v1/order/{key}").json()["balance"] == "650"
