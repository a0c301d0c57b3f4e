"""The upstream clients against respx: retries, error mapping, pagination, Topomer's token refresh."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
import respx
from pydantic import SecretStr

from woo_backend.errors import UpstreamInvalidResponse, UpstreamNotFound, UpstreamRejected, UpstreamUnavailable
from woo_backend.http import RetryPolicy
from woo_backend.settings import TopomerSettings, WooCommerceSettings
from woo_backend.topomer import TopomerClient
from woo_backend.woocommerce import WooCommerceClient

WOO = "https://shop.test"
TOPOMER = "https://topomer.test"
NO_WAIT = RetryPolicy(attempts=3, base_delay=0.0)


@pytest.fixture
def woo() -> WooCommerceClient:
    settings = WooCommerceSettings(url=WOO, consumer_key=SecretStr("ck"), consumer_secret=SecretStr("cs"))
    return WooCommerceClient(settings, retry=NO_WAIT)


@pytest.fixture
def topomer() -> TopomerClient:
    settings = TopomerSettings(url=TOPOMER, client_id=SecretStr("id"), client_secret=SecretStr("secret"))
    return TopomerClient(settings, retry=NO_WAIT)


ORDER = {"id": 45, "order_key": "wc_order_x", "status": "completed", "total": "10.50", "line_items": []}


@respx.mock
def test_get_is_retried_on_5xx_and_timeouts_then_succeeds(woo: WooCommerceClient) -> None:
    route = respx.get(f"{WOO}/wp-json/wc/v3/orders/45").mock(
        side_effect=[httpx.Response(503), httpx.ReadTimeout("slow"), httpx.Response(200, json=ORDER)]
    )
    order = woo.get_order(45)
    assert route.call_count == 3
    assert order.total == Decimal("10.50")
    assert woo.round_trips == 3


@respx.mock
def test_get_gives_up_after_the_bounded_attempts(woo: WooCommerceClient) -> None:
    route = respx.get(f"{WOO}/wp-json/wc/v3/orders/45").mock(return_value=httpx.Response(500))
    with pytest.raises(UpstreamUnavailable):
        woo.get_order(45)
    assert route.call_count == 3


@respx.mock
def test_unsafe_post_is_not_repeated_after_a_5xx_but_is_after_a_connect_error(woo: WooCommerceClient) -> None:
    route = respx.post(f"{WOO}/wp-json/wc/v3/coupons").mock(return_value=httpx.Response(502))
    with pytest.raises(UpstreamUnavailable):
        woo.create_coupon({"code": "X"})
    assert route.call_count == 1
    route.side_effect = [httpx.ConnectError("refused"), httpx.Response(201, json={"id": 3, "code": "x"})]
    assert woo.create_coupon({"code": "X"}).id == 3


@respx.mock
def test_errors_are_mapped(woo: WooCommerceClient) -> None:
    respx.get(f"{WOO}/wp-json/wc/v3/orders/1").mock(return_value=httpx.Response(404, json={"code": "x"}))
    respx.get(f"{WOO}/wp-json/wc/v3/orders/2").mock(return_value=httpx.Response(401, json={"code": "x"}))
    respx.get(f"{WOO}/wp-json/wc/v3/orders/3").mock(return_value=httpx.Response(200, text="<html>"))
    respx.get(f"{WOO}/wp-json/wc/v3/orders/4").mock(return_value=httpx.Response(200, json={"id": "not-a-number"}))
    with pytest.raises(UpstreamNotFound):
        woo.get_order(1)
    with pytest.raises(UpstreamRejected):
        woo.get_order(2)
    with pytest.raises(UpstreamInvalidResponse):
        woo.get_order(3)
    with pytest.raises(UpstreamInvalidResponse):
        woo.get_order(4)


@respx.mock
def test_pagination_follows_total_pages(woo: WooCommerceClient) -> None:
    def page(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params["page"])
        assert request.url.params["per_page"] == "100"
        assert request.headers["Authorization"].startswith("Basic ")
        items = [{**ORDER, "id": number * 10 + i} for i in range(2)]
        return httpx.Response(200, json=items, headers={"X-WP-Total": "6", "X-WP-TotalPages": "3"})

    route = respx.get(f"{WOO}/wp-json/wc/v3/orders").mock(side_effect=page)
    ids = [o.id for o in woo.orders_modified_after("2026-01-01T00:00:00")]
    assert ids == [10, 11, 20, 21, 30, 31]
    assert route.call_count == 3


@respx.mock
def test_products_are_fetched_in_one_request_with_include(woo: WooCommerceClient) -> None:
    route = respx.get(f"{WOO}/wp-json/wc/v3/products").mock(
        return_value=httpx.Response(200, json=[{"id": 10, "meta_data": [{"key": "_credits", "value": "100"}]}])
    )
    products = woo.get_products([11, 10, 10])
    assert route.call_count == 1
    assert route.calls[0].request.url.params["include"] == "10,11"
    assert products[0].meta("_credits") == "100"


@respx.mock
def test_topomer_token_is_fetched_once_and_refreshed_once_on_401(topomer: TopomerClient) -> None:
    tokens = respx.post(f"{TOPOMER}/api/auth/token").mock(
        side_effect=[
            httpx.Response(200, json={"access_token": "t1", "expires_in": 3600}),
            httpx.Response(200, json={"access_token": "t2", "expires_in": 3600}),
        ]
    )
    user = {"id": 7, "token": "tok", "email": "a@b.c", "solde": "150.25", "expired": False}
    seen: list[str] = []

    def get_user(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        if request.headers["Authorization"] == "Bearer t1" and len(seen) > 1:
            return httpx.Response(401)
        return httpx.Response(200, json=user)

    respx.get(f"{TOPOMER}/api/plugin/users/get-by-token").mock(side_effect=get_user)
    assert topomer.get_user_by_token("tok").balance == Decimal("150.25")
    assert topomer.get_user_by_token("tok").id == 7  # 401 with t1, refreshed to t2
    assert seen == ["Bearer t1", "Bearer t1", "Bearer t2"]
    assert tokens.call_count == 2


@respx.mock
def test_topomer_wire_format(topomer: TopomerClient) -> None:
    respx.post(f"{TOPOMER}/api/auth/token").mock(
        return_value=httpx.Response(200, json={"access_token": "t", "expires_in": 60})
    )
    respx.get(f"{TOPOMER}/api/interval-prix").mock(
        return_value=httpx.Response(200, json=[{"min": "50.00", "max": None, "pourcentage": "5"}])
    )
    solde = respx.post(f"{TOPOMER}/api/plugin/users/update-solde").mock(
        side_effect=[httpx.Response(200, json={"ok": True}), httpx.Response(200, json={})]
    )
    interval = topomer.price_intervals()[0]
    assert (interval.min, interval.max, interval.percentage) == (Decimal("50.00"), None, Decimal("5"))
    topomer.update_balance("tok", 7, Decimal("99.5"))
    assert solde.calls[0].request.content == b'{"token":"tok","user_id":7,"solde":"99.50"}'
    # A write Topomer does not confirm is not taken as done.
    with pytest.raises(UpstreamInvalidResponse):
        topomer.update_balance("tok", 7, Decimal("99.5"))
