"""AccountFunction in process: ``POST /account/v1`` actions, the UID/nonce/signature check and the account shape
``{"result": false, "error", "code"}`` (WooCommerce as respx fakes, SES in moto)."""

from __future__ import annotations

from typing import Any

import boto3
import httpx
import pytest

from tests.handlers.conftest import account_credentials
from tests.handlers.events import Answer
from tests.handlers.lambdas import Function
from tests.handlers.upstreams import WOO_API, Shop

ACTION = "/account/v1"


@pytest.fixture(autouse=True)
def customers(shop: Shop) -> None:
    """Alice (1) owns order 45 and subscription 501; Bob (2) owns subscription 502."""
    for uid, name in ((1, "Alice"), (2, "Bob")):
        shop.customers[uid] = {
            "id": uid,
            "email": f"{name.lower()}@example.com",
            "first_name": name,
            "date_created": "2025-01-02T10:00:00",
            "date_created_gmt": "2025-01-02T09:00:00",
            "meta_data": [{"id": 1, "key": "preferred_language", "value": "fr"}],
        }
    for sid, uid in ((501, 1), (502, 2)):
        shop.subscriptions[sid] = {
            "id": sid,
            "customer_id": uid,
            "parent_id": 45 if sid == 501 else 47,
            "status": "active",
            "billing_interval": "4",
            "billing_period": "week",
            "currency": "EUR",
            "line_items": [{"id": 1, "product_id": 20, "quantity": 1, "meta_data": []}],
            "meta_data": [],
        }
    shop.order(45, customer_id=1, status="completed", total="25.00")


def call(account: Function, action: str, uid: int = 1, **params: Any) -> Answer:
    return account("POST", ACTION, json_body={**account_credentials(uid), "action": action, **params})


def mails_sent() -> int:
    return int(boto3.client("ses").get_send_quota()["SentLast24Hours"])


# ------------------------------------------------------------------ authentication
def test_a_missing_auth_field_is_401_whatever_else_the_body_holds(account: Function) -> None:
    for field in ("UID", "blog", "nonce", "signature"):
        body = {**account_credentials(1), "action": "get_orders", "pagesize": "lots", "single": "x"}
        del body[field]
        assert account("POST", ACTION, json_body=body).account_error == (401, "missing_credentials"), field


def tampered(how: str) -> dict[str, str]:
    creds = account_credentials(1, secret="guessed") if how == "wrong-secret" else account_credentials(1)
    if how == "other-uid":
        creds["UID"] = "2"  # Alice's signature, Bob's id
    elif how == "other-blog":
        creds["blog"] = "2"
    elif how == "truncated":
        creds["signature"] = creds["signature"][:-1]
    elif how == "uid-not-a-number":
        creds["UID"] = "1 OR 1=1"
    return creds


def test_a_bad_signature_is_401(account: Function) -> None:
    for how in ("wrong-secret", "other-uid", "other-blog", "truncated", "uid-not-a-number"):
        answer = account("POST", ACTION, json_body={**tampered(how), "action": "get_user_info"})
        assert answer.account_error == (401, "bad_signature"), how
        assert b"alice" not in answer.body


def test_expired_and_malformed_nonces_are_401(account: Function) -> None:
    expired = account("POST", ACTION, json_body={**account_credentials(1, ttl=-5), "action": "describe"})
    assert expired.account_error == (401, "expired_nonce")
    creds = account_credentials(1, nonce="tomorrow.abc")  # signed, but no expiry in it
    assert account("POST", ACTION, json_body={**creds, "action": "describe"}).account_error == (401, "bad_nonce")


NOT_REQUESTS: list[tuple[bytes, str, tuple[int, str]]] = [
    (b"", "application/json", (401, "missing_credentials")),
    (b"{}", "application/json", (401, "missing_credentials")),
    (b"{not json", "application/json", (400, "malformed_body")),
    (b"[1, 2]", "application/json", (400, "malformed_body")),
    (b"UID=1", "text/plain", (415, "unsupported_content_type")),
    (b"\xff\xfe", "application/x-www-form-urlencoded", (400, "malformed_body")),
    (b"action=describe", "application/x-www-form-urlencoded; charset=UTF-8", (401, "missing_credentials")),
]


