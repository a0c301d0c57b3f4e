"""The upstream clients against respx: retries, error mapping, pagination, Topomer's token refresh."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from woo_backend.errors import UpstreamInvalidResponse, UpstreamNotFound, UpstreamRejected, UpstreamUnavailable
from woo_backend.http import RetryPolicy, UnsafeId, UpstreamOutcomeUnknown, segment
from woo_backend.settings import TopomerSettings, WooCommerceSettings
from woo_backend.topomer import AccessTokenRefused, CustomerTokenRefused, TopomerClient, TopomerOrder
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
@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_5xx_that_ends_the_attempts_carries_its_status(woo: WooCommerceClient, status: int) -> None:
    # Callers tell "the shop threw" (500) from "a proxy lost the answer" (502/504) by the status, not the text.
    respx.put(f"{WOO}/wp-json/wc/v3/subscriptions/5").mock(return_value=httpx.Response(status))
    with pytest.raises(UpstreamUnavailable) as raised:
        woo.write_object("PUT", "/subscriptions/5", {"transition_status": "active"}, repeatable=False)
    assert raised.value.status == status


@respx.mock
def test_a_failure_carries_the_status_of_the_last_attempt_only(woo: WooCommerceClient) -> None:
    # A 500 then no answer at all: the failure is "no answer", not the earlier 500 (which reads as "the shop threw").
    respx.get(f"{WOO}/wp-json/wc/v3/orders/45").mock(
        side_effect=[httpx.Response(500), httpx.ReadTimeout("slow"), httpx.ReadTimeout("slow")]
    )
    with pytest.raises(UpstreamUnavailable) as raised:
        woo.get_order(45)
    assert raised.value.status is None


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
    solde = respx.post(f"{TOPOMER}/api/plugin/users/update-solde").mock(return_value=httpx.Response(204))
    interval = topomer.price_intervals()[0]
    assert (interval.min, interval.max, interval.percentage) == (Decimal("50.00"), None, Decimal("5"))
    topomer.update_balance("tok", 7, Decimal("99.5"))
    assert solde.calls[0].request.content == b'{"token":"tok","user_id":7,"solde":"99.50"}'


# ------------------------------------------------------------------ Topomer: answers nobody promised
def _topomer_token() -> None:
    respx.post(f"{TOPOMER}/api/auth/token").mock(
        return_value=httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
    )


WRITE_ANSWERS = [
    httpx.Response(200, json={"ok": True}),
    httpx.Response(200, json={"id": 7, "solde": "99.50", "expired": True, "email": None}),
    httpx.Response(201, json={"id": 7}),
    httpx.Response(204),
    httpx.Response(200, json={"ok": False}),  # a body field nobody promised: not read either way
    httpx.Response(202, text="accepted"),
    httpx.Response(200, text="<html>done</html>"),
]


@pytest.mark.parametrize("answer", WRITE_ANSWERS, ids=["ok", "object", "created", "empty", "ok-false", "202", "html"])
@respx.mock
def test_topomer_takes_any_2xx_as_taken_without_reading_the_body(
    topomer: TopomerClient, answer: httpx.Response
) -> None:
    _topomer_token()
    routes = [
        respx.post(f"{TOPOMER}/api/plugin/users/update-solde").mock(return_value=answer),
        respx.post(f"{TOPOMER}/api/plugin/users/update-expired").mock(return_value=answer),
        respx.post(f"{TOPOMER}/api/plugin/orders").mock(return_value=answer),
        respx.put(f"{TOPOMER}/api/plugin/promos/5").mock(return_value=answer),
        respx.post(f"{TOPOMER}/api/plugin/promos").mock(return_value=answer),
    ]
    topomer.update_balance("tok", 7, Decimal("99.50"))
    topomer.expire_token("tok")
    topomer.record_order(ORDER_REPORT, idempotency_key="woo-backend-order-pay_1")
    topomer.update_promo(5, {"active": False})
    topomer.create_promo("CODE-1", Decimal("10"), "manual")
    assert [route.call_count for route in routes] == [1] * 5


@respx.mock
def test_topomer_user_needs_only_id_solde_and_expired(topomer: TopomerClient) -> None:
    _topomer_token()
    respx.get(f"{TOPOMER}/api/plugin/users/get-by-token").mock(
        side_effect=[
            httpx.Response(200, json={"id": 7, "solde": "12.30", "expired": False, "email": None}),
            httpx.Response(200, json={"id": "u-7", "solde": 12.3, "expired": 1, "extra": {"x": 1}}),
            httpx.Response(200, json={"id": 7, "expired": False}),
            httpx.Response(200, json={"id": 7, "solde": "1.00"}),
        ]
    )
    first = topomer.get_user_by_token("tok")
    assert (first.id, first.balance, first.expired, first.email) == (7, Decimal("12.30"), False, None)
    second = topomer.get_user_by_token("tok")
    assert (second.id, second.balance, second.expired, second.email) == ("u-7", Decimal("12.3"), True, None)
    with pytest.raises(UpstreamInvalidResponse):
        topomer.get_user_by_token("tok")  # no balance: nothing can be decided
    with pytest.raises(UpstreamInvalidResponse):
        topomer.get_user_by_token("tok")  # no expired flag: a spent token would look usable


@pytest.mark.parametrize("status", [400, 401, 403])
@respx.mock
def test_topomer_refused_customer_token_after_a_fresh_access_token(topomer: TopomerClient, status: int) -> None:
    tokens = respx.post(f"{TOPOMER}/api/auth/token").mock(
        return_value=httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
    )
    user = respx.get(f"{TOPOMER}/api/plugin/users/get-by-token").mock(return_value=httpx.Response(status))
    with pytest.raises(CustomerTokenRefused) as refused:
        topomer.get_user_by_token("tok")
    assert refused.value.status == status
    assert isinstance(refused.value, UpstreamNotFound)  # what the services map to invalid_token
    assert (user.call_count, tokens.call_count) == (2, 2)  # once more with a fresh access token


@pytest.mark.parametrize("status", [401, 403, 404])
@respx.mock
def test_topomer_refused_shopper_pair_is_refused_not_an_outage(topomer: TopomerClient, status: int) -> None:
    _topomer_token()
    respx.get(f"{TOPOMER}/api/plugin/shoppers/s-1/balance").mock(return_value=httpx.Response(status))
    with pytest.raises(CustomerTokenRefused):
        topomer.shopper_balance("s-1", "shopper-token")


@respx.mock
def test_topomer_unknown_customer_token_is_refused_at_once(topomer: TopomerClient) -> None:
    _topomer_token()
    user = respx.get(f"{TOPOMER}/api/plugin/users/get-by-token").mock(return_value=httpx.Response(404, text="nope"))
    with pytest.raises(CustomerTokenRefused):
        topomer.get_user_by_token("tok")
    assert user.call_count == 1


@respx.mock
def test_topomer_403_then_a_fresh_access_token_works(topomer: TopomerClient) -> None:
    respx.post(f"{TOPOMER}/api/auth/token").mock(
        side_effect=[
            httpx.Response(200, json={"access_token": "old", "expires_in": 3600}),
            httpx.Response(200, json={"access_token": "new", "expires_in": 3600}),
        ]
    )
    respx.get(f"{TOPOMER}/api/plugin/users/get-by-token").mock(
        side_effect=lambda request: (
            httpx.Response(403)
            if request.headers["Authorization"] == "Bearer old"
            else httpx.Response(200, json={"id": 7, "solde": "5", "expired": False})
        )
    )
    assert topomer.get_user_by_token("tok").balance == Decimal("5")


@respx.mock
def test_topomer_refused_client_credentials_are_not_a_customer_problem(topomer: TopomerClient) -> None:
    respx.post(f"{TOPOMER}/api/auth/token").mock(return_value=httpx.Response(401))
    with pytest.raises(AccessTokenRefused) as refused:
        topomer.get_user_by_token("tok")
    assert not isinstance(refused.value, CustomerTokenRefused)
    assert refused.value.kind.value == "bad_gateway"


ORDER_REPORT = TopomerOrder(
    order_id=45, customer={"user_id": "7"}, items=[], total=Decimal("10.50"), payment_method="topomer"
)


@pytest.mark.parametrize(
    "failure",
    [httpx.Response(502), httpx.Response(504), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("dropped")],
    ids=["502", "504", "read-timeout", "dropped"],
)
@respx.mock
def test_order_report_of_unknown_fate_is_sent_once(topomer: TopomerClient, failure: Any) -> None:
    _topomer_token()
    route = respx.post(f"{TOPOMER}/api/plugin/orders").mock(side_effect=[failure, httpx.Response(201)])
    with pytest.raises(UpstreamOutcomeUnknown):
        topomer.record_order(ORDER_REPORT, idempotency_key="woo-backend-order-pay_1")
    assert route.call_count == 1
    assert route.calls[0].request.headers["Idempotency-Key"] == "woo-backend-order-pay_1"


@pytest.mark.parametrize("status", [500, 503])
@respx.mock
def test_order_report_that_surely_failed_is_not_unknown(topomer: TopomerClient, status: int) -> None:
    _topomer_token()
    route = respx.post(f"{TOPOMER}/api/plugin/orders").mock(return_value=httpx.Response(status))
    with pytest.raises(UpstreamUnavailable) as failed:
        topomer.record_order(ORDER_REPORT, idempotency_key="k")
    assert not isinstance(failed.value, UpstreamOutcomeUnknown)  # the caller may send it again later
    assert route.call_count == 1


@pytest.mark.parametrize(
    "never_sent",
    [httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"), httpx.PoolTimeout("no free connection")],
    ids=["refused", "connect-timeout", "pool-timeout"],
)
@respx.mock
def test_order_report_is_repeated_after_a_connection_that_never_opened(
    topomer: TopomerClient, never_sent: Exception
) -> None:
    _topomer_token()
    route = respx.post(f"{TOPOMER}/api/plugin/orders").mock(side_effect=[never_sent, never_sent, httpx.Response(204)])
    topomer.record_order(ORDER_REPORT, idempotency_key="k")
    assert route.call_count == 3


@respx.mock
def test_balance_writes_are_repeated_they_set_absolute_values(topomer: TopomerClient) -> None:
    _topomer_token()
    route = respx.post(f"{TOPOMER}/api/plugin/users/update-solde").mock(
        side_effect=[httpx.Response(502), httpx.ReadTimeout("slow"), httpx.Response(204)]
    )
    topomer.update_balance("tok", 7, Decimal("1.00"))
    assert route.call_count == 3
    route.side_effect = None
    route.return_value = httpx.Response(502)
    with pytest.raises(UpstreamUnavailable) as failed:
        topomer.update_balance("tok", 7, Decimal("1.00"))
    assert not isinstance(failed.value, UpstreamOutcomeUnknown)  # repeatable: its fate does not matter


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (httpx.Response(201, json={"id": 12, "code": "CODE-1"}), 12),
        (httpx.Response(200, json={"ok": True, "id": "p-12"}), "p-12"),
        (httpx.Response(201, json={"data": {"id": 12}}), 12),
        (httpx.Response(204, headers={"Location": "https://topomer.test/api/plugin/promos/12"}), "12"),
        (httpx.Response(201, text="created", headers={"Location": "/api/plugin/promos/12/"}), "12"),
        (httpx.Response(200, json={"ok": True}), None),
        (httpx.Response(204), None),
        (httpx.Response(200, json={"id": True}), None),
    ],
    ids=["object", "ok-id", "data", "204-location", "text-location", "ok", "empty", "bool-id"],
)
@respx.mock
def test_promo_create_reads_the_id_where_an_answer_may_name_it(
    topomer: TopomerClient, answer: httpx.Response, expected: object
) -> None:
    _topomer_token()
    route = respx.post(f"{TOPOMER}/api/plugin/promos").mock(return_value=answer)
    assert topomer.create_promo("CODE-1", Decimal("10"), "manual").id == expected
    assert route.calls[0].request.headers["Idempotency-Key"] == "woo-backend-promo-CODE-1"


@respx.mock
def test_promo_create_of_unknown_fate_is_sent_once(topomer: TopomerClient) -> None:
    _topomer_token()
    route = respx.post(f"{TOPOMER}/api/plugin/promos").mock(return_value=httpx.Response(502))
    with pytest.raises(UpstreamOutcomeUnknown):
        topomer.create_promo("CODE-1", Decimal("10"), "manual")
    assert route.call_count == 1


# ------------------------------------------------------------------ ids in upstream URLs
@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("shopper-1", "shopper-1"),
        ("a/b", "a%2Fb"),
        ("a?b#c", "a%3Fb%23c"),
        ("50%", "50%25"),
        ("é", "%C3%A9"),
        (45, "45"),
    ],
)
def test_an_id_is_one_percent_encoded_segment(value: object, encoded: str) -> None:
    assert segment(value) == encoded


@pytest.mark.parametrize("value", ["", ".", ".."])
def test_an_id_that_is_a_dot_segment_is_refused(value: str) -> None:
    with pytest.raises(UnsafeId):
        segment(value)


@respx.mock
def test_topomer_shopper_id_never_reaches_another_path(topomer: TopomerClient) -> None:
    _topomer_token()
    route = respx.get(f"{TOPOMER}/api/plugin/shoppers/a%2F..%2Fusers/balance").mock(
        return_value=httpx.Response(200, json={"balance": "1.00"})
    )
    assert topomer.shopper_balance("a/../users", "t").balance == Decimal("1.00")
    assert route.call_count == 1
    with pytest.raises(UnsafeId):
        topomer.shopper_balance("..", "t")  # would be GET /api/plugin/balance
    assert [call.request.url.raw_path.decode() for call in respx.calls if "shoppers" in call.request.url.path] == [
        "/api/plugin/shoppers/a%2F..%2Fusers/balance"
    ]


@respx.mock
def test_woocommerce_and_topomer_ids_are_encoded_in_every_path(woo: WooCommerceClient, topomer: TopomerClient) -> None:
    _topomer_token()
    promo = respx.put(f"{TOPOMER}/api/plugin/promos/p%2F1").mock(return_value=httpx.Response(200))
    topomer.update_promo("p/1", {"active": False})
    assert promo.call_count == 1
    coupon = respx.put(f"{WOO}/wp-json/wc/v3/coupons/7%3F").mock(
        return_value=httpx.Response(200, json={"id": 7, "code": "x"})
    )
    woo.update_coupon("7?", {})  # type: ignore[arg-type]  # an id from elsewhere, typed int
    assert coupon.call_count == 1
    with pytest.raises(UnsafeId):
        woo.get_order("..")  # type: ignore[arg-type]
