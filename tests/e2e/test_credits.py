"""Credits end to end: webhooks grant once, consumes are atomic, Dotix answers byte for byte."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e import web
from tests.e2e.conftest import LocalStack, start_stack
from woo_backend.webhook_signature import webhook_signature

pytestmark = pytest.mark.e2e

CREDITS_100 = 10  # seeded products: 100 credits, 500 credits, and one without credits
CREDITS_500 = 11
T_SHIRT = 12


# ------------------------------------------------------------------ helpers
def new_order(
    stack: LocalStack, items: list[tuple[int, int]], payment_method: str = "stripe", status: str = "pending"
) -> dict[str, Any]:
    body = {
        "customer_id": 1,
        "status": status,
        "payment_method": payment_method,
        "line_items": [{"product_id": pid, "quantity": qty} for pid, qty in items],
    }
    response = web.post(f"{stack.woocommerce}/_sim/orders", json=body)
    assert response.status_code == 201
    return response.json()


def set_status(stack: LocalStack, order_id: int, status: str, deliver: bool = True) -> dict[str, Any]:
    response = web.post(
        f"{stack.woocommerce}/_sim/orders/{order_id}/status", json={"status": status, "deliver": deliver}, timeout=30
    )
    assert response.status_code == 200
    return response.json()


def credits_delivery(result: dict[str, Any]) -> dict[str, Any]:
    return next(d for d in result["deliveries"] if d["url"].endswith("/credits/webhooks/order"))


def signed_post(
    stack: LocalStack, body: bytes, secret: str | None = None, topic: str = "order.updated"
) -> httpx.Response:
    signature = webhook_signature(body, secret or stack.secret("WOOCOMMERCE_WEBHOOK_SECRET"))
    headers = {"Content-Type": "application/json", "X-WC-Webhook-Topic": topic, "X-WC-Webhook-Signature": signature}
    return web.post(f"{stack.api}/credits/webhooks/order", content=body, headers=headers)


def granted_order(stack: LocalStack, items: list[tuple[int, int]]) -> dict[str, Any]:
    order = new_order(stack, items, status="on-hold")
    assert credits_delivery(set_status(stack, order["id"], "completed"))["status"] == 200
    return order


def account(stack: LocalStack, order_key: str) -> httpx.Response:
    return web.get(f"{stack.api}/credits/v1/orders/{order_key}")


def consume(stack: LocalStack, order_key: str, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return web.post(f"{stack.api}/credits/v1/orders/{order_key}/consume", json=body, headers=headers, timeout=60)


def ledger(stack: LocalStack, order_key: str) -> list[dict[str, Any]]:
    return web.get(f"{stack.api}/credits/v1/orders/{order_key}/transactions", params={"limit": 100}).json()["items"]


# ------------------------------------------------------------------ granting
def test_signed_webhook_grants_sum_of_credits_times_quantity(stack: LocalStack) -> None:
    order = granted_order(stack, [(CREDITS_100, 2), (CREDITS_500, 1)])
    body = account(stack, order["order_key"]).json()
    assert body == {
        "order_key": order["order_key"],
        "order_id": order["id"],
        "status": "completed",
        "granted": 700,
        "consumed": 0,
        "balance": 700,
    }


def test_replayed_and_concurrent_webhooks_grant_once(stack: LocalStack) -> None:
    order = new_order(stack, [(CREDITS_100, 1)])
    completed = set_status(stack, order["id"], "completed", deliver=False)["order"]
    body = json.dumps(completed).encode()
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: signed_post(stack, body), range(12)))
    assert all(a.status_code == 200 for a in answers)
    outcomes = [a.json()["result"] for a in answers]
    assert outcomes.count("granted") == 1
    assert outcomes.count("already_granted") == 11
    assert account(stack, order["order_key"]).json()["balance"] == 100
    assert [e["type"] for e in ledger(stack, order["order_key"])] == ["grant"]


def test_bad_signature_stores_nothing(stack: LocalStack) -> None:
    order = new_order(stack, [(CREDITS_100, 1)])
    completed = set_status(stack, order["id"], "completed", deliver=False)["order"]
    body = json.dumps(completed).encode()
    for headers in ({"X-WC-Webhook-Signature": "bm9wZQ=="}, {}):
        response = web.post(
            f"{stack.api}/credits/webhooks/order",
            content=body,
            headers={"Content-Type": "application/json", "X-WC-Webhook-Topic": "order.updated", **headers},
        )
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_signature"
    assert signed_post(stack, body, secret="another-secret").status_code == 401
    assert account(stack, order["order_key"]).status_code == 404


def test_creation_ping_is_answered_200(stack: LocalStack) -> None:
    response = web.post(
        f"{stack.api}/credits/webhooks/order",
        content=b"webhook_id=12",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200


def test_paid_credits_only_order_is_completed_in_woocommerce_and_granted(stack: LocalStack) -> None:
    order = new_order(stack, [(CREDITS_100, 3)], payment_method="stripe")
    result = set_status(stack, order["id"], "processing")
    assert credits_delivery(result)["body"] == '{"result":"granted"}'
    assert stack.woo_state()["orders"][str(order["id"])]["status"] == "completed"
    assert account(stack, order["order_key"]).json()["balance"] == 300


@pytest.mark.parametrize("payment_method", ["bacs", "cheque", "cod"])
def test_unpaid_gateway_processing_order_is_not_completed(stack: LocalStack, payment_method: str) -> None:
    order = new_order(stack, [(CREDITS_100, 1)], payment_method=payment_method)
    set_status(stack, order["id"], "processing")
    assert stack.woo_state()["orders"][str(order["id"])]["status"] == "processing"
    body = account(stack, order["order_key"]).json()
    assert (body["status"], body["balance"]) == ("processing", 0)
    assert consume(stack, order["order_key"], {"amount": 1}).json()["error"]["code"] == "order_not_completed"


def test_mixed_order_is_not_autocompleted(stack: LocalStack) -> None:
    order = new_order(stack, [(CREDITS_100, 1), (T_SHIRT, 1)])
    set_status(stack, order["id"], "processing")
    assert stack.woo_state()["orders"][str(order["id"])]["status"] == "processing"
    set_status(stack, order["id"], "completed")
    assert account(stack, order["order_key"]).json()["granted"] == 100


def test_order_without_credits_is_unknown(stack: LocalStack) -> None:
    order = new_order(stack, [(T_SHIRT, 1)])
    assert credits_delivery(set_status(stack, order["id"], "completed"))["body"] == '{"result":"no_credits"}'
    assert account(stack, order["order_key"]).status_code == 404


def test_refund_revokes_what_is_left_and_a_late_completed_delivery_does_not_regrant(stack: LocalStack) -> None:
    order = granted_order(stack, [(CREDITS_100, 1)])
    completed_body = json.dumps(stack.woo_state()["orders"][str(order["id"])]).encode()
    assert consume(stack, order["order_key"], {"amount": 30}).status_code == 200
    set_status(stack, order["id"], "refunded")
    body = account(stack, order["order_key"]).json()
    assert (body["status"], body["granted"], body["consumed"], body["balance"]) == ("refunded", 100, 30, 0)
    entries = ledger(stack, order["order_key"])
    assert [(e["type"], e["amount"], e["balance_after"]) for e in entries] == [
        ("revoke", -70, 0),
        ("consume", -30, 70),
        ("grant", 100, 100),
    ]
    set_status(stack, order["id"], "refunded")  # a repeated refund delivery revokes nothing more
    assert signed_post(stack, completed_body).json()["result"] == "already_granted"
    assert len(ledger(stack, order["order_key"])) == 3
    assert consume(stack, order["order_key"], {"amount": 1}).json()["error"]["code"] == "order_not_completed"


def test_cancelled_before_completion_can_never_be_granted(stack: LocalStack) -> None:
    order = new_order(stack, [(CREDITS_100, 1)], payment_method="bacs")
    set_status(stack, order["id"], "processing")
    set_status(stack, order["id"], "cancelled")
    late = {**stack.woo_state()["orders"][str(order["id"])], "status": "completed"}
    signed_post(stack, json.dumps(late).encode())
    body = account(stack, order["order_key"]).json()
    assert (body["status"], body["balance"]) == ("cancelled", 0)


def test_missed_webhook_is_caught_up_by_the_scheduled_sync(stack: LocalStack) -> None:
    order = new_order(stack, [(CREDITS_500, 1)])
    set_status(stack, order["id"], "completed", deliver=False)
    assert account(stack, order["order_key"]).status_code == 404
    result = stack.run_schedule("CreditsSyncFunction")
    assert result["result"]["counts"]["granted"] >= 1
    assert account(stack, order["order_key"]).json()["balance"] == 500
    again = stack.run_schedule("CreditsSyncFunction")  # a second run grants nothing more
    assert again["result"]["counts"].get("granted", 0) == 0
    assert account(stack, order["order_key"]).json()["balance"] == 500


def test_missed_refund_is_caught_up_by_the_scheduled_sync(stack: LocalStack) -> None:
    order = granted_order(stack, [(CREDITS_100, 1)])
    set_status(stack, order["id"], "refunded", deliver=False)
    stack.run_schedule("CreditsSyncFunction")
    assert account(stack, order["order_key"]).json()["balance"] == 0


# ------------------------------------------------------------------ consuming
def test_consume_n_then_max_then_nothing_left(stack: LocalStack) -> None:
    order = granted_order(stack, [(CREDITS_100, 1)])
    first = consume(stack, order["order_key"], {"amount": 40})
    assert first.status_code == 200
    assert {k: first.json()[k] for k in ("order_id", "consumed", "balance")} == {
        "order_id": order["id"],
        "consumed": 40,
        "balance": 60,
    }
    assert first.json()["transaction_id"].startswith("tx_")
    rest = consume(stack, order["order_key"], {"amount": "max"}).json()
    assert (rest["consumed"], rest["balance"]) == (60, 0)
    short = consume(stack, order["order_key"], {"amount": 1})
    assert short.status_code == 409
    assert short.json()["error"]["code"] == "insufficient_credits"


def test_consume_errors(stack: LocalStack) -> None:
    unknown = consume(stack, "wc_order_doesNotExist", {"amount": 1})
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "unknown_order")
    pending = new_order(stack, [(CREDITS_100, 1)], payment_method="bacs")
    set_status(stack, pending["id"], "on-hold")
    not_completed = consume(stack, pending["order_key"], {"amount": 1})
    assert (not_completed.status_code, not_completed.json()["error"]["code"]) == (409, "order_not_completed")
    order = granted_order(stack, [(CREDITS_100, 1)])
    too_much = consume(stack, order["order_key"], {"amount": 101})
    assert (too_much.status_code, too_much.json()["error"]["code"]) == (409, "insufficient_credits")
    assert account(stack, order["order_key"]).json()["balance"] == 100


BAD_AMOUNTS: list[Any] = [-1, 0, 1.5, "1.5", "-3", 10**12, "abc", "", None, True, [1], {"n": 1}, "1e3", "٣"]


@pytest.fixture(scope="module")
def full_order(stack: LocalStack) -> dict[str, Any]:
    return granted_order(stack, [(CREDITS_100, 1)])


@pytest.mark.parametrize("amount", BAD_AMOUNTS, ids=repr)
def test_bad_amounts_are_400_and_change_nothing(stack: LocalStack, full_order: dict[str, Any], amount: Any) -> None:
    response = consume(stack, full_order["order_key"], {"amount": amount})
    assert response.status_code == 400
    assert response.json()["error"]["code"] in ("invalid_amount", "validation_error")
    assert account(stack, full_order["order_key"]).json()["balance"] == 100


@pytest.mark.parametrize(
    ("content", "content_type", "status", "code"),
    [
        (b"{}", "application/json", 400, "validation_error"),
        (b'{"amount": ', "application/json", 400, "malformed_json"),
        (b"[1, 2]", "application/json", 400, "validation_error"),
        (b"amount=5", "text/plain", 415, "unsupported_content_type"),
        (b"<amount>5</amount>", "application/xml", 415, "unsupported_content_type"),
    ],
)
def test_malformed_requests_are_4xx_and_change_nothing(
    stack: LocalStack, full_order: dict[str, Any], content: bytes, content_type: str, status: int, code: str
) -> None:
    response = web.post(
        f"{stack.api}/credits/v1/orders/{full_order['order_key']}/consume",
        content=content,
        headers={"Content-Type": content_type},
    )
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert account(stack, full_order["order_key"]).json()["balance"] == 100


def test_unknown_routes_and_methods_are_404(stack: LocalStack, full_order: dict[str, Any]) -> None:
    assert web.delete(f"{stack.api}/credits/v1/orders/{full_order['order_key']}").status_code == 404
    assert web.get(f"{stack.api}/credits/v2/orders/x").status_code == 404
    assert account(stack, full_order["order_key"]).json()["balance"] == 100


def test_idempotency_key_replays_the_first_answer_and_rejects_another_body(stack: LocalStack) -> None:
    order = granted_order(stack, [(CREDITS_100, 1)])
    key = {"Idempotency-Key": f"req-{uuid.uuid4()}"}
    first = consume(stack, order["order_key"], {"amount": "max"}, key)
    again = consume(stack, order["order_key"], {"amount": "max"}, key)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert first.json()["consumed"] == 100
    other = consume(stack, order["order_key"], {"amount": 5}, key)
    assert (other.status_code, other.json()["error"]["code"]) == (422, "idempotency_key_reused")
    assert [e["idempotency_key"] for e in ledger(stack, order["order_key"]) if e["type"] == "consume"] == [
        key["Idempotency-Key"]
    ]


def test_concurrent_replays_of_one_key_debit_once(stack: LocalStack) -> None:
    order = granted_order(stack, [(CREDITS_100, 1)])
    key = {"Idempotency-Key": f"req-{uuid.uuid4()}"}
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda _: consume(stack, order["order_key"], {"amount": 30}, key), range(10)))
    assert {a.status_code for a in answers} == {200}
    assert len({a.json()["transaction_id"] for a in answers}) == 1
    assert account(stack, order["order_key"]).json()["balance"] == 70


def test_bad_idempotency_key_is_400(stack: LocalStack, full_order: dict[str, Any]) -> None:
    response = consume(stack, full_order["order_key"], {"amount": 1}, {"Idempotency-Key": "x" * 300})
    assert response.status_code == 400
    assert account(stack, full_order["order_key"]).json()["balance"] == 100


def test_fifty_concurrent_consumes_end_with_the_exact_balance(stack: LocalStack) -> None:
    order = granted_order(stack, [(CREDITS_500, 1), (CREDITS_100, 1)])  # 600 credits
    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(lambda _: consume(stack, order["order_key"], {"amount": 13}), range(50)))
    statuses = [a.status_code for a in answers]
    assert statuses.count(200) == 46  # 46 x 13 = 598 <= 600 < 47 x 13
    assert statuses.count(409) == 4
    assert all(a.json()["error"]["code"] == "insufficient_credits" for a in answers if a.status_code == 409)
    assert account(stack, order["order_key"]).json()["balance"] == 2
    entries = ledger(stack, order["order_key"])
    assert all(e["balance_after"] >= 0 for e in entries)
    assert sorted(e["balance_after"] for e in entries if e["type"] == "consume") == [
        600 - 13 * i for i in range(46, 0, -1)
    ]


def test_transactions_paginate_newest_first(stack: LocalStack) -> None:
    order = granted_order(stack, [(CREDITS_100, 1)])
    for amount in (1, 2, 3, 4):
        consume(stack, order["order_key"], {"amount": amount})
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = web.get(f"{stack.api}/credits/v1/orders/{order['order_key']}/transactions", params=params).json()
        seen += [e["amount"] for e in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [-4, -3, -2, -1, 100]
    bad = web.get(f"{stack.api}/credits/v1/orders/{order['order_key']}/transactions", params={"cursor": "nope"})
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid_cursor")
    assert (
        web.get(f"{stack.api}/credits/v1/orders/{order['order_key']}/transactions", params={"limit": 0}).status_code
        == 400
    )
    assert web.get(f"{stack.api}/credits/v1/orders/wc_order_none/transactions").status_code == 404


# ------------------------------------------------------------------ Dotix compatibility
def test_dotix_routes_answer_byte_for_byte(stack: LocalStack) -> None:
    order = granted_order(stack, [(CREDITS_100, 1), (CREDITS_500, 1)])
    url = f"{stack.api}/dotix/v1/order/{order['order_key']}"
    oid = order["id"]
    assert web.get(url).content == f'{{"_res":"ok","order_id":{oid},"status":"completed","balance":"600"}}'.encode()
    assert (
        web.post(url, data={"num": "100"}).content
        == f'{{"_res":"ok","order_id":{oid},"consumed":"100","balance":"500"}}'.encode()
    )
    assert (
        web.post(url, json={"num": 58}).content
        == f'{{"_res":"ok","order_id":{oid},"consumed":"58","balance":"442"}}'.encode()
    )
    assert (
        web.post(url, data={"num": "max"}).content
        == f'{{"_res":"ok","order_id":{oid},"consumed":"442","balance":"0"}}'.encode()
    )
    assert web.post(url, data={"num": "1"}).content == b'{"_res":"err","_msg":"lack_of_bal"}'
    assert web.post(url, data={}).content == b'{"_res":"err","_msg":"lack_of_param"}'
    assert web.post(url, data={"num": "-5"}).content == b'{"_res":"err","_msg":"lack_of_param"}'
    assert web.post(url, data={"num": "abc"}).content == b'{"_res":"err","_msg":"lack_of_param"}'
    assert web.get(f"{stack.api}/dotix/v1/order/wc_order_nope").content == b'{"_res":"err","_msg":"wrong_hash"}'
    assert (
        web.post(f"{stack.api}/dotix/v1/order/wc_order_nope", data={"num": "1"}).content
        == b'{"_res":"err","_msg":"wrong_hash"}'
    )
    pending = new_order(stack, [(CREDITS_100, 1)], payment_method="bacs")
    set_status(stack, pending["id"], "on-hold")
    assert (
        web.get(f"{stack.api}/dotix/v1/order/{pending['order_key']}").content == b'{"_res":"err","_msg":"wrong_status"}'
    )
    assert (
        web.post(f"{stack.api}/dotix/v1/order/{pending['order_key']}", data={"num": "1"}).content
        == b'{"_res":"err","_msg":"wrong_status"}'
    )


def test_dotix_and_native_share_one_ledger(stack: LocalStack) -> None:
    order = granted_order(stack, [(CREDITS_100, 1)])
    web.post(f"{stack.api}/dotix/v1/order/{order['order_key']}", data={"num": "25"})
    consume(stack, order["order_key"], {"amount": 25})
    assert account(stack, order["order_key"]).json()["balance"] == 50
    assert web.get(f"{stack.api}/dotix/v1/order/{order['order_key']}").json()["balance"] == "50"


# ------------------------------------------------------------------ logs and API keys
def test_logs_never_hold_a_full_order_key_or_secret(stack: LocalStack) -> None:
    order = granted_order(stack, [(CREDITS_100, 1)])
    consume(stack, order["order_key"], {"amount": 1})
    consume(stack, "wc_order_missingKeyForLogs", {"amount": 1})
    log_lines = [line for line in stack.log.read_text().splitlines() if line.startswith("{")]
    assert log_lines, "the functions log structured JSON lines"
    text = "\n".join(log_lines)
    assert order["order_key"] not in text
    assert "wc_order_missingKeyForLogs" not in text
    assert stack.secret("WOOCOMMERCE_WEBHOOK_SECRET") not in text
    assert stack.secret("WOOCOMMERCE_CONSUMER_SECRET") not in text


@pytest.fixture(scope="module")
def keyed_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    workdir: Path = tmp_path_factory.mktemp("keyed")
    with start_stack(workdir, {"CREDITS_API_KEYS": "app-key-one-123456, app-key-two-654321"}) as running:
        yield running


def test_api_keys_when_configured_guard_every_read_and_consume(keyed_stack: LocalStack) -> None:
    order = granted_order(keyed_stack, [(CREDITS_100, 1)])
    key = order["order_key"]
    calls = [
        ("GET", f"/credits/v1/orders/{key}", None),
        ("GET", f"/credits/v1/orders/{key}/transactions", None),
        ("POST", f"/credits/v1/orders/{key}/consume", {"amount": 1}),
        ("POST", f"/credits/v1/orders/{key}/consume", {"amount": "lots"}),  # refused before the body is read
        ("GET", f"/credits/v1/orders/{key}/transactions?limit=0", None),
        ("GET", f"/dotix/v1/order/{key}", None),
        ("POST", f"/dotix/v1/order/{key}", {"num": 1}),
    ]
    for method, path, body in calls:
        for headers in ({}, {"X-Api-Key": "wrong-key-000000"}):
            response = web.request(method, f"{keyed_stack.api}{path}", json=body, headers=headers)
            assert response.status_code == 401, (method, path, headers)
    assert account(keyed_stack, key).status_code == 401
    good = web.get(f"{keyed_stack.api}/credits/v1/orders/{key}", headers={"X-Api-Key": "app-key-two-654321"})
    assert good.json()["balance"] == 100
    spent = web.post(
        f"{keyed_stack.api}/credits/v1/orders/{key}/consume",
        json={"amount": 10},
        headers={"X-Api-Key": "app-key-one-123456"},
    )
    assert spent.json()["balance"] == 90


# ------------------------------------------------------------------ upstream failures
def test_woocommerce_down_during_a_webhook_is_503_and_the_sync_completes_it(stack: LocalStack) -> None:
    order = new_order(stack, [(CREDITS_100, 1)], payment_method="stripe")
    paid = set_status(stack, order["id"], "processing", deliver=False)["order"]
    stack.set_faults(
        "woocommerce",
        rules=[{"method": "PUT", "path": f"/wp-json/wc/v3/orders/{order['id']}", "mode": "500", "times": 3}],
    )
    try:
        response = signed_post(stack, json.dumps(paid).encode())
    finally:
        stack.clear_faults("woocommerce")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "upstream_unavailable"
    assert account(stack, order["order_key"]).status_code == 404
    stack.run_schedule("CreditsSyncFunction")
    assert account(stack, order["order_key"]).json()["balance"] == 100
    assert stack.woo_state()["orders"][str(order["id"])]["status"] == "completed"


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"id": "x"}', b'{"status": "completed"}'])
def test_signed_but_malformed_webhook_bodies_are_400(stack: LocalStack, body: bytes) -> None:
    response = signed_post(stack, body)
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_payload")


def test_other_topics_are_acknowledged_and_ignored(stack: LocalStack) -> None:
    response = signed_post(stack, b'{"id": 1}', topic="product.updated")
    assert response.status_code == 200
    assert response.json()["result"] == "ignored"
