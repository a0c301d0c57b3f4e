"""BalanceFunction in process: balance, payments (authorize, read, capture, void), shoppers, the order webhook."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.handlers.conftest import signed_webhook
from tests.handlers.events import Answer
from tests.handlers.lambdas import Function, before_writes
from tests.handlers.upstreams import WOO_API, Shop, Topomer

TOKEN = "tpm_payer"
PAYMENTS = "/balance/v1/payments"
ORDER_ID = 801


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"X-Topomer-Token": token}


def pay(
    balance: Function, amount: str = "40.00", *, key: str = "key-a", order_id: int = ORDER_ID, **fields: Any
) -> Answer:
    body = {"token": TOKEN, "order_id": order_id, "amount": amount, **fields}
    return balance("POST", PAYMENTS, json_body=body, headers={"Idempotency-Key": key})


@pytest.fixture
def payer(shop: Shop, topomer: Topomer) -> str:
    """A Topomer user holding 100.00 and an unpaid Topomer order of 40.00 EUR."""
    shop.order(ORDER_ID, total="40.00", payment_method="topomer")
    return topomer.user(TOKEN, "100.00")


def authorized(balance: Function) -> str:
    answer = pay(balance)
    assert answer.status == 201, answer.body
    return str(answer.json()["payment_id"])


# ------------------------------------------------------------------ balance
def test_balance_shows_what_holds_leave(balance: Function, payer: str) -> None:
    before = balance("GET", "/balance/v1/balance", headers=auth())
    assert (before.status, before.json()) == (
        200,
        {"user_id": "7", "email": "payer@example.com", "balance": "100.00", "available": "100.00", "expired": False},
    )
    authorized(balance)
    assert balance("GET", "/balance/v1/balance", headers=auth()).json()["available"] == "60.00"


def test_balance_token_refusals(balance: Function, topomer: Topomer) -> None:
    assert balance("GET", "/balance/v1/balance").error == (401, "missing_token")
    assert balance("GET", "/balance/v1/balance", headers=auth("tpm_nobody")).error == (401, "invalid_token")
    topomer.user("tpm_old", "10.00", expired=True)
    assert balance("GET", "/balance/v1/balance", headers=auth("tpm_old")).error == (410, "token_expired")


@pytest.mark.parametrize("fault", [{"status": 500}, {"error": httpx.ConnectTimeout}], ids=["500", "connect-timeout"])
def test_balance_is_503_while_topomer_is_down(
    balance: Function, payer: str, topomer: Topomer, no_sleep: None, fault: dict[str, Any]
) -> None:
    topomer.fail("GET", "/api/plugin/users/get-by-token", **fault)
    answer = balance("GET", "/balance/v1/balance", headers=auth())
    assert answer.error == (503, "upstream_unavailable")
    assert b"Traceback" not in answer.body


def test_an_answer_topomer_should_not_give_is_502(balance: Function, payer: str, topomer: Topomer) -> None:
    topomer.fail("GET", "/api/plugin/users/get-by-token", status=200, body={"id": 7, "balance": "12"})
    assert balance("GET", "/balance/v1/balance", headers=auth()).error == (502, "upstream_invalid_response")


# ------------------------------------------------------------------ authorize
def test_authorize_holds_replays_and_refuses_a_reused_key(balance: Function, payer: str, shop: Shop) -> None:
    first = pay(balance)
    assert first.status == 201
    body = first.json()
    assert body["payment_id"].startswith("pay_")
    assert (body["order_id"], body["status"], body["amount"], body["available_after"], body["currency"]) == (
        ORDER_ID,
        "authorized",
        "40.00",
        "60.00",
        "EUR",
    )
    again = pay(balance)
    assert (again.status, again.json()) == (201, body)
    other_key = pay(balance, key="key-b")
    assert (other_key.status, other_key.json()["payment_id"]) == (200, body["payment_id"])
    assert pay(balance, "41.00").error == (422, "idempotency_key_reused")
    assert pay(balance, "41.00", key="key-c").error == (409, "order_has_payment")


BAD_AUTHORIZATIONS: list[tuple[dict[str, Any], str]] = [
    ({"amount": "0"}, "invalid_amount"),
    ({"amount": "1.001"}, "invalid_amount"),
    ({"amount": "-5"}, "invalid_amount"),
    ({"amount": 1.5}, "validation_error"),
    ({"order_id": 0}, "validation_error"),
    ({"order_id": "1"}, "validation_error"),
    ({"token": ""}, "validation_error"),
    ({"currency": "eur"}, "validation_error"),
    ({"extra": 1}, "validation_error"),
]


def test_bad_authorizations_are_400_and_hold_nothing(balance: Function, payer: str) -> None:
    for body, code in BAD_AUTHORIZATIONS:
        sent = {"token": TOKEN, "order_id": ORDER_ID, "amount": "40.00", **body}
        answer = balance("POST", PAYMENTS, json_body=sent, headers={"Idempotency-Key": "k"})
        assert answer.error == (400, code), body
    assert balance("GET", "/balance/v1/balance", headers=auth()).json()["available"] == "100.00"


def test_authorize_needs_an_idempotency_key_and_a_json_body(balance: Function, payer: str) -> None:
    body = {"token": TOKEN, "order_id": ORDER_ID, "amount": "40.00"}
    assert balance("POST", PAYMENTS, json_body=body).error == (400, "missing_idempotency_key")
    malformed = balance("POST", PAYMENTS, body=b"{nope", content_type="application/json")
    assert malformed.error == (400, "malformed_json")
    assert balance("POST", PAYMENTS, body=b"token=x", content_type="text/plain").error == (
        415,
        "unsupported_content_type",
    )


def test_authorize_refusals_from_the_order_and_the_balance(balance: Function, payer: str, shop: Shop) -> None:
    assert pay(balance, order_id=999).error == (404, "order_not_found")
    assert pay(balance, "39.00", key="k2").error == (422, "amount_mismatch")
    assert pay(balance, currency="USD", key="k3").error == (422, "currency_mismatch")
    shop.order(802, total="150.00", payment_method="topomer")
    assert pay(balance, "150.00", order_id=802, key="k4").error == (402, "insufficient_balance")
    shop.order(803, total="5.00", payment_method="topomer", status="processing")
    assert pay(balance, "5.00", order_id=803, key="k5").error == (409, "order_already_paid")
    shop.order(804, total="5.00", payment_method="topomer", status="cancelled")
    assert pay(balance, "5.00", order_id=804, key="k6").error == (409, "order_not_payable")


def test_authorize_is_503_while_woocommerce_is_down(
    balance: Function, payer: str, shop: Shop, topomer: Topomer, no_sleep: None
) -> None:
    shop.fail("GET", rf"{WOO_API}/orders/{ORDER_ID}")
    assert pay(balance).error == (503, "upstream_unavailable")
    assert balance("GET", "/balance/v1/balance", headers=auth()).json()["available"] == "100.00"


# ------------------------------------------------------------------ read, capture, void
def test_a_payment_reads_back_for_its_token_only(balance: Function, payer: str, topomer: Topomer) -> None:
    payment_id = authorized(balance)
    answer = balance("GET", f"{PAYMENTS}/{payment_id}", headers=auth())
    assert answer.status == 200
    body = answer.json()
    assert (body["payment_id"], body["status"], body["amount"], body["user_id"]) == (
        payment_id,
        "authorized",
        "40.00",
        "7",
    )
    assert "token" not in body
    topomer.user("tpm_other", "5.00", user_id=8)
    assert balance("GET", f"{PAYMENTS}/{payment_id}", headers=auth("tpm_other")).error == (404, "payment_not_found")
    unknown = f"{PAYMENTS}/pay_{'0' * 24}"
    assert balance("GET", unknown, headers=auth()).error == (404, "payment_not_found")
    assert balance("GET", f"{PAYMENTS}/{payment_id}").error == (401, "missing_token")
    assert balance("GET", f"{PAYMENTS}/not-a-payment-id", headers=auth()).error == (400, "validation_error")


def test_capture_debits_once_and_reports_the_order(balance: Function, payer: str, topomer: Topomer) -> None:
    payment_id = authorized(balance)
    captured = balance("POST", f"{PAYMENTS}/{payment_id}/capture", headers=auth())
    assert captured.status == 200, captured.body
    assert captured.json()["status"] == "captured"
    assert topomer.balance_of(TOKEN) == Decimal("60.00")
    assert topomer.users[TOKEN]["expired"] is True
    assert [o["order_id"] for o in topomer.orders] == [ORDER_ID]
    assert balance("POST", f"{PAYMENTS}/{payment_id}/void", headers=auth()).error == (409, "payment_not_voidable")


def test_capture_with_topomer_down_is_accepted_for_the_sync(
    balance: Function, payer: str, topomer: Topomer, no_sleep: None
) -> None:
    payment_id = authorized(balance)
    topomer.fail("POST", "/api/plugin/users/update-solde")
    pending = balance("POST", f"{PAYMENTS}/{payment_id}/capture", headers=auth())
    assert (pending.status, pending.json()["status"]) == (202, "capture_pending")
    assert topomer.balance_of(TOKEN) == Decimal("100.00")


def test_void_releases_the_hold_and_a_voided_payment_is_not_captured(balance: Function, payer: str) -> None:
    payment_id = authorized(balance)
    voided = balance("POST", f"{PAYMENTS}/{payment_id}/void", headers=auth())
    assert (voided.status, voided.json()["status"]) == (200, "voided")
    assert balance("GET", "/balance/v1/balance", headers=auth()).json()["available"] == "100.00"
    refused = balance("POST", f"{PAYMENTS}/{payment_id}/capture", headers=auth())
    assert refused.error == (409, "payment_not_capturable")


@pytest.mark.parametrize("action", ["capture", "void"])
def test_capture_and_void_need_the_token_whatever_the_body(balance: Function, payer: str, action: str) -> None:
    payment_id = authorized(balance)
    refused = balance("POST", f"{PAYMENTS}/{payment_id}/{action}", body=b"{not json", content_type="application/json")
    assert refused.error == (401, "missing_token")
    assert balance("POST", f"{PAYMENTS}/{payment_id}/{action}", headers=auth("tpm_wrong")).error == (
        404,
        "payment_not_found",
    )


# ------------------------------------------------------------------ webhook and shoppers
def test_order_webhook_captures_a_paid_topomer_order(balance: Function, payer: str, shop: Shop) -> None:
    authorized(balance)
    paid = shop.order(ORDER_ID, total="40.00", payment_method="topomer", status="processing")
    answer = balance("POST", "/balance/webhooks/order", **signed_webhook(paid))
    assert (answer.status, answer.json()) == (200, {"result": "captured"})
    other = shop.order(805, total="1.00", payment_method="stripe", status="processing")
    assert balance("POST", "/balance/webhooks/order", **signed_webhook(other)).json() == {"result": "ignored"}
    assert balance("POST", "/balance/webhooks/order", **signed_webhook(paid, secret="nope")).error == (
        401,
        "invalid_signature",
    )
    ping = balance("POST", "/balance/webhooks/order", form={"webhook_id": "3"})
    assert (ping.status, ping.json()) == (200, {"result": "pong"})


def test_shopper_balance_is_passed_through(balance: Function, topomer: Topomer) -> None:
    topomer.shoppers["shopper-1"] = ("shopper-token-1", "75.5")
    path = "/balance/v1/shoppers/shopper-1/balance"
    ok = balance("GET", path, headers={"X-Shopper-Token": "shopper-token-1"})
    assert (ok.status, ok.json()) == (200, {"shopper_id": "shopper-1", "balance": "75.50"})
    assert balance("GET", path, headers={"X-Shopper-Token": "nope"}).error == (401, "invalid_shopper_token")
    assert balance("GET", path).error == (401, "missing_shopper_token")
    too_long = f"/balance/v1/shoppers/{'s' * 65}/balance"
    assert balance("GET", too_long, headers={"X-Shopper-Token": "t"}).error == (400, "validation_error")


def test_unknown_routes_are_404(balance: Function) -> None:
    assert balance("DELETE", PAYMENTS).error == (404, "route_not_found")
    assert balance("GET", "/balance/v2/balance").error == (404, "route_not_found")


def test_a_capture_against_a_changed_order_stops_for_a_person(balance: Function, payer: str, shop: Shop) -> None:
    payment_id = authorized(balance)
    shop.orders[ORDER_ID]["total"] = "45.00"  # the order changed after the authorization
    stopped = balance("POST", f"{PAYMENTS}/{payment_id}/capture", headers=auth())
    assert stopped.error == (409, "payment_needs_attention")
    assert shop.orders[ORDER_ID]["status"] == "on-hold"
    assert len(shop.notes[ORDER_ID]) == 1


def test_the_same_key_while_the_first_request_runs_is_409(balance: Function, payer: str) -> None:
    rival = balance.rival()
    writes: list[int] = []
    rivals: list[Answer] = []

    def same_key_meanwhile() -> None:
        writes.append(1)
        if len(writes) == 2:  # the first request has claimed its key (write 1) and not finished
            rivals.append(pay(rival))

    before_writes(balance, same_key_meanwhile)
    assert pay(balance).status == 201
    assert [answer.error for answer in rivals] == [(409, "request_in_progress")]
