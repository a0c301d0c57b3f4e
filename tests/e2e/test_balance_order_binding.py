"""Topomer payments bound to their WooCommerce order, end to end.

An authorization must name an order that exists, is not paid yet, is in the payment's currency and totals
exactly the amount; a capture (webhook, sync or API) checks the amount against the order again before any
money moves, and a mismatch puts the order on hold with a note instead of debiting the customer.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import LocalStack
from tests.e2e.payments import auth, authorize, new_order, new_user, topomer_balance


@pytest.fixture(autouse=True)
def no_faults(stack: LocalStack) -> Iterator[None]:
    yield
    stack.clear_faults()


def woo_order(stack: LocalStack, order_id: int) -> dict[str, Any]:
    return stack.woo_state()["orders"][str(order_id)]  # type: ignore[no-any-return]


def notes(stack: LocalStack, order_id: int) -> list[str]:
    return [n["note"] for n in stack.woo_state()["order_notes"][str(order_id)]]


def change_total(stack: LocalStack, order_id: int, total: str) -> None:
    """The shop edits the order's line, through WooCommerce's own REST API."""
    line_id = woo_order(stack, order_id)["line_items"][0]["id"]
    with stack.sim("woocommerce") as woo:
        woo.auth = httpx.BasicAuth("ck_local_consumer_key", "cs_local_consumer_secret")
        woo.put(
            f"/wp-json/wc/v3/orders/{order_id}", json={"line_items": [{"id": line_id, "total": total}]}
        ).raise_for_status()
    assert woo_order(stack, order_id)["total"] == total


def available(api: httpx.Client, token: str) -> str:
    return str(api.get("/balance/v1/balance", headers=auth(token)).json()["available"])


def error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


# ------------------------------------------------------------------ the exploit
def test_a_cent_authorized_for_a_fifty_euro_order_is_refused_and_the_paid_webhook_takes_nothing(
    stack: LocalStack, api: httpx.Client
) -> None:
    token, order_id = new_user(stack, "100.00"), new_order(stack, "50.00")
    refused = authorize(api, token, order_id, "0.01")
    assert error(refused) == (422, "amount_mismatch")
    assert "50.00" in refused.json()["error"]["message"]
    deliveries = (
        stack.sim("woocommerce")
        .post(f"/_sim/orders/{order_id}/status", json={"status": "processing"})
        .json()["deliveries"]
    )
    balance_hooks = [d for d in deliveries if d["url"].endswith("/balance/webhooks/order")]
    assert balance_hooks
    assert all(d["status"] == 200 for d in balance_hooks)
    assert topomer_balance(stack, token) == Decimal("100.00")
    assert available(api, token) == "100.00"
    assert not [o for o in stack.topomer_state()["orders"] if o["order_id"] == order_id]


def test_an_order_whose_total_grew_after_the_hold_is_put_on_hold_by_the_paid_webhook(
    stack: LocalStack, api: httpx.Client
) -> None:
    token, order_id = new_user(stack, "100.00"), new_order(stack, "0.01")
    payment_id = authorize(api, token, order_id, "0.01").json()["payment_id"]
    change_total(stack, order_id, "50.00")
    stack.sim("woocommerce").post(f"/_sim/orders/{order_id}/status", json={"status": "processing"})
    payment = api.get(f"/balance/v1/payments/{payment_id}", headers=auth(token)).json()
    assert payment["status"] == "needs_attention"
    assert payment["reason"].startswith("amount_mismatch")
    assert payment["steps"]["debit"]["status"] == "pending"
    assert payment["steps"]["hold_order"]["status"] == "done"
    assert topomer_balance(stack, token) == Decimal("100.00")
    assert woo_order(stack, order_id)["status"] == "on-hold"
    ours = [n for n in notes(stack, order_id) if payment_id in n]
    assert len(ours) == 1
    assert "0.01" in ours[0]
    assert "50.00" in ours[0]
    # Delivered again (the shop sets it to processing once more): still nothing moves.
    stack.sim("woocommerce").post(f"/_sim/orders/{order_id}/status", json={"status": "processing"})
    assert topomer_balance(stack, token) == Decimal("100.00")
    assert len([n for n in notes(stack, order_id) if payment_id in n]) == 1


# ------------------------------------------------------------------ authorize
def test_authorize_refuses_an_order_the_shop_does_not_have(stack: LocalStack, api: httpx.Client) -> None:
    token = new_user(stack, "30.00")
    assert error(authorize(api, token, 987654, "10.00")) == (404, "order_not_found")
    assert available(api, token) == "30.00"


def test_authorize_refuses_a_paid_order(stack: LocalStack, api: httpx.Client) -> None:
    token = new_user(stack, "80.00")
    for status in ("processing", "completed"):
        assert error(authorize(api, token, new_order(stack, "20.00", status=status), "20.00")) == (
            409,
            "order_already_paid",
        )
    # Paid once, then put on hold by the shop: WooCommerce keeps date_paid, the order stays paid.
    held = new_order(stack, "20.00", status="processing")
    stack.sim("woocommerce").post(f"/_sim/orders/{held}/status", json={"status": "on-hold", "deliver": False})
    assert woo_order(stack, held)["date_paid_gmt"]
    assert error(authorize(api, token, held, "20.00")) == (409, "order_already_paid")
    assert available(api, token) == "80.00"


def test_authorize_refuses_another_currency(stack: LocalStack, api: httpx.Client) -> None:
    token = new_user(stack, "80.00")
    dollars = new_order(stack, "20.00", currency="USD")
    refused = authorize(api, token, dollars, "20.00")
    assert error(refused) == (422, "currency_mismatch")
    assert "USD" in refused.json()["error"]["message"]
    euros = new_order(stack, "20.00")
    assert error(authorize(api, token, euros, "20.00", currency="USD")) == (422, "currency_mismatch")
    assert error(authorize(api, token, euros, "20.00", currency="usd")) == (400, "validation_error")
    assert available(api, token) == "80.00"
    accepted = authorize(api, token, euros, "20.00", currency="EUR")
    assert accepted.status_code == 201
    assert accepted.json()["currency"] == "EUR"


def test_authorize_refuses_an_amount_that_is_not_the_order_total(stack: LocalStack, api: httpx.Client) -> None:
    token, order_id = new_user(stack, "80.00"), new_order(stack, "50.00")
    for amount in ("49.99", "50.01", "5.00"):
        assert error(authorize(api, token, order_id, amount)) == (422, "amount_mismatch")
    assert available(api, token) == "80.00"
    assert authorize(api, token, order_id, "50").status_code == 201  # the same amount, written otherwise
    assert available(api, token) == "30.00"


def test_authorize_is_503_while_woocommerce_is_down(stack: LocalStack, api: httpx.Client) -> None:
    token, order_id = new_user(stack, "80.00"), new_order(stack, "10.00")
    stack.set_faults(
        "woocommerce", rules=[{"method": "GET", "path": f"/wp-json/wc/v3/orders/{order_id}", "mode": "500", "times": 5}]
    )
    down = authorize(api, token, order_id, "10.00")
    assert error(down) == (503, "upstream_unavailable")
    stack.clear_faults("woocommerce")
    assert available(api, token) == "80.00"
    assert authorize(api, token, order_id, "10.00").status_code == 201


# ------------------------------------------------------------------ capture
def test_a_capture_after_the_order_total_changed_moves_no_money_and_holds_the_order(
    stack: LocalStack, api: httpx.Client
) -> None:
    token, order_id = new_user(stack, "100.00"), new_order(stack, "40.00")
    payment_id = authorize(api, token, order_id, "40.00").json()["payment_id"]
    change_total(stack, order_id, "55.00")
    refused = api.post(f"/balance/v1/payments/{payment_id}/capture", headers=auth(token))
    assert error(refused) == (409, "payment_needs_attention")
    assert "amount_mismatch" in refused.json()["error"]["message"]
    payment = api.get(f"/balance/v1/payments/{payment_id}", headers=auth(token)).json()
    assert payment["status"] == "needs_attention"
    assert payment["reason"].startswith("amount_mismatch")
    assert topomer_balance(stack, token) == Decimal("100.00")
    assert stack.topomer_state()["users"][token]["expired"] is False
    assert woo_order(stack, order_id)["status"] == "on-hold"
    assert len([n for n in notes(stack, order_id) if payment_id in n]) == 1
    # Asked again: the same answer, nothing more happens.
    assert error(api.post(f"/balance/v1/payments/{payment_id}/capture", headers=auth(token))) == (
        409,
        "payment_needs_attention",
    )
    stack.run_schedule("BalanceSyncFunction")
    assert topomer_balance(stack, token) == Decimal("100.00")
    assert len([n for n in notes(stack, order_id) if payment_id in n]) == 1


def test_a_capture_of_a_matching_order_still_debits(stack: LocalStack, api: httpx.Client) -> None:
    token, order_id = new_user(stack, "100.00"), new_order(stack, "40.00")
    payment_id = authorize(api, token, order_id, "40.00").json()["payment_id"]
    captured = api.post(f"/balance/v1/payments/{payment_id}/capture", headers=auth(token))
    assert captured.status_code == 200
    assert captured.json()["status"] == "captured"
    assert topomer_balance(stack, token) == Decimal("60.00")
    assert woo_order(stack, order_id)["status"] == "pending"  # the shop's own status is left alone


def test_the_sync_checks_a_polled_order_before_it_captures(stack: LocalStack, api: httpx.Client) -> None:
    token, order_id = new_user(stack, "100.00"), new_order(stack, "12.00")
    payment_id = authorize(api, token, order_id, "12.00").json()["payment_id"]
    change_total(stack, order_id, "24.00")
    stack.sim("woocommerce").post(f"/_sim/orders/{order_id}/status", json={"status": "processing", "deliver": False})
    stack.run_schedule("BalanceSyncFunction")
    payment = api.get(f"/balance/v1/payments/{payment_id}", headers=auth(token)).json()
    assert payment["status"] == "needs_attention"
    assert topomer_balance(stack, token) == Decimal("100.00")
    assert woo_order(stack, order_id)["status"] == "on-hold"


@pytest.mark.parametrize("mode", ["500", "drop"])
def test_an_order_note_lost_on_the_way_is_written_once_by_the_sync(
    stack: LocalStack, api: httpx.Client, mode: str
) -> None:
    token, order_id = new_user(stack, "100.00"), new_order(stack, "40.00")
    payment_id = authorize(api, token, order_id, "40.00").json()["payment_id"]
    change_total(stack, order_id, "41.00")
    path = f"/wp-json/wc/v3/orders/{order_id}/notes"
    stack.set_faults("woocommerce", rules=[{"method": "POST", "path": path, "mode": mode, "times": 1}])
    api.post(f"/balance/v1/payments/{payment_id}/capture", headers=auth(token))
    payment = api.get(f"/balance/v1/payments/{payment_id}", headers=auth(token)).json()
    assert payment["status"] == "needs_attention"
    assert payment["steps"]["hold_order"]["status"] == "retry"
    assert payment["steps"]["hold_order"]["last_error"]
    assert woo_order(stack, order_id)["status"] == "on-hold"  # the first half landed
    stack.clear_faults("woocommerce")
    stack.run_schedule("BalanceSyncFunction")
    payment = api.get(f"/balance/v1/payments/{payment_id}", headers=auth(token)).json()
    assert payment["steps"]["hold_order"]["status"] == "done"
    assert len([n for n in notes(stack, order_id) if payment_id in n]) == 1
    assert topomer_balance(stack, token) == Decimal("100.00")