def test_bodies_that_are_not_requests(account: Function) -> None:
    for body, content_type, expected in NOT_REQUESTS:
        assert account("POST", ACTION, body=body, content_type=content_type).account_error == expected, body


def test_only_post_is_served(account: Function) -> None:
    assert account("GET", ACTION).error == (404, "route_not_found")


# ------------------------------------------------------------------ actions
def test_describe_lists_every_action(account: Function) -> None:
    answer = call(account, "describe")
    assert answer.status == 200
    actions = {a["action"] for a in answer.json()["actions"]}
    assert {"describe", "get_orders", "get_subscriptions", "get_user_info", "send_mail", "set_user_info"} <= actions


def test_a_form_body_works_like_jquery_post(account: Function) -> None:
    answer = account("POST", ACTION, form={**account_credentials(1), "action": "get_subscriptions", "single": "501"})
    assert (answer.status, answer.json()["id"], answer.json()["interval"]) == (200, 501, "4_week")


def test_missing_or_unknown_action_is_400(account: Function) -> None:
    assert call(account, "").account_error == (400, "missing_action")
    assert call(account, "drop_tables").account_error == (400, "unknown_action")


def test_get_user_info_reshapes_the_customer(account: Function) -> None:
    user = call(account, "get_user_info").json()
    assert (user["id"], user["email"], user["first_name"]) == (1, "alice@example.com", "Alice")
    assert user["meta_data"] == {"preferred_language": "fr"}
    assert isinstance(user["date_created"], int)


def test_own_unknown_and_foreign_objects(account: Function) -> None:
    assert call(account, "get_subscriptions", single=501).json()["id"] == 501
    assert call(account, "get_subscriptions", single=502).account_error == (403, "forbidden")
    assert call(account, "get_subscriptions", single=999).account_error == (404, "unknown_subscription")
    assert call(account, "get_orders", single=999).account_error == (404, "unknown_order")
    order = call(account, "get_orders", single=45).json()
    assert (order["id"], [s["id"] for s in order["subscriptions"]]) == (45, [501])
    assert "order_key" not in order
    page = call(account, "get_orders").json()
    assert (page["total"], [o["id"] for o in page["orders"]]) == (1, [45])
    assert call(account, "get_orders", pagesize="lots").account_error == (400, "validation_error")


@pytest.mark.parametrize("fault", [{"status": 500}, {"error": httpx.ConnectTimeout}], ids=["500", "connect-timeout"])
def test_woocommerce_down_is_503_in_the_account_shape(
    account: Function, shop: Shop, no_sleep: None, fault: dict[str, Any]
) -> None:
    shop.fail("GET", rf"{WOO_API}/customers/1", **fault)
    assert call(account, "get_user_info").account_error == (503, "upstream_unavailable")


def test_woocommerce_refusing_a_read_is_502_in_the_account_shape(account: Function, shop: Shop) -> None:
    shop.fail("GET", rf"{WOO_API}/customers/1", status=400)
    assert call(account, "get_user_info").account_error == (502, "upstream_rejected")


def test_send_mail_reaches_ses_and_is_limited_per_hour(account: Function) -> None:
    message: dict[str, Any] = {"from": "alice@example.com", "topic": "Delivery", "content": "Where is it?"}
    before = mails_sent()
    for _ in range(2):  # MAIL_RATE_LIMIT_PER_HOUR=2 (conftest)
        answer = call(account, "send_mail", **message)
        assert (answer.status, answer.json()) == (200, {"result": True})
    assert call(account, "send_mail", **message).account_error == (429, "too_many_mails")
    assert mails_sent() == before + 2
    assert call(account, "describe").status == 200  # only mail is limited


def test_send_mail_refuses_bad_input_and_sends_nothing(account: Function) -> None:
    before = mails_sent()
    bad: list[dict[str, Any]] = [
        {"from": "not-an-address", "topic": "t", "content": "c"},
        {"topic": "t", "content": "c"},
        {"from": "a@example.com", "topic": "", "content": "c"},
        {"from": "a@example.com", "topic": "t" * 201, "content": "c"},
    ]
    for params in bad:
        assert call(account, "send_mail", **params).account_error == (400, "validation_error"), params
    assert mails_sent() == before
