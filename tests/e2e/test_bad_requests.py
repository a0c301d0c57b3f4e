"""A bad request is a 4xx, never a 500 (issue 13, part 2), over HTTP on the local runtime: bodies that are not UTF-8,
multipart without a boundary, JSON nested 1,000 deep, bodies over 64 KB, content types a route does not take, and
ids that would name another upstream path. No ``UnhandledError`` metric or ``internal_error`` answer appears."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.conftest import LocalStack

AUTO = "/promo/v1/auto"
CONSUME = "/credits/v1/orders/wc_order_seedCompleted/consume"
DEEP = ("[" * 1000 + "]" * 1000).encode()
JSON = {"Content-Type": "application/json"}


@pytest.fixture(autouse=True)
def no_unhandled_error(stack: LocalStack) -> Iterator[None]:
    """What the functions log while the test runs holds no unhandled error."""
    start = len(stack.log.read_text())
    yield
    time.sleep(0.2)  # the runtime's log is a file written by another process
    logged = stack.log.read_text()[start:]
    assert "UnhandledError" not in logged
    assert "internal_error" not in logged


def test_a_json_body_that_is_not_utf8_is_400(api: httpx.Client) -> None:
    body = b'{"cart_id": "caf\xe9", "cart_total": "1.00", "currency": "EUR"}'
    answer = api.post(AUTO, content=body, headers=JSON)
    assert (answer.status_code, answer.json()["error"]["code"]) == (400, "malformed_body")
    account = api.post("/account/v1", content=b'{"UID": "\xff"}', headers=JSON)
    assert (account.status_code, account.json()["code"]) == (400, "malformed_body")


def test_multipart_without_a_boundary_is_415(api: httpx.Client) -> None:
    for path in (AUTO, CONSUME, "/account/v1"):
        answer = api.post(path, content=b"amount=5", headers={"Content-Type": "multipart/form-data"})
        assert answer.status_code == 415, (path, answer.text)


def test_json_nested_1000_deep_is_400(api: httpx.Client) -> None:
    for path in (AUTO, CONSUME):
        answer = api.post(path, content=DEEP, headers=JSON)
        assert (answer.status_code, answer.json()["error"]["code"]) == (400, "malformed_json"), path
    account = api.post("/account/v1", content=DEEP, headers=JSON)
    assert (account.status_code, account.json()["code"]) == (400, "malformed_json")
    dotix = api.post("/dotix/v1/order/wc_order_seedCompleted", content=DEEP, headers=JSON)
    assert (dotix.status_code, dotix.json()) == (200, {"_res": "err", "_msg": "malformed_json"})


def test_a_body_over_64_kb_is_413(api: httpx.Client) -> None:
    big = json.dumps({"cart_id": "c", "cart_total": "1.00", "currency": "EUR", "email": "a" * 70_000}).encode()
    answer = api.post(AUTO, content=big, headers=JSON)
    assert (answer.status_code, answer.json()["error"]["code"]) == (413, "body_too_large")
    form = api.post("/account/v1", data={"UID": "1" * 70_000})
    assert (form.status_code, form.json()["code"]) == (413, "body_too_large")


def test_a_form_on_a_json_route_is_415_not_a_description_of_pydantic(api: httpx.Client) -> None:
    # What `curl -d '{"amount": 5}' .../consume` sends.
    form = api.post(CONSUME, content=b'{"amount": 5}', headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert (form.status_code, form.json()["error"]["code"]) == (415, "unsupported_content_type")
    assert "application/json" in form.json()["error"]["message"]
    latin = api.post(CONSUME, content=b'{"amount": 5}', headers={"Content-Type": "application/json; charset=latin-1"})
    assert latin.status_code == 415


def test_validation_messages_are_plain(api: httpx.Client) -> None:
    answer = api.post(CONSUME, json={"amount": 1.5})
    message = answer.json()["error"]["message"]
    assert (answer.status_code, message.startswith("amount: ")) == (400, True), message
    for internal in ("amount.int", "amount.str", "Input should"):
        assert internal not in message


@pytest.mark.parametrize("shopper_id", ["%2E%2E", "%2E", ".x"])
def test_a_shopper_id_that_is_a_path_segment_never_reaches_topomer(
    stack: LocalStack, api: httpx.Client, shopper_id: str
) -> None:
    with stack.sim("topomer") as topomer:
        topomer.delete("/_sim/requests")
        answer = api.get(f"/balance/v1/shoppers/{shopper_id}/balance", headers={"X-Shopper-Token": "shopper-token-1"})
        assert (answer.status_code, answer.json()["error"]["code"]) == (400, "validation_error")
        paths = [r["path"] for r in topomer.get("/_sim/requests").json()]
    assert [p for p in paths if p != "/api/auth/token"] == []
