"""The account API end to end: signed requests over HTTP, the WooCommerce simulator, SES in moto.

Customer 1 (alice) owns orders 45, 46, 49 and subscription 501 (4 weeks, Coffee box); customer 2 (bob)
owns orders 47, 48 and subscription 502 (1 month, Tea box). The simulator is reset before each test.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e import web
from tests.e2e.conftest import LocalStack, start_stack
from woo_backend.auth import account_signature, mint_account_credentials

SECRET = "local-account-signing-secret"
MAIL_LIMIT = 3


@pytest.fixture(scope="module")
def account_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    workdir: Path = tmp_path_factory.mktemp("account")
    with start_stack(workdir, {"MAIL_RATE_LIMIT_PER_HOUR": str(MAIL_LIMIT)}) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh_shop(account_stack: LocalStack) -> None:
    web.post(f"{account_stack.woocommerce}/_sim/reset", timeout=10).raise_for_status()


def call(stack: LocalStack, action: str, uid: int = 1, **params: Any) -> httpx.Response:
    body = {**mint_account_credentials(uid, 1, SECRET), "action": action, **params}
    return web.post(f"{stack.api}/account/v1", json=body, timeout=30)


def ok(stack: LocalStack, action: str, uid: int = 1, **params: Any) -> Any:
    response = call(stack, action, uid, **params)
    assert response.status_code == 200, response.text
    return response.json()


def refused(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["result"] is False
    assert isinstance(body["error"], str)
    assert body["error"]
    if code is not None:
        assert body["code"] == code
    return body


def woo(stack: LocalStack) -> dict[str, Any]:
    return stack.woo_state()


def subscription(stack: LocalStack, sid: int) -> dict[str, Any]:
    return woo(stack)["subscriptions"][str(sid)]


def meta(obj: dict[str, Any]) -> dict[str, Any]:
    return {m["key"]: m["value"] for m in obj["meta_data"]}


# ------------------------------------------------------------------ authentication
@pytest.mark.parametrize("field", ["UID", "blog", "nonce", "signature"])
def test_a_missing_auth_field_is_401(account_stack: LocalStack, field: str) -> None:
    body = {**mint_account_credentials(1, 1, SECRET), "action": "get_user_info"}
    del body[field]
    response = web.post(f"{account_stack.api}/account/v1", json=body, timeout=30)
    refused(response, 401, "missing_credentials")


@pytest.mark.parametrize(
    "tamper",
    ["wrong-secret", "other-uid", "other-blog", "other-nonce", "truncated", "empty-nonce", "uid-not-a-number"],
)
def test_a_bad_signature_is_401(account_stack: LocalStack, tamper: str) -> None:
    creds = mint_account_credentials(1, 1, SECRET)
    if tamper == "wrong-secret":
        creds = mint_account_credentials(1, 1, "guessed-secret")
    elif tamper == "other-uid":
        creds["UID"] = "2"  # alice's signature, bob's id
    elif tamper == "other-blog":
        creds["blog"] = "2"
    elif tamper == "other-nonce":
        creds["nonce"] = f"{int(time.time()) + 3600}.0000"
    elif tamper == "truncated":
        creds["signature"] = creds["signature"][:-1]
    elif tamper == "empty-nonce":
        creds["nonce"] = ""
    elif tamper == "uid-not-a-number":
        creds["UID"] = "1 OR 1=1"
    response = web.post(f"{account_stack.api}/account/v1", json={**creds, "action": "get_user_info"}, timeout=30)
    body = refused(response, 401)
    assert "alice" not in response.text
    assert body["code"] in ("bad_signature", "missing_credentials")


def test_an_expired_nonce_is_401(account_stack: LocalStack) -> None:
    creds = mint_account_credentials(1, 1, SECRET, ttl_seconds=-5)
    response = web.post(f"{account_stack.api}/account/v1", json={**creds, "action": "get_user_info"}, timeout=30)
    refused(response, 401, "expired_nonce")


def test_a_signed_but_malformed_nonce_is_401(account_stack: LocalStack) -> None:
    nonce = "tomorrow.abc"
    creds = {"UID": "1", "blog": "1", "nonce": nonce, "signature": account_signature("1", "1", nonce, SECRET)}
    response = web.post(f"{account_stack.api}/account/v1", json={**creds, "action": "get_user_info"}, timeout=30)
    refused(response, 401, "bad_nonce")


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"", "application/json", 401),
        (b"{}", "application/json", 401),
        (b"{not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b"UID=1", "text/plain", 415),
        (b"\xff\xfe", "application/x-www-form-urlencoded", 400),
        (b"", "application/x-www-form-urlencoded", 401),
        (b"action=describe", "application/x-www-form-urlencoded; charset=UTF-8", 401),
    ],
)
def test_bodies_that_are_not_requests(
    account_stack: LocalStack, content: bytes, content_type: str, status: int
) -> None:
    response = web.post(
        f"{account_stack.api}/account/v1", content=content, headers={"Content-Type": content_type}, timeout=30
    )
    refused(response, status)


def test_only_post_is_served(account_stack: LocalStack) -> None:
    assert web.get(f"{account_stack.api}/account/v1", timeout=30).status_code in (404, 405)


def test_form_bodies_work_like_jquery_post(account_stack: LocalStack) -> None:
    form = {
        **mint_account_credentials(1, 1, SECRET),
        "action": "set_subscription_info",
        "subscription_id": "501",
        "info[door_code]": "4321",
        "info[floor]": "3",
    }
    response = web.post(f"{account_stack.api}/account/v1", data=form, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["meta_data"] == {"door_code": "4321", "floor": "3"}
    assert meta(subscription(account_stack, 501)) == {"door_code": "4321", "floor": "3"}


@pytest.mark.parametrize(("action", "code"), [("", "missing_action"), ("drop_tables", "unknown_action")])
def test_missing_or_unknown_action_is_400(account_stack: LocalStack, action: str, code: str) -> None:
    refused(call(account_stack, action), 400, code)


# ------------------------------------------------------------------ reads
def test_get_orders_lists_own_orders_with_items_meta_subscriptions_and_timestamps(account_stack: LocalStack) -> None:
    body = ok(account_stack, "get_orders")
    assert body["total"] == 3
    assert sorted(o["id"] for o in body["orders"]) == [45, 46, 49]
    first = next(o for o in body["orders"] if o["id"] == 45)
    assert [i["product_id"] for i in first["line_items"]] == [10, 11]
    assert isinstance(first["line_items"][0]["meta_data"], dict)
    assert isinstance(first["date_created"], int)
    assert abs(first["date_created"] - time.time()) < 3600
    assert "date_created_gmt" not in first
    assert "order_key" not in first  # a bearer secret of the credits API
    assert [s["id"] for s in first["subscriptions"]] == [501]
    assert isinstance(first["subscriptions"][0]["next_payment_date"], int)


def test_get_orders_pages_and_orders(account_stack: LocalStack) -> None:
    page = ok(account_stack, "get_orders", offset=1, pagesize=1, orderby="id", order="asc")
    assert [o["id"] for o in page["orders"]] == [46]
    assert (page["total"], page["offset"], page["pagesize"]) == (3, 1, 1)
    newest = ok(account_stack, "get_orders", orderby="id", order="desc", pagesize="2")  # form-style number
    assert [o["id"] for o in newest["orders"]] == [49, 46]


def test_a_renewal_order_shows_the_subscription_it_renewed(account_stack: LocalStack) -> None:
    renewal = {
        "customer_id": 1,
        "status": "processing",
        "line_items": [{"product_id": 13}],
        "meta_data": [{"key": "_subscription_renewal", "value": "501"}],
    }
    created = web.post(f"{account_stack.woocommerce}/_sim/orders", json=renewal, timeout=10).json()
    order = ok(account_stack, "get_orders", single=created["id"])
    assert [s["id"] for s in order["subscriptions"]] == [501]
    assert order["meta_data"] == {}  # the link itself is protected meta


def test_an_empty_page_is_result_false(account_stack: LocalStack) -> None:
    assert ok(account_stack, "get_orders", offset=50) == {"result": False}


def test_single_order(account_stack: LocalStack) -> None:
    order = ok(account_stack, "get_orders", single=46)
    assert order["id"] == 46
    assert order["subscriptions"] == []
    refused(call(account_stack, "get_orders", single=47), 403, "forbidden")
    refused(call(account_stack, "get_orders", single=9999), 404, "unknown_order")


@pytest.mark.parametrize(
    "params",
    [
        {"pagesize": 0},
        {"pagesize": 101},
        {"pagesize": "ten"},
        {"offset": -1},
        {"offset": 1.5},
        {"orderby": "price"},
        {"order": "sideways"},
        {"single": "x"},
        {"single": 0},
        {"single": [45]},
    ],
)
@pytest.mark.parametrize("action", ["get_orders", "get_subscriptions"])
def test_bad_list_params_are_400(account_stack: LocalStack, action: str, params: dict[str, Any]) -> None:
    refused(call(account_stack, action, **params), 400, "validation_error")


def test_get_subscriptions(account_stack: LocalStack) -> None:
    body = ok(account_stack, "get_subscriptions")
    assert [s["id"] for s in body["subscriptions"]] == [501]
    sub = body["subscriptions"][0]
    assert (sub["status"], sub["interval"], sub["customer_id"]) == ("active", "4_week", 1)
    assert all(isinstance(sub[k], int) for k in ("start_date", "next_payment_date", "last_payment_date"))
    assert ok(account_stack, "get_subscriptions", uid=2)["subscriptions"][0]["id"] == 502
    assert ok(account_stack, "get_subscriptions", single=501)["id"] == 501
    refused(call(account_stack, "get_subscriptions", single=502), 403, "forbidden")


def test_get_user_info(account_stack: LocalStack) -> None:
    user = ok(account_stack, "get_user_info")
    assert (user["id"], user["email"], user["first_name"]) == (1, "alice@example.com", "Alice")
    assert user["meta_data"] == {"preferred_language": "fr"}
    assert isinstance(user["date_created"], int)
    assert ok(account_stack, "get_user_info", uid=2)["email"] == "bob@example.com"


def test_get_exchange_products_excludes_what_the_subscription_holds(account_stack: LocalStack) -> None:
    products = ok(account_stack, "get_exchange_products", subscription_id=501)
    assert sorted(p["id"] for p in products) == [14, 15]  # subscription products, not the coffee box it has
    assert {p["type"] for p in products} == {"subscription"}
    assert sorted(p["id"] for p in ok(account_stack, "get_exchange_products", uid=2, subscription_id="502")) == [13, 15]


def test_get_exchange_intervals_excludes_the_current_one(account_stack: LocalStack) -> None:
    intervals = ok(account_stack, "get_exchange_intervals", subscription_id=501)
    assert "4_week" not in intervals
    assert {"1_week", "2_week", "1_month", "2_month"} <= set(intervals)
    assert "1_month" not in ok(account_stack, "get_exchange_intervals", uid=2, subscription_id=502)


def test_get_subscription_delivery_prices_from_the_zone_of_the_address(account_stack: LocalStack) -> None:
    # Alice ships to Paris: the "France" zone. Free shipping needs 50.00 of items; her box is 30.00.
    methods = ok(account_stack, "get_subscription_delivery", subscription_id=501)
    assert [(m["method_id"], m["title"], m["price"]) for m in methods] == [
        ("flat_rate:1", "Colissimo", "5.00"),
        ("local_pickup:3", "Pick up at the shop", "0.00"),
    ]
    assert all(set(m) == {"method_id", "title", "price", "price_html"} for m in methods)
    assert "5.00" in methods[0]["price_html"]
    # Bob ships to Brussels: "Europe" (a continent zone), its disabled express rate left out.
    assert [
        (m["method_id"], m["price"]) for m in ok(account_stack, "get_subscription_delivery", uid=2, subscription_id=502)
    ] == [("flat_rate:4", "12.50")]


@pytest.mark.parametrize("action", ["get_exchange_products", "get_exchange_intervals", "get_subscription_delivery"])
def test_subscription_reads_check_the_id(account_stack: LocalStack, action: str) -> None:
    refused(call(account_stack, action), 400, "validation_error")
    refused(call(account_stack, action, subscription_id="abc"), 400, "validation_error")
    refused(call(account_stack, action, subscription_id=-3), 400, "validation_error")
    refused(call(account_stack, action, subscription_id=9999), 404, "unknown_subscription")
    refused(call(account_stack, action, subscription_id=502), 403, "forbidden")


# ------------------------------------------------------------------ set_user_info
def test_set_user_info_updates_data_and_meta(account_stack: LocalStack) -> None:
    user = ok(
        account_stack,
        "set_user_info",
        meta={"nickname": "ali", "newsletter": True},
        data={"user_email": "alice.new@example.com", "user_password": "correct horse battery", "display_name": "Ali"},
    )
    assert user["email"] == "alice.new@example.com"
    assert user["meta_data"]["nickname"] == "ali"
    assert user["meta_data"]["display_name"] == "Ali"
    stored = woo(account_stack)["customers"]["1"]
    assert stored["email"] == "alice.new@example.com"
    assert stored["_password_hash"]
    assert "password" not in user
    assert "correct horse battery" not in account_stack.log.read_text()


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"data": {}},
        {"data": {"user_email": "not-an-email"}},
        {"data": {"user_password": "short"}},
        {"data": {"user_email": "a@example.com", "account_email": "b@example.com"}},
        {"data": {"role": "administrator"}},
        {"meta": {"_wp_capabilities": "administrator"}},
        {"meta": {"": "x"}},
        {"meta": {"note": {"nested": "object"}}},
        {"meta": {"note": "x" * 2001}},
        {"meta": "nickname=ali"},
    ],
)
def test_set_user_info_refuses_bad_input_and_changes_nothing(account_stack: LocalStack, params: dict[str, Any]) -> None:
    before = woo(account_stack)["customers"]["1"]
    refused(call(account_stack, "set_user_info", **params), 400, "validation_error")
    assert woo(account_stack)["customers"]["1"] == before


# ------------------------------------------------------------------ subscriptions
def test_set_subscription_status_round_trip(account_stack: LocalStack) -> None:
    held = ok(account_stack, "set_subscription_status", subscription_id=501, new_status="on-hold", reason="holiday")
    assert held["status"] == "on-hold"
    assert held["meta_data"]["status_reason"] == "holiday"
    assert ok(account_stack, "set_subscription_status", subscription_id=501, new_status="active")["status"] == "active"
    cancelled = ok(account_stack, "set_subscription_status", subscription_id=501, new_status="cancel", reason="moving")
    assert cancelled["status"] == "pending-cancel"  # the paid period runs to its end
    assert cancelled["meta_data"]["cancel_reason"] == "moving"
    assert subscription(account_stack, 501)["status"] == "pending-cancel"
    again = ok(account_stack, "set_subscription_status", subscription_id=501, new_status="cancel")
    assert again["status"] == "pending-cancel"  # a retry does not end the paid period
    refused(call(account_stack, "set_subscription_status", subscription_id=501, new_status="on-hold"), 409)
    # Reactivated before the paid period ends: the next payment comes back.
    assert ok(account_stack, "set_subscription_status", subscription_id=501, new_status="active")["status"] == "active"


def new_subscription(stack: LocalStack, **fields: Any) -> dict[str, Any]:
    response = web.post(f"{stack.woocommerce}/_sim/subscriptions", json=fields, timeout=10)
    assert response.status_code == 201, response.text
    return dict(response.json())


def gmt_in(delta: timedelta) -> str:
    return (datetime.now(UTC).replace(microsecond=0) + delta).strftime("%Y-%m-%dT%H:%M:%S")


def requests_to(stack: LocalStack, method: str, path: str) -> int:
    log = web.get(f"{stack.woocommerce}/_sim/requests", timeout=10).json()
    return sum(1 for r in log if r["method"] == method and r["path"] == f"/wp-json/wc/v3{path}")


def test_cancel_keeps_the_paid_period(account_stack: LocalStack) -> None:
    paid_until = subscription(account_stack, 501)["next_payment_date_gmt"]
    answer = ok(account_stack, "set_subscription_status", subscription_id=501, new_status="cancel")
    stored = subscription(account_stack, 501)
    assert (stored["status"], stored["end_date_gmt"], stored["next_payment_date_gmt"]) == (
        "pending-cancel",
        paid_until,  # the customer keeps what they paid for
        "",
    )
    assert answer["end_date"] == int(datetime.fromisoformat(paid_until).replace(tzinfo=UTC).timestamp())


def test_cancel_of_an_on_hold_subscription_follows_cancel_order(account_stack: LocalStack) -> None:
    # Put on hold by the customer, nothing unpaid: WC_Subscription::cancel_order() keeps the paid period.
    paid_until = subscription(account_stack, 501)["next_payment_date_gmt"]
    ok(account_stack, "set_subscription_status", subscription_id=501, new_status="on-hold")
    assert ok(account_stack, "set_subscription_status", subscription_id=501, new_status="cancel")["status"] == (
        "pending-cancel"
    )
    assert subscription(account_stack, 501)["end_date_gmt"] == paid_until
    # On hold because its last renewal failed: it needs payment, so the cancel is immediate.
    unpaid = new_subscription(account_stack, customer_id=1, status="on-hold")
    renewal = {
        "customer_id": 1,
        "status": "failed",
        "line_items": [{"product_id": 13}],
        "meta_data": [{"key": "_subscription_renewal", "value": str(unpaid["id"])}],
    }
    web.post(f"{account_stack.woocommerce}/_sim/orders", json=renewal, timeout=10).raise_for_status()
    answer = ok(account_stack, "set_subscription_status", subscription_id=unpaid["id"], new_status="cancel")
    assert answer["status"] == "cancelled"
    assert subscription(account_stack, unpaid["id"])["status"] == "cancelled"


def test_cancel_without_prepaid_time_is_immediate(account_stack: LocalStack) -> None:
    overdue = new_subscription(account_stack, customer_id=1, next_payment_date_gmt=gmt_in(timedelta(days=-2)))
    answer = ok(account_stack, "set_subscription_status", subscription_id=overdue["id"], new_status="cancel")
    assert answer["status"] == "cancelled"


def test_a_refused_transition_is_409_with_woocommerce_words_and_no_retry(account_stack: LocalStack) -> None:
    # PayPal Standard schedules its own payments: WooCommerce Subscriptions will not reactivate a pending
    # cancellation paid with it, and says so only in a note (the HTTP answer is WordPress's generic 500).
    sub = new_subscription(
        account_stack,
        customer_id=1,
        status="pending-cancel",
        payment_method="paypal",
        next_payment_date_gmt="",
        end_date_gmt=gmt_in(timedelta(days=10)),
    )
    web.delete(f"{account_stack.woocommerce}/_sim/requests", timeout=10).raise_for_status()
    body = refused(
        call(account_stack, "set_subscription_status", subscription_id=sub["id"], new_status="active"),
        409,
        "invalid_transition",
    )
    assert 'Unable to change subscription status to "active"' in body["error"]
    assert requests_to(account_stack, "PUT", f"/subscriptions/{sub['id']}") == 1  # sent once, never blindly again
    assert subscription(account_stack, sub["id"])["status"] == "pending-cancel"


def test_a_transition_known_to_be_invalid_is_409_without_a_write(account_stack: LocalStack) -> None:
    ended = new_subscription(account_stack, customer_id=1, status="on-hold", end_date_gmt=gmt_in(timedelta(days=-1)))
    web.delete(f"{account_stack.woocommerce}/_sim/requests", timeout=10).raise_for_status()
    refused(
        call(account_stack, "set_subscription_status", subscription_id=ended["id"], new_status="active"),
        409,
        "invalid_transition",
    )
    assert requests_to(account_stack, "PUT", f"/subscriptions/{ended['id']}") == 0


@pytest.mark.parametrize("new_status", ["cancelled", "expired", "ACTIVE", "", None])
def test_set_subscription_status_refuses_unknown_statuses(account_stack: LocalStack, new_status: Any) -> None:
    refused(call(account_stack, "set_subscription_status", subscription_id=501, new_status=new_status), 400)
    assert subscription(account_stack, 501)["status"] == "active"


def test_set_next_delivery_date(account_stack: LocalStack) -> None:
    before = subscription(account_stack, 501)["next_payment_date_gmt"]
    day = date.today() + timedelta(days=20)
    sub = ok(account_stack, "set_next_delivery_date", subscription_id=501, new_date=day.isoformat())
    assert datetime.fromtimestamp(sub["next_payment_date"], UTC).date() == day
    stored = subscription(account_stack, 501)["next_payment_date_gmt"]
    assert stored == f"{day.isoformat()}T{before[11:]}"  # moved in the shop, time of day kept
    log = web.get(f"{account_stack.woocommerce}/_sim/requests", timeout=10).json()
    calls = [r["method"] for r in log if r["path"] == "/wp-json/wc/v3/subscriptions/501"]
    assert calls == ["GET", "PUT", "GET"]  # ownership, the write, and the read back that confirms it


def test_set_next_delivery_date_stays_before_the_end(account_stack: LocalStack) -> None:
    ending = new_subscription(account_stack, customer_id=1, end_date_gmt=gmt_in(timedelta(days=15)))
    day = (date.today() + timedelta(days=30)).isoformat()
    refused(call(account_stack, "set_next_delivery_date", subscription_id=ending["id"], new_date=day), 400, "bad_date")
    assert subscription(account_stack, ending["id"])["next_payment_date_gmt"] == ending["next_payment_date_gmt"]


@pytest.mark.parametrize(
    "new_date",
    [(date.today() - timedelta(days=1)).isoformat(), "2027/01/15", "2027-02-30", "15-01-2027", "soon", 20270115, None],
)
def test_set_next_delivery_date_refuses_bad_days(account_stack: LocalStack, new_date: Any) -> None:
    before = subscription(account_stack, 501)["next_payment_date_gmt"]
    refused(call(account_stack, "set_next_delivery_date", subscription_id=501, new_date=new_date), 400)
    assert subscription(account_stack, 501)["next_payment_date_gmt"] == before


def test_set_new_interval(account_stack: LocalStack) -> None:
    sub = ok(account_stack, "set_new_interval", subscription_id=501, new_interval="2_month")
    assert (sub["billing_period"], sub["billing_interval"], sub["interval"]) == ("month", "2", "2_month")
    stored = subscription(account_stack, 501)
    assert (stored["billing_period"], stored["billing_interval"]) == ("month", "2")
    same = ok(account_stack, "set_new_interval", subscription_id=501, new_interval="2_month")
    assert same["interval"] == "2_month"


@pytest.mark.parametrize(
    ("new_interval", "code"),
    [
        ("0_week", "validation_error"),
        ("2_fortnight", "validation_error"),
        ("week", "validation_error"),
        ("9_year", "bad_interval"),
    ],
)
def test_set_new_interval_refuses_what_is_not_offered(account_stack: LocalStack, new_interval: str, code: str) -> None:
    refused(call(account_stack, "set_new_interval", subscription_id=501, new_interval=new_interval), 400, code)
    assert subscription(account_stack, 501)["billing_period"] == "week"


def test_set_subscription_info(account_stack: LocalStack) -> None:
    sub = ok(account_stack, "set_subscription_info", subscription_id=501, info={"door_code": "1234"})
    assert sub["meta_data"] == {"door_code": "1234"}
    assert meta(subscription(account_stack, 501)) == {"door_code": "1234"}
    refused(call(account_stack, "set_subscription_info", subscription_id=501, info={}), 400)
    refused(call(account_stack, "set_subscription_info", subscription_id=501, info={"_edit_lock": "1"}), 400)


def test_set_subscription_delivery_recalculates_totals(account_stack: LocalStack) -> None:
    assert subscription(account_stack, 501)["total"] == "35.00"  # 30.00 + 5.00 Colissimo
    sub = ok(account_stack, "set_subscription_delivery", subscription_id=501, method_id="local_pickup:3")
    line = sub["shipping_lines"][0]
    assert (line["method_id"], line["instance_id"], line["total"]) == ("local_pickup", "3", "0.00")
    assert (sub["shipping_total"], sub["total"]) == ("0.00", "30.00")
    assert subscription(account_stack, 501)["total"] == "30.00"
    back = ok(account_stack, "set_subscription_delivery", subscription_id=501, method_id="flat_rate")  # one rate
    assert (back["shipping_lines"][0]["total"], back["total"]) == ("5.00", "35.00")
    assert len(subscription(account_stack, 501)["shipping_lines"]) == 1
    refused(
        call(account_stack, "set_subscription_delivery", subscription_id=501, method_id="teleport"), 400, "bad_method"
    )
    refused(call(account_stack, "set_subscription_delivery", subscription_id=501, method_id="a b"), 400)


def test_delivery_change_takes_the_price_of_the_matching_zone(account_stack: LocalStack) -> None:
    berlin = {"first_name": "Alice", "last_name": "Martin", "city": "Berlin", "postcode": "10115", "country": "DE"}
    sub = new_subscription(account_stack, customer_id=1, shipping=berlin)  # a 30.00 box, sold with Colissimo 5.00
    methods = ok(account_stack, "get_subscription_delivery", subscription_id=sub["id"])
    assert [(m["method_id"], m["price"]) for m in methods] == [("flat_rate:4", "12.50")]
    # The French rates are not this address's: refused, nothing written.
    refused(
        call(account_stack, "set_subscription_delivery", subscription_id=sub["id"], method_id="local_pickup:3"), 400
    )
    changed = ok(account_stack, "set_subscription_delivery", subscription_id=sub["id"], method_id="flat_rate:4")
    stored = subscription(account_stack, sub["id"])
    assert [
        (sl["method_id"], sl["instance_id"], sl["method_title"], sl["total"]) for sl in stored["shipping_lines"]
    ] == [("flat_rate", "4", "Europe standard", "12.50")]
    assert (stored["shipping_total"], stored["total"]) == ("12.50", "42.50")
    assert changed["total"] == "42.50"


def test_delivery_elsewhere_falls_back_to_the_rest_of_the_world_zone(account_stack: LocalStack) -> None:
    boston = {"first_name": "Alice", "city": "Boston", "state": "MA", "postcode": "02108", "country": "US"}
    sub = new_subscription(account_stack, customer_id=1, shipping=boston)
    methods = ok(account_stack, "get_subscription_delivery", subscription_id=sub["id"])
    assert [(m["method_id"], m["title"], m["price"]) for m in methods] == [("flat_rate:6", "International", "30.00")]


def test_free_shipping_is_offered_from_its_minimum_amount(account_stack: LocalStack) -> None:
    big = new_subscription(account_stack, customer_id=1, product_ids=[13, 14])  # 30.00 + 28.00 to Paris
    methods = ok(account_stack, "get_subscription_delivery", subscription_id=big["id"])
    assert ("free_shipping:2", "0.00") in [(m["method_id"], m["price"]) for m in methods]
    sub = ok(account_stack, "set_subscription_delivery", subscription_id=big["id"], method_id="free_shipping:2")
    assert (sub["shipping_total"], sub["total"]) == ("0.00", "58.00")


def test_set_order_info(account_stack: LocalStack) -> None:
    order = ok(account_stack, "set_order_info", order_id=46, info={"gift_note": "Happy birthday"})
    assert order["meta_data"] == {"gift_note": "Happy birthday"}
    assert meta(woo(account_stack)["orders"]["46"]) == {"gift_note": "Happy birthday"}
    refused(call(account_stack, "set_order_info", order_id=46), 400, "validation_error")
    refused(call(account_stack, "set_order_info", order_id="x", info={"a": "b"}), 400, "validation_error")
    refused(call(account_stack, "set_order_info", order_id=9999, info={"a": "b"}), 404, "unknown_order")


# ------------------------------------------------------------------ another customer's things
@pytest.mark.parametrize(
    ("action", "params"),
    [
        ("set_order_info", {"order_id": 47, "info": {"hacked": "yes"}}),
        ("set_subscription_info", {"subscription_id": 502, "info": {"hacked": "yes"}}),
        ("set_subscription_status", {"subscription_id": 502, "new_status": "cancel"}),
        ("set_next_delivery_date", {"subscription_id": 502, "new_date": "2030-01-01"}),
        ("set_new_interval", {"subscription_id": 502, "new_interval": "1_week"}),
        ("set_subscription_delivery", {"subscription_id": 502, "method_id": "free_shipping"}),
        ("get_orders", {"single": 48}),
        ("get_subscriptions", {"single": 502}),
    ],
)
def test_another_customers_objects_are_403_and_unchanged(
    account_stack: LocalStack, action: str, params: dict[str, Any]
) -> None:
    before = woo(account_stack)
    body = refused(call(account_stack, action, uid=1, **params), 403, "forbidden")
    assert "bob" not in str(body).lower()
    after = woo(account_stack)
    assert after["orders"] == before["orders"]
    assert after["subscriptions"] == before["subscriptions"]


# ------------------------------------------------------------------ mail and describe
def sent_mails(stack: LocalStack) -> list[dict[str, Any]]:
    data = web.get(f"{stack.ses}/moto-api/data.json", timeout=10).json()
    return list(data.get("ses", {}).get("Message", []))


def test_send_mail_reaches_the_merchant(account_stack: LocalStack) -> None:
    before = len(sent_mails(account_stack))
    answer = ok(
        account_stack,
        "send_mail",
        **{"from": "alice@example.com", "topic": "Delivery\r\nBcc: everyone@example.com", "content": "Where is it?"},
    )
    assert answer == {"result": True}
    mails = sent_mails(account_stack)
    assert len(mails) == before + 1
    mail = mails[-1]
    assert mail["destinations"]["ToAddresses"] == ["shop-admin@example.com"]
    assert mail["source"] == "no-reply@example.com"
    assert mail["subject"] == "[Account] Delivery Bcc: everyone@example.com"  # one header line, nothing injected
    assert "Customer #1 <alice@example.com>" in mail["body"]
    assert "reply goes to alice@example.com" in mail["body"]
    assert "Where is it?" in mail["body"]


@pytest.mark.parametrize(
    "params",
    [
        {"from": "not-an-address", "topic": "t", "content": "c"},
        {"topic": "t", "content": "c"},
        {"from": "a@example.com", "content": "c"},
        {"from": "a@example.com", "topic": "", "content": "c"},
        {"from": "a@example.com", "topic": "t", "content": ""},
        {"from": "a@example.com", "topic": "t" * 201, "content": "c"},
    ],
)
def test_send_mail_refuses_bad_input_and_sends_nothing(account_stack: LocalStack, params: dict[str, Any]) -> None:
    before = len(sent_mails(account_stack))
    refused(call(account_stack, "send_mail", **params), 400, "validation_error")
    assert len(sent_mails(account_stack)) == before


def test_send_mail_is_limited_per_customer_and_hour(account_stack: LocalStack) -> None:
    message = {"from": "bob@example.com", "topic": "Hi", "content": "Hello"}
    for _ in range(MAIL_LIMIT):
        assert ok(account_stack, "send_mail", uid=2, **message) == {"result": True}
    before = len(sent_mails(account_stack))
    refused(call(account_stack, "send_mail", uid=2, **message), 429, "too_many_mails")
    assert len(sent_mails(account_stack)) == before
    assert call(account_stack, "describe", uid=2).status_code == 200  # only mail is limited


def test_describe_lists_every_action_with_its_params(account_stack: LocalStack) -> None:
    actions = {a["action"]: a for a in ok(account_stack, "describe")["actions"]}
    assert set(actions) == {
        "get_orders",
        "get_subscriptions",
        "get_user_info",
        "get_exchange_products",
        "get_exchange_intervals",
        "get_subscription_delivery",
        "set_user_info",
        "set_subscription_status",
        "set_next_delivery_date",
        "set_new_interval",
        "set_order_info",
        "set_subscription_info",
        "set_subscription_delivery",
        "send_mail",
        "describe",
    }
    status = {p["name"]: p for p in actions["set_subscription_status"]["params"]}
    assert status["subscription_id"]["required"] is True
    assert status["new_status"]["enum"] == ["active", "on-hold", "cancel"]
    assert status["reason"]["required"] is False
    assert {p["name"] for p in actions["send_mail"]["params"]} == {"from", "topic", "content"}
    assert {p["name"] for p in actions["get_orders"]["params"]} == {"offset", "pagesize", "orderby", "order", "single"}


def test_describe_needs_a_signature_too(account_stack: LocalStack) -> None:
    response = web.post(f"{account_stack.api}/account/v1", json={"action": "describe"}, timeout=30)
    refused(response, 401)


def test_woocommerce_down_is_503_in_the_account_shape(account_stack: LocalStack) -> None:
    rules = [{"method": "GET", "path": "/wp-json/wc/v3/customers/1", "mode": "500", "times": 10}]
    account_stack.set_faults("woocommerce", rules=rules)
    try:
        refused(call(account_stack, "get_user_info"), 503, "upstream_unavailable")
    finally:
        account_stack.clear_faults("woocommerce")


def test_the_browser_app_may_call_from_another_origin(account_stack: LocalStack) -> None:
    origin = "http://localhost:5173"
    preflight = httpx.options(
        f"{account_stack.api}/account/v1",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=30,
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] in ("*", origin)
    answer = web.post(
        f"{account_stack.api}/account/v1",
        json={**mint_account_credentials(1, 1, SECRET), "action": "describe"},
        headers={"Origin": origin},
        timeout=30,
    )
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] in ("*", origin)


def test_logs_hold_no_signature_nonce_or_password(account_stack: LocalStack) -> None:
    creds = mint_account_credentials(1, 1, SECRET)
    body = {**creds, "action": "set_user_info", "data": {"user_password": "a-very-secret-pass"}}
    assert web.post(f"{account_stack.api}/account/v1", json=body, timeout=30).status_code == 200
    bad = {**creds, "signature": "f" * 64, "action": "get_user_info"}
    assert web.post(f"{account_stack.api}/account/v1", json=bad, timeout=30).status_code == 401
    log = account_stack.log.read_text()
    assert creds["signature"] not in log
    assert creds["nonce"] not in log
    assert "a-very-secret-pass" not in log
    assert SECRET not in log
