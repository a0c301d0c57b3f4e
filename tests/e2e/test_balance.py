"""Topomer balance payments end to end: the HTTP API, the simulators and the embedded DynamoDB.

The capture and fault tests run under every answer style the Topomer simulator has for writes
(``{"ok": true}``, the changed object, 201 with an id, 204 with nothing): nothing promised one.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import LocalStack
from tests.e2e.payments import ORDERS, auth, authorize, new_order, new_user, order_reports, topomer_balance


@pytest.fixture(autouse=True)
def no_faults(stack: LocalStack) -> Iterator[None]:
    yield
    stack.clear_faults()


ANSWER_STYLES = ("ok", "object", "created", "empty")


@pytest.fixture(scope="module", params=ANSWER_STYLES)
def answer_style(request: pytest.FixtureRequest, stack: LocalStack) -> Iterator[str]:
    """Topomer answers writes in this style for the tests that use it; the style before is put back after."""
    with stack.answer_style(request.param):
        yield str(request.param)


# ------------------------------------------------------------------ balance
def test_balance_shows_what_is_available_after_holds(stack: LocalStack, api: httpx.Client) -> None:
    token = new_user(stack, "80.00")
    assert api.get("/balance/v1/balance", headers=auth(token)).json()["available"] == "80.00"
    assert authorize(api, token, new_order(stack, "25.50"), "25.50").status_code == 201
    body = api.get("/balance/v1/balance", headers=auth(token)).json()
    assert (body["balance"], body["available"], body["expired"], body["email"]) == (
        "80.00",
        "54.50",
        False,
        "e2e@example.com",
    )
    assert set(body) == {"user_id", "email", "balance", "available", "expired"}


def test_balance_token_errors(stack: LocalStack, api: httpx.Client) -> None:
    unknown = api.get("/balance/v1/balance", headers=auth("tpm_nobody"))
    assert unknown.status_code == 401
    assert unknown.json()["error"]["code"] == "invalid_token"
    missing = api.get("/balance/v1/balance")
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "missing_token"
    expired = api.get("/balance/v1/balance", headers=auth(new_user(stack, "10.00", expired=True)))
    assert expired.status_code == 410
    assert expired.json()["error"]["code"] == "token_expired"


def test_balance_is_503_while_topomer_is_down(stack: LocalStack, api: httpx.Client) -> None:
    token = new_user(stack, "10.00")
    stack.set_faults(
        "topomer", rules=[{"method": "GET", "path": "/api/plugin/users/get-by-token", "mode": "500", "times": 10}]
    )
    down = api.get("/balance/v1/balance", headers=auth(token))
    assert down.status_code == 503
    assert down.json()["error"]["code"] == "upstream_unavailable"
    assert "Traceback" not in down.text


def test_shopper_balance_is_passed_through(stack: LocalStack, api: httpx.Client) -> None:
    ok = api.get("/balance/v1/shoppers/shopper-1/balance", headers={"X-Shopper-Token": "shopper-token-1"})
    assert ok.json() == {"shopper_id": "shopper-1", "balance": "75.50"}
    wrong = api.get("/balance/v1/shoppers/shopper-1/balance", headers={"X-Shopper-Token": "nope"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "invalid_shopper_token"
    assert api.get("/balance/v1/shoppers/shopper-1/balance").status_code == 401


# ------------------------------------------------------------------ authorize
def test_authorize_holds_and_replays(stack: LocalStack, api: httpx.Client) -> None:
    token, order_id = new_user(stack, "100.00"), new_order(stack, "40.00")
    first = authorize(api, token, order_id, "40.00", key="key-a")
    assert first.status_code == 201
    body = first.json()
    assert (body["status"], body["amount"], body["available_after"]) == ("authorized", "40.00", "60.00")
    # The same key and body: the first answer, nothing held twice.
    again = authorize(api, token, order_id, "40.00", key="key-a")
    assert (again.status_code, again.json()) == (201, body)
    # Another key for the same order: the order's payment, still one hold.
    other_key = authorize(api, token, order_id, "40.00", key="key-b")
    assert other_key.status_code == 200
    assert other_key.json()["payment_id"] == body["payment_id"]
    assert api.get("/balance/v1/balance", headers=auth(token)).json()["available"] == "60.00"
    # The same key with another body is refused; another amount for the order is a conflict.
    reused = authorize(api, token, order_id, "41.00", key="key-a")
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    conflict = authorize(api, token, order_id, "41.00", key="key-c")
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "order_has_payment"


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        ({"token": "t", "order_id": 1, "amount": "0"}, {"Idempotency-Key": "k"}, 400, "invalid_amount"),
        ({"token": "t", "order_id": 1, "amount": "1.001"}, {"Idempotency-Key": "k"}, 400, "invalid_amount"),
        ({"token": "t", "order_id": 1, "amount": "-5"}, {"Idempotency-Key": "k"}, 400, "invalid_amount"),
        ({"token": "t", "order_id": 1, "amount": 1.5}, {"Idempotency-Key": "k"}, 400, "validation_error"),
        ({"token": "t", "order_id": 0, "amount": "1"}, {"Idempotency-Key": "k"}, 400, "validation_error"),
        ({"token": "t", "order_id": "1", "amount": "1"}, {"Idempotency-Key": "k"}, 400, "validation_error"),
        ({"token": "", "order_id": 1, "amount": "1"}, {"Idempotency-Key": "k"}, 400, "validation_error"),
        ({"order_id": 1, "amount": "1"}, {"Idempotency-Key": "k"}, 400, "validation_error"),
        ({"token": "t", "order_id": 1, "amount": "1", "x": 1}, {"Idempotency-Key": "k"}, 400, "validation_error"),
        ({"token": "t", "order_id": 1, "amount": "1"}, {}, 400, "missing_idempotency_key"),
        ({"token": "tpm_nobody", "order_id": 1, "amount": "1"}, {"Idempotency-Key": "k2"}, 401, "invalid_token"),
    ],
)
def test_authorize_refuses_bad_requests(
    api: httpx.Client, body: dict[str, Any], headers: dict[str, str], status: int, code: str
) -> None:
    response = api.post("/balance/v1/payments", json=body, headers=headers)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)


def test_authorize_refuses_a_short_balance_and_an_expired_token(stack: LocalStack, api: httpx.Client) -> None:
    token = new_user(stack, "10.00")
    short = authorize(api, token, new_order(stack, "10.01"), "10.01")
    assert short.status_code == 402
    assert short.json()["error"]["code"] == "insufficient_balance"
    expired = authorize(api, new_user(stack, "10.00", expired=True), new_order(stack, "1.00"), "1.00")
    assert expired.status_code == 410
    assert api.get("/balance/v1/balance", headers=auth(token)).json()["available"] == "10.00"


def test_concurrent_payments_of_one_user_never_exceed_the_balance(stack: LocalStack, api: httpx.Client) -> None:
    token = new_user(stack, "20.00")
    orders = [new_order(stack, "5.00") for _ in range(10)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(lambda o: authorize(api, token, o, "5.00").status_code, orders))
    assert sorted(statuses) == [201] * 4 + [402] * 6
    assert api.get("/balance/v1/balance", headers=auth(token)).json()["available"] == "0.00"


# ------------------------------------------------------------------ capture and void
@pytest.mark.usefixtures("answer_style")
def test_capture_debits_topomer_once_expires_the_token_and_reports_the_order(
    stack: LocalStack, api: httpx.Client
) -> None:
    token, order_id = new_user(stack, "100.00"), new_order(stack, "35.25")
    payment_id = authorize(api, token, order_id, "35.25").json()["payment_id"]
    captured = api.post(f"/balance/v1/payments/{payment_id}/capture", headers=auth(token))
    assert captured.status_code == 200
    body = captured.json()
    assert body["status"] == "captured"
    assert {name: step["status"] for name, step in body["steps"].items()} == {
        "debit": "done",
        "expire_token": "done",
        "record_order": "done",
    }
    state = stack.topomer_state()
    assert Decimal(str(state["users"][token]["solde"])) == Decimal("64.75")
    assert state["users"][token]["expired"] is True
    assert [o["total"] for o in state["orders"] if o["order_id"] == order_id] == ["35.25"]
    [report] = [entry for entry in state["post_log"] if entry["path"] == "/api/plugin/orders"][-1:]
    assert report["idempotency_key"] == f"woo-backend-order-{payment_id}"
    # Replays change nothing.
    assert api.post(f"/balance/v1/payments/{payment_id}/capture", headers=auth(token)).json()["status"] == "captured"
    assert topomer_balance(stack, token) == Decimal("64.75")
    assert len(order_reports(stack, order_id)) == 1
    shown = api.get(f"/balance/v1/payments/{payment_id}", headers=auth(token)).json()
    assert shown["status"] == "captured"
    assert shown["captured_at"]
    assert token not in api.get(f"/balance/v1/payments/{payment_id}", headers=auth(token)).text


@pytest.mark.usefixtures("answer_style")
def test_void_releases_the_hold_and_is_refused_after_capture(stack: LocalStack, api: httpx.Client) -> None:
    token = new_user(stack, "50.00")
    voided_id = authorize(api, token, new_order(stack, "20.00"), "20.00").json()["payment_id"]
    voided = api.post(f"/balance/v1/payments/{voided_id}/void", headers=auth(token))
    assert voided.status_code == 200
    assert voided.json()["status"] == "voided"
    assert api.post(f"/balance/v1/payments/{voided_id}/void", headers=auth(token)).status_code == 200
    assert api.get("/balance/v1/balance", headers=auth(token)).json()["available"] == "50.00"
    late = api.post(f"/balance/v1/payments/{voided_id}/capture", headers=auth(token))
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "payment_not_capturable"

    captured_id = authorize(api, token, new_order(stack, "20.00"), "20.00").json()["payment_id"]
    api.post(f"/balance/v1/payments/{captured_id}/capture", headers=auth(token))
    refused = api.post(f"/balance/v1/payments/{captured_id}/void", headers=auth(token))
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "payment_not_voidable"
    assert topomer_balance(stack, token) == Decimal("30.00")


def test_a_payment_is_only_visible_with_its_token(stack: LocalStack, api: httpx.Client) -> None:
    owner, other = new_user(stack, "50.00"), new_user(stack, "50.00")
    payment_id = authorize(api, owner, new_order(stack, "5.00"), "5.00").json()["payment_id"]
    for method, path in (
        ("GET", f"/balance/v1/payments/{payment_id}"),
        ("POST", f"/balance/v1/payments/{payment_id}/capture"),
        ("POST", f"/balance/v1/payments/{payment_id}/void"),
    ):
        assert api.request(method, path).status_code == 401
        wrong = api.request(method, path, headers=auth(other))
        assert wrong.status_code == 404
        assert wrong.json()["error"]["code"] == "payment_not_found"
    assert api.get("/balance/v1/payments/pay_nothing", headers=auth(owner)).status_code == 400
    assert api.get(f"/balance/v1/payments/{payment_id}", headers=auth(owner)).json()["status"] == "authorized"
    assert topomer_balance(stack, owner) == Decimal("50.00")


# ------------------------------------------------------------------ the webhook
@pytest.mark.usefixtures("answer_style")
def test_the_order_webhook_captures_paid_orders_and_voids_cancelled_ones(stack: LocalStack, api: httpx.Client) -> None:
    token = new_user(stack, "90.00")
    paid, dropped = new_order(stack, "30.00"), new_order(stack, "15.00")
    paid_id = authorize(api, token, paid, "30.00").json()["payment_id"]
    dropped_id = authorize(api, token, dropped, "15.00").json()["payment_id"]
    woo = stack.sim("woocommerce")
    deliveries = woo.post(f"/_sim/orders/{paid}/status", json={"status": "processing"}).json()["deliveries"]
    assert any(d["url"].endswith("/balance/webhooks/order") and d["status"] == 200 for d in deliveries)
    woo.post(f"/_sim/orders/{dropped}/status", json={"status": "cancelled"})
    assert api.get(f"/balance/v1/payments/{paid_id}", headers=auth(token)).json()["status"] == "captured"
    assert api.get(f"/balance/v1/payments/{dropped_id}", headers=auth(token)).json()["status"] == "voided"
    # Delivered again (WooCommerce retries on its side too): nothing moves twice.
    woo.post(f"/_sim/orders/{paid}/status", json={"status": "completed"})
    assert topomer_balance(stack, token) == Decimal("60.00")
    assert len(order_reports(stack, paid)) == 1


def test_the_webhook_refuses_a_bad_signature(api: httpx.Client) -> None:
    refused = api.post(
        "/balance/webhooks/order",
        content=b'{"id": 1, "status": "processing", "payment_method": "topomer"}',
        headers={"X-WC-Webhook-Signature": "bad", "X-WC-Webhook-Topic": "order.updated"},
    )
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "invalid_signature"


@pytest.mark.usefixtures("answer_style")
def test_the_sync_applies_orders_whose_webhook_never_arrived(stack: LocalStack, api: httpx.Client) -> None:
    token = new_user(stack, "40.00")
    order_id = new_order(stack, "12.00")
    payment_id = authorize(api, token, order_id, "12.00").json()["payment_id"]
    stack.sim("woocommerce").post(f"/_sim/orders/{order_id}/status", json={"status": "processing", "deliver": False})
    assert api.get(f"/balance/v1/payments/{payment_id}", headers=auth(token)).json()["status"] == "authorized"
    stack.run_schedule("BalanceSyncFunction")
    assert api.get(f"/balance/v1/payments/{payment_id}", headers=auth(token)).json()["status"] == "captured"
    assert topomer_balance(stack, token) == Decimal("28.00")


# ------------------------------------------------------------------ failures at each capture step
SOLDE, EXPIRED = "/api/plugin/users/update-solde", "/api/plugin/users/update-expired"
CAPTURE_STEP_PATHS = (SOLDE, EXPIRED, ORDERS)


@pytest.mark.usefixtures("answer_style")
@pytest.mark.parametrize(
    ("path", "mode"),
    # update-solde and update-expired set absolute values: any failure is retried, and reading back
    # decides (``malformed`` is a 200 the simulator did not apply: reading back sees it not landed).
    [(path, mode) for path in (SOLDE, EXPIRED) for mode in ("500", "malformed", "drop")]
    + [(SOLDE, "timeout")]
    # The order report is retried only after a failure that surely did not land (a 500). A lost answer
    # (``drop``, ``timeout``) is parked instead, and a 2xx is taken whatever its body: see below.
    + [(ORDERS, "500")],
)
def test_a_failed_capture_step_is_finished_by_the_sync_exactly_once(
    stack: LocalStack, api: httpx.Client, path: str, mode: str
) -> None:
    token, order_id = new_user(stack, "100.00"), new_order(stack, "33.33")
    payment_id = authorize(api, token, order_id, "33.33").json()["payment_id"]
    # Enough failures to outlast the client's own retries, so the step is left for the sync.
    stack.set_faults("topomer", rules=[{"method": "POST", "path": path, "mode": mode, "times": 3}])
    pending = api.post(f"/balance/v1/payments/{payment_id}/capture", headers=auth(token))
    assert pending.status_code == 202
    assert pending.json()["status"] == "capture_pending"
    waiting = [s for s in pending.json()["steps"].values() if s["status"] == "retry"]
    assert len(waiting) == 1
    assert waiting[0]["last_error"]
    stack.clear_faults("topomer")
    stack.run_schedule("BalanceSyncFunction")
    final = api.get(f"/balance/v1/payments/{payment_id}", headers=auth(token)).json()
    assert final["status"] == "captured"
    assert topomer_balance(stack, token) == Decimal("66.67")
    assert stack.topomer_state()["users"][token]["expired"] is True
    assert len(order_reports(stack, order_id)) == 1


@pytest.mark.usefixtures("answer_style")
@pytest.mark.parametrize("mode", ["drop", "timeout"])
def test_an_order_report_whose_answer_was_lost_is_parked_not_resent(
    stack: LocalStack, api: httpx.Client, mode: str
) -> None:
    # Before: the report was sent again until it "succeeded", which duplicates it on a Topomer that keeps
    # every POST (the simulator used to dedupe by order_id, which nothing written promises). Now a report
    # of unknown fate waits for a person, and the sync leaves it alone.
    token, order_id = new_user(stack, "100.00"), new_order(stack, "33.33")
    payment_id = authorize(api, token, order_id, "33.33").json()["payment_id"]
    stack.set_faults("topomer", rules=[{"method": "POST", "path": ORDERS, "mode": mode, "times": 3}])
    api.post(f"/balance/v1/payments/{payment_id}/capture", headers=auth(token))
    stack.clear_faults("topomer")
    reports = len(order_reports(stack, order_id))  # drop: taken (1); timeout: never reached the handler (0)
    assert reports == (1 if mode == "drop" else 0)
    stack.run_schedule("BalanceSyncFunction")
    stack.run_schedule("BalanceSyncFunction")
    parked = api.get(f"/balance/v1/payments/{payment_id}", headers=auth(token)).json()
    assert parked["status"] == "needs_attention"
    assert parked["steps"]["record_order"]["last_error"].startswith("order_report_unknown: ")
    assert parked["steps"]["debit"]["status"] == parked["steps"]["expire_token"]["status"] == "done"
    assert len(order_reports(stack, order_id)) == reports  # never resent on its own
    assert topomer_balance(stack, token) == Decimal("66.67")


@pytest.mark.usefixtures("answer_style")
def test_a_2xx_order_report_is_taken_whatever_its_body(stack: LocalStack, api: httpx.Client) -> None:
    # Before: an answer that was not {"ok": true} (here 200 with a body that is not even JSON) left the step
    # to be sent again. A 2xx means Topomer took it; there is no way to look it up, so nothing is resent.
    token, order_id = new_user(stack, "100.00"), new_order(stack, "33.33")
    payment_id = authorize(api, token, order_id, "33.33").json()["payment_id"]
    stack.set_faults("topomer", rules=[{"method": "POST", "path": ORDERS, "mode": "malformed", "times": 3}])
    captured = api.post(f"/balance/v1/payments/{payment_id}/capture", headers=auth(token))
    assert (captured.status_code, captured.json()["status"]) == (200, "captured")
    assert captured.json()["steps"]["record_order"]["attempts"] == 1


@pytest.mark.usefixtures("answer_style")
def test_many_payments_under_random_faults_all_end_captured_to_the_cent(stack: LocalStack, api: httpx.Client) -> None:
    token = new_user(stack, "500.00")
    amounts = ["12.34", "0.01", "99.99", "45.60", "7.07", "30.00"]
    ids = []
    for amount in amounts:
        ids.append(authorize(api, token, new_order(stack, amount), amount).json()["payment_id"])
    # 500s only: they say the request failed, so every step may be retried (a lost answer would park the
    # order report for a person, as the test above shows).
    stack.set_faults("topomer", error_rate=0.4)
    for payment_id in ids:
        api.post(f"/balance/v1/payments/{payment_id}/capture", headers=auth(token))
    stack.clear_faults("topomer")
    for _ in range(2):
        stack.run_schedule("BalanceSyncFunction")
    statuses = [api.get(f"/balance/v1/payments/{i}", headers=auth(token)).json()["status"] for i in ids]
    assert statuses == ["captured"] * len(ids)
    expected = Decimal("500.00") - sum(Decimal(a) for a in amounts)
    assert topomer_balance(stack, token) == expected


@pytest.mark.usefixtures("answer_style")
def test_two_sync_runs_at_once_capture_each_pending_payment_once(stack: LocalStack, api: httpx.Client) -> None:
    token = new_user(stack, "60.00")
    ids = [authorize(api, token, new_order(stack, amount), amount).json()["payment_id"] for amount in ("10.00", "5.55")]
    stack.set_faults(
        "topomer", rules=[{"method": "POST", "path": "/api/plugin/users/update-solde", "mode": "drop", "times": 3}]
    )
    for payment_id in ids:
        api.post(f"/balance/v1/payments/{payment_id}/capture", headers=auth(token))
    stack.clear_faults("topomer")
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda _: stack.run_schedule("BalanceSyncFunction"), range(2)))
    stack.run_schedule("BalanceSyncFunction")
    assert [api.get(f"/balance/v1/payments/{i}", headers=auth(token)).json()["status"] for i in ids] == [
        "captured",
        "captured",
    ]
    assert topomer_balance(stack, token) == Decimal("44.45")


def test_logs_never_hold_a_topomer_token(stack: LocalStack, api: httpx.Client) -> None:
    token = new_user(stack, "30.00")
    payment_id = authorize(api, token, new_order(stack, "3.00"), "3.00").json()["payment_id"]
    api.post(f"/balance/v1/payments/{payment_id}/capture", headers=auth(token))
    api.get("/balance/v1/balance", headers=auth("tpm_unknown_token_for_logs"))
    text = stack.log.read_text()
    assert f'"payment":"{payment_id}"' in text.replace(" ", "")  # the capture was logged
    assert token not in text
    assert "tpm_unknown_token_for_logs" not in text
    assert stack.secret("TOPOMER_CLIENT_SECRET") not in text
