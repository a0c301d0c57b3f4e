"""CreditsFunction's native routes and its order webhook, in process (Dotix routes: ``test_credits_dotix``)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.handlers.conftest import CREDITS_API_KEY, Load, sign, signed_webhook
from tests.handlers.lambdas import Function
from tests.handlers.upstreams import WOO_API, Shop

WEBHOOK = "/credits/webhooks/order"
CREDITS_100 = 10
CREDITS_500 = 11


def completed_order(shop: Shop, order_id: int = 501, **fields: Any) -> dict[str, Any]:
    shop.credits_product(CREDITS_100, 100)
    shop.credits_product(CREDITS_500, 500)
    items = [
        {"id": 1, "product_id": CREDITS_100, "quantity": 2, "name": "100 credits"},
        {"id": 2, "product_id": CREDITS_500, "quantity": 1, "name": "500 credits"},
    ]
    return shop.order(order_id, line_items=items, **{"status": "completed", **fields})


def granted(credits: Function, shop: Shop, order_id: int = 501) -> dict[str, Any]:
    """An order whose 700 credits the webhook granted."""
    order = completed_order(shop, order_id)
    answer = credits("POST", WEBHOOK, **signed_webhook(order))
    assert (answer.status, answer.json()) == (200, {"result": "granted"})
    return order


def orders(key: str, tail: str = "") -> str:
    return f"/credits/v1/orders/{key}{tail}"


# ------------------------------------------------------------------ webhook
def test_webhook_grants_once_and_the_order_reads_back(credits: Function, shop: Shop) -> None:
    order = granted(credits, shop)
    again = credits("POST", WEBHOOK, **signed_webhook(order))
    assert (again.status, again.json()) == (200, {"result": "already_granted"})
    answer = credits("GET", orders(order["order_key"]))
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {
        "order_key": order["order_key"],
        "order_id": 501,
        "status": "completed",
        "granted": 700,
        "consumed": 0,
        "balance": 700,
    }


def test_webhook_ping_other_topics_and_bad_signatures(credits: Function, shop: Shop) -> None:
    ping = credits("POST", WEBHOOK, form={"webhook_id": "12"})
    assert (ping.status, ping.json()) == (200, {"result": "pong"})
    ignored = credits("POST", WEBHOOK, **signed_webhook({"id": 1}, topic="product.updated"))
    assert (ignored.status, ignored.json()) == (200, {"result": "ignored", "topic": "product.updated"})
    order = completed_order(shop)
    forged = credits("POST", WEBHOOK, **signed_webhook(order, secret="another-secret"))
    assert forged.error == (401, "invalid_signature")
    unsigned = signed_webhook(order)
    del unsigned["headers"]["X-WC-Webhook-Signature"]
    assert credits("POST", WEBHOOK, **unsigned).error == (401, "invalid_signature")
    assert credits("GET", orders(order["order_key"])).error == (404, "unknown_order")


def test_signed_but_malformed_webhooks_are_400(credits: Function) -> None:
    for body in (b"not json", b"[]", b'{"id": "x"}', b'{"status": "completed"}'):
        delivery = signed_webhook({})
        delivery["body"] = body
        delivery["headers"]["X-WC-Webhook-Signature"] = sign(body)
        assert credits("POST", WEBHOOK, **delivery).error == (400, "invalid_payload"), body


@pytest.mark.parametrize(
    "fault",
    [{"status": 500}, {"error": httpx.ConnectTimeout}],
    ids=["500", "connect-timeout"],
)
def test_woocommerce_down_during_a_webhook_is_503(
    credits: Function, shop: Shop, no_sleep: None, fault: dict[str, Any]
) -> None:
    """A paid credits-only order is completed in WooCommerce first; WooCommerce down: 503, nothing granted."""
    order = completed_order(shop, status="processing")
    shop.fail("PUT", rf"{WOO_API}/orders/501", **fault)
    answer = credits("POST", WEBHOOK, **signed_webhook(order))
    assert answer.error == (503, "upstream_unavailable")
    assert credits("GET", orders(order["order_key"])).error == (404, "unknown_order")


def test_products_unreadable_during_a_webhook_is_503(credits: Function, shop: Shop, no_sleep: None) -> None:
    order = completed_order(shop)
    shop.fail("GET", rf"{WOO_API}/products")
    assert credits("POST", WEBHOOK, **signed_webhook(order)).error == (503, "upstream_unavailable")


def test_woocommerce_refusing_the_products_read_is_502(credits: Function, shop: Shop) -> None:
    order = completed_order(shop)
    shop.fail("GET", rf"{WOO_API}/products", status=403)
    assert credits("POST", WEBHOOK, **signed_webhook(order)).error == (502, "upstream_rejected")


# ------------------------------------------------------------------ reads
def test_unknown_order_is_404(credits: Function) -> None:
    assert credits("GET", orders("wc_order_nope")).error == (404, "unknown_order")
    assert credits("GET", orders("wc_order_nope", "/transactions")).error == (404, "unknown_order")


def test_transactions_page_newest_first(credits: Function, shop: Shop) -> None:
    key = granted(credits, shop)["order_key"]
    for amount in (1, 2, 3):
        assert credits("POST", orders(key, "/consume"), json_body={"amount": amount}).status == 200
    seen: list[int] = []
    query: dict[str, str] = {"limit": "2"}
    while True:
        page = credits("GET", orders(key, "/transactions"), query=query)
        assert page.status == 200
        body = page.json()
        assert set(body) == {"items", "next_cursor"}
        seen += [item["amount"] for item in body["items"]]
        if not body["next_cursor"]:
            break
        query = {"limit": "2", "cursor": body["next_cursor"]}
    assert seen == [-3, -2, -1, 700]
    first = credits("GET", orders(key, "/transactions")).json()["items"][0]
    assert set(first) == {"transaction_id", "type", "amount", "balance_after", "time", "idempotency_key"}
    assert (first["type"], first["balance_after"]) == ("consume", 694)


def test_bad_transaction_queries_are_400(credits: Function, shop: Shop) -> None:
    key = granted(credits, shop)["order_key"]
    for query, code in (({"cursor": "nope"}, "invalid_cursor"), ({"limit": "0"}, "validation_error")):
        assert credits("GET", orders(key, "/transactions"), query=query).error == (400, code), query
    assert credits("GET", orders(key, "/transactions"), query={"limit": "x"}).error == (400, "validation_error")


# ------------------------------------------------------------------ consume
def test_consume_then_max_then_nothing_left(credits: Function, shop: Shop) -> None:
    key = granted(credits, shop)["order_key"]
    first = credits("POST", orders(key, "/consume"), json_body={"amount": 40})
    assert first.status == 200
    body = first.json()
    assert set(body) == {"order_id", "consumed", "balance", "transaction_id"}
    assert (body["order_id"], body["consumed"], body["balance"]) == (501, 40, 660)
    assert body["transaction_id"].startswith("tx_")
    rest = credits("POST", orders(key, "/consume"), json_body={"amount": "max"}).json()
    assert (rest["consumed"], rest["balance"]) == (660, 0)
    assert credits("POST", orders(key, "/consume"), json_body={"amount": 1}).error == (409, "insufficient_credits")


def test_consume_of_an_unknown_or_unfinished_order(credits: Function, shop: Shop) -> None:
    assert credits("POST", orders("wc_order_nope", "/consume"), json_body={"amount": 1}).error == (
        404,
        "unknown_order",
    )
    on_hold = completed_order(shop, 502, status="on-hold", payment_method="bacs")
    assert credits("POST", WEBHOOK, **signed_webhook(on_hold)).json() == {"result": "tracked"}
    refused = credits("POST", orders(on_hold["order_key"], "/consume"), json_body={"amount": 1})
    assert refused.error == (409, "order_not_completed")


BAD_AMOUNTS: list[Any] = [-1, 0, 1.5, "1.5", "-3", 10**12, "abc", "", None, True, [1], {"n": 1}, "1e3"]


def test_bad_amounts_are_400_and_change_nothing(credits: Function, shop: Shop) -> None:
    key = granted(credits, shop)["order_key"]
    for amount in BAD_AMOUNTS:
        status, code = credits("POST", orders(key, "/consume"), json_body={"amount": amount}).error
        assert (status, code in ("invalid_amount", "validation_error")) == (400, True), amount
    assert credits("GET", orders(key)).json()["balance"] == 700


MALFORMED: list[tuple[bytes, str, tuple[int, str]]] = [
    (b"{}", "application/json", (400, "validation_error")),
    (b'{"amount": ', "application/json", (400, "malformed_json")),
    (b"[1, 2]", "application/json", (400, "validation_error")),
    (b"amount=5", "text/plain", (415, "unsupported_content_type")),
    (b"<amount>5</amount>", "application/xml", (415, "unsupported_content_type")),
]


def test_malformed_consumes_change_nothing(credits: Function, shop: Shop) -> None:
    key = granted(credits, shop)["order_key"]
    for body, content_type, expected in MALFORMED:
        answer = credits("POST", orders(key, "/consume"), body=body, content_type=content_type)
        assert answer.error == expected, body
    assert credits("GET", orders(key)).json()["balance"] == 700


def test_a_base64_encoded_body_is_read(credits: Function, shop: Shop) -> None:
    key = granted(credits, shop)["order_key"]
    answer = credits("POST", orders(key, "/consume"), json_body={"amount": 5}, base64_encoded=True)
    assert (answer.status, answer.json()["balance"]) == (200, 695)


def test_idempotency_key_replays_and_refuses_another_body(credits: Function, shop: Shop) -> None:
    key = granted(credits, shop)["order_key"]
    headers = {"Idempotency-Key": "req-1"}
    first = credits("POST", orders(key, "/consume"), json_body={"amount": 10}, headers=headers)
    again = credits("POST", orders(key, "/consume"), json_body={"amount": 10}, headers=headers)
    assert first.status == again.status == 200
    assert first.json() == again.json()
    other = credits("POST", orders(key, "/consume"), json_body={"amount": 11}, headers=headers)
    assert other.error == (422, "idempotency_key_reused")
    assert credits("GET", orders(key)).json()["balance"] == 690
    too_long = credits("POST", orders(key, "/consume"), json_body={"amount": 1}, headers={"Idempotency-Key": "x" * 300})
    assert too_long.error == (400, "validation_error")


# ------------------------------------------------------------------ routing and keys
def test_unknown_routes_are_404(credits: Function) -> None:
    assert credits("DELETE", orders("k")).error == (404, "route_not_found")
    assert credits("GET", "/credits/v2/orders/k").error == (404, "route_not_found")
    # As today: no route is no Dotix route, so its 404 comes in the native shape even under a Dotix prefix.
    assert credits("DELETE", "/dotix/v1/order/k").error == (404, "route_not_found")


@pytest.fixture
def keyed(load: Load) -> Function:
    return load("CreditsFunction", CREDITS_API_KEYS=f"{CREDITS_API_KEY}, app-key-handlers-2")


GUARDED: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "", {}),
    ("GET", "/transactions", {"query": {"limit": "0"}}),
    ("POST", "/consume", {"json_body": {"amount": 1}}),
    ("POST", "/consume", {"json_body": {"amount": "lots", "extra": True}}),
    ("POST", "/consume", {"body": b"{not json", "content_type": "application/json"}),
    ("POST", "/consume", {"body": b"amount=1", "content_type": "text/plain"}),
]


@pytest.mark.parametrize("headers", [{}, {"X-Api-Key": "wrong-key"}], ids=["missing", "wrong"])
def test_api_keys_guard_before_validation(keyed: Function, shop: Shop, headers: dict[str, str]) -> None:
    key = granted(keyed, shop)["order_key"]
    for method, tail, request in GUARDED:
        assert keyed(method, orders(key, tail), headers=headers, **request).error == (401, "invalid_api_key"), request
    good = keyed("GET", orders(key), headers={"X-Api-Key": CREDITS_API_KEY})
    assert (good.status, good.json()["balance"]) == (200, 700)
