"""Promo codes end to end: intervals, automatic quotes and admin codes, kept in step in three places.

The promo stack of this module has no interval cache (``PROMO_INTERVALS_CACHE_SECONDS=0``) so that a
change in the Topomer simulator is seen by the next request.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e import web
from tests.e2e.conftest import LocalStack, start_stack

INTERVALS = [
    {"min": "50.00", "max": "100.00", "pourcentage": "5"},
    {"min": "100.00", "max": "250.00", "pourcentage": "10"},
    {"min": "250.00", "max": None, "pourcentage": "15"},
]
WOO_COUPONS = "/wp-json/wc/v3/coupons"
TOPOMER_PROMOS = "/api/plugin/promos"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """This module's own stack (intervals never cached); the conftest's ``api`` and ``admin`` talk to it."""
    workdir: Path = tmp_path_factory.mktemp("promo")
    with start_stack(workdir, {"PROMO_INTERVALS_CACHE_SECONDS": "0"}) as running:
        yield running


@pytest.fixture(scope="module", autouse=True, params=["ok", "object", "created", "empty"])
def topomer_answer_style(request: pytest.FixtureRequest, stack: LocalStack) -> Iterator[str]:
    """The whole module runs under every way Topomer may answer a write (nothing promised one)."""
    with stack.answer_style(request.param):
        yield str(request.param)


@pytest.fixture(autouse=True)
def clean_upstreams(stack: LocalStack) -> Iterator[None]:
    yield
    stack.clear_faults()
    web.put(f"{stack.topomer}/_sim/intervals", json=INTERVALS, timeout=10).raise_for_status()


def quote(api: httpx.Client, total: str, cart_id: str | None = None, **extra: Any) -> httpx.Response:
    body = {"cart_id": cart_id or f"cart-{secrets.token_hex(6)}", "cart_total": total, "currency": "EUR", **extra}
    return api.post("/promo/v1/auto", json=body)


def coupon(stack: LocalStack, code: str) -> list[dict[str, Any]]:
    return [c for c in stack.woo_state()["coupons"].values() if c["code"] == code.lower()]


def topomer_promos(stack: LocalStack, code: str) -> list[dict[str, Any]]:
    return [p for p in stack.topomer_state()["promos"].values() if p["code"] == code]


def fault(stack: LocalStack, upstream: str, method: str, path: str, mode: str = "500", times: int = 5) -> None:
    rules = [{"method": method, "path": path, "mode": mode, "times": times}]
    stack.set_faults(upstream, rules=rules)


def future(days: int = 30) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_code() -> str:
    return f"E2E-{secrets.token_hex(4).upper()}"


# ------------------------------------------------------------------ intervals
def test_intervals_are_normalized_and_sorted(stack: LocalStack, api: httpx.Client) -> None:
    shuffled = [INTERVALS[2], INTERVALS[0], {"min": "100", "max": "250.0", "pourcentage": "10.00"}]
    web.put(f"{stack.topomer}/_sim/intervals", json=shuffled, timeout=10).raise_for_status()
    body = api.get("/promo/v1/intervals").json()
    assert body == {
        "intervals": [
            {"min": "50.00", "max": "100.00", "percentage": "5"},
            {"min": "100.00", "max": "250.00", "percentage": "10"},
            {"min": "250.00", "max": None, "percentage": "15"},
        ],
        "stale": False,
    }


def test_topomer_down_serves_the_last_good_intervals_as_stale(stack: LocalStack, api: httpx.Client) -> None:
    assert api.get("/promo/v1/intervals").json()["stale"] is False
    fault(stack, "topomer", "GET", "/api/interval-prix", times=100)
    body = api.get("/promo/v1/intervals").json()
    assert body["stale"] is True
    assert [i["percentage"] for i in body["intervals"]] == ["5", "10", "15"]
    answer = quote(api, "120.00")
    assert answer.status_code == 201
    assert (answer.json()["percentage"], answer.json()["stale"]) == ("10", True)


@pytest.mark.parametrize(
    "bad",
    [
        [{"min": "0", "max": "100", "pourcentage": "5"}, {"min": "90", "max": None, "pourcentage": "10"}],
        [{"min": "0", "max": "100", "pourcentage": "0"}],
        [{"min": "0", "max": "100", "pourcentage": "100.5"}],
        [{"min": "100", "max": "50", "pourcentage": "5"}],
        [{"min": "oops", "max": None, "pourcentage": "5"}],
    ],
    ids=["overlap", "zero-percent", "over-100", "bounds-reversed", "not-a-number"],
)
def test_invalid_intervals_keep_the_last_good_copy(
    stack: LocalStack, api: httpx.Client, bad: list[dict[str, Any]]
) -> None:
    good = api.get("/promo/v1/intervals").json()
    assert good["stale"] is False
    logged = stack.log.read_text().count("price intervals unusable")
    web.put(f"{stack.topomer}/_sim/intervals", json=bad, timeout=10).raise_for_status()
    body = api.get("/promo/v1/intervals").json()
    assert body == {"intervals": good["intervals"], "stale": True}
    assert stack.log.read_text().count("price intervals unusable") > logged


# ------------------------------------------------------------------ automatic quotes
@pytest.mark.parametrize(
    ("total", "percentage", "discount", "minimum"),
    [
        ("50.00", "5", "2.50", "50.00"),  # exactly on the first lower bound
        ("99.99", "5", "5.00", "50.00"),  # just below the next bound
        ("100.00", "10", "10.00", "100.00"),  # exactly on a bound: the upper interval
        ("249.99", "10", "25.00", "100.00"),
        ("250", "15", "37.50", "250.00"),
        ("1000.00", "15", "150.00", "250.00"),  # above the last, open interval
        (333, "15", "49.95", "250.00"),  # a whole number may come as a JSON integer
    ],
)
def test_quote_finds_the_interval_holding_the_total(
    stack: LocalStack, api: httpx.Client, total: Any, percentage: str, discount: str, minimum: str
) -> None:
    response = quote(api, total)
    assert response.status_code == 201
    body = response.json()
    assert (body["eligible"], body["percentage"], body["discount"], body["minimum_amount"]) == (
        True,
        percentage,
        discount,
        minimum,
    )
    assert body["code"].startswith("TPM-")
    assert len(body["code"]) == 14
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(hours=47) < expires - datetime.now(UTC) <= timedelta(hours=48)
    [made] = coupon(stack, body["code"])
    assert (made["discount_type"], made["amount"], made["usage_limit"], made["individual_use"]) == (
        "percent",
        percentage,
        1,
        True,
    )
    assert made["minimum_amount"] == minimum
    assert made["status"] == "publish"
    [registered] = topomer_promos(stack, body["code"])
    assert (registered["percentage"], registered["type"]) == (percentage, "auto")


@pytest.mark.parametrize("total", ["49.99", "0", "0.00"])
def test_no_interval_is_not_eligible(stack: LocalStack, api: httpx.Client, total: str) -> None:
    before = len(stack.woo_state()["coupons"])
    response = quote(api, total)
    assert response.status_code == 200
    assert response.json() == {"eligible": False, "stale": False}
    assert len(stack.woo_state()["coupons"]) == before


def test_email_restricts_the_coupon(stack: LocalStack, api: httpx.Client) -> None:
    body = quote(api, "120.00", email="buyer@example.com").json()
    [made] = coupon(stack, body["code"])
    assert made["email_restrictions"] == ["buyer@example.com"]


def test_same_cart_same_interval_gets_the_same_code(stack: LocalStack, api: httpx.Client) -> None:
    cart = f"cart-idem-{secrets.token_hex(4)}"  # fresh per run: the module runs once per Topomer answer style
    first = quote(api, "120.00", cart_id=cart)
    again = quote(api, "180.00", cart_id=cart)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["code"] == first.json()["code"]
    assert again.json()["discount"] == "18.00"  # the discount follows the current total
    assert len(coupon(stack, first.json()["code"])) == 1
    assert len(topomer_promos(stack, first.json()["code"])) == 1


def test_moved_total_gets_a_new_code_and_disables_the_old_coupon(stack: LocalStack, api: httpx.Client) -> None:
    cart = f"cart-moved-{secrets.token_hex(4)}"
    old = quote(api, "120.00", cart_id=cart).json()
    new = quote(api, "300.00", cart_id=cart)
    assert new.status_code == 201
    assert new.json()["code"] != old["code"]
    assert new.json()["percentage"] == "15"
    [retired] = coupon(stack, old["code"])
    assert retired["status"] == "draft"
    # date_expires is in the shop's time zone; date_expires_gmt is the instant.
    assert datetime.fromisoformat(retired["date_expires_gmt"]).replace(tzinfo=UTC) <= datetime.now(UTC)
    assert coupon(stack, new.json()["code"])[0]["status"] == "publish"
    [registered] = topomer_promos(stack, old["code"])
    assert registered["active"] is False


def test_total_dropping_below_every_interval_retires_the_code(stack: LocalStack, api: httpx.Client) -> None:
    cart = f"cart-drop-{secrets.token_hex(4)}"
    old = quote(api, "120.00", cart_id=cart).json()
    assert quote(api, "20.00", cart_id=cart).json()["eligible"] is False
    assert coupon(stack, old["code"])[0]["status"] == "draft"


def test_concurrent_quotes_of_one_cart_make_one_code(stack: LocalStack, api: httpx.Client) -> None:
    from concurrent.futures import ThreadPoolExecutor

    cart = f"cart-race-{secrets.token_hex(4)}"

    def one(_: int) -> str:
        with stack.client as client:
            return str(quote(client, "150.00", cart_id=cart).json()["code"])

    with ThreadPoolExecutor(8) as pool:
        codes = set(pool.map(one, range(8)))
    assert len(codes) == 1
    assert len(coupon(stack, codes.pop())) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"cart_total": "120.00", "currency": "EUR"},
        {"cart_id": "c1", "currency": "EUR"},
        {"cart_id": "c1", "cart_total": "120.00"},
        {"cart_id": "c1", "cart_total": "-1", "currency": "EUR"},
        {"cart_id": "c1", "cart_total": "12.345", "currency": "EUR"},
        {"cart_id": "c1", "cart_total": "abc", "currency": "EUR"},
        {"cart_id": "c1", "cart_total": "1e3", "currency": "EUR"},
        {"cart_id": "c1", "cart_total": 12.5, "currency": "EUR"},
        {"cart_id": "c1", "cart_total": "120", "currency": "euro"},
        {"cart_id": "c1", "cart_total": "120", "currency": "EUR", "email": "not-an-email"},
        {"cart_id": "c 1", "cart_total": "120", "currency": "EUR"},
        {"cart_id": "c1", "cart_total": "120", "currency": "EUR", "coupon": "FREE"},
    ],
    ids=[
        "no-cart",
        "no-total",
        "no-currency",
        "negative",
        "three-decimals",
        "text",
        "exponent",
        "float",
        "currency",
        "email",
        "cart-id",
        "extra-field",
    ],
)
def test_bad_quotes_are_400_and_create_nothing(stack: LocalStack, api: httpx.Client, body: dict[str, Any]) -> None:
    before = len(stack.woo_state()["coupons"])
    response = api.post("/promo/v1/auto", json=body)
    assert response.status_code == 400, response.text
    assert set(response.json()["error"]) == {"code", "message"}
    assert len(stack.woo_state()["coupons"]) == before


def test_malformed_json_quote_is_400(api: httpx.Client) -> None:
    response = api.post("/promo/v1/auto", content=b"{nope", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "error" in response.json()


# ------------------------------------------------------------------ admin codes
def test_admin_creates_reads_updates_and_deactivates_a_code(stack: LocalStack, admin: httpx.Client) -> None:
    name = new_code()
    created = admin.post(
        "/promo/v1/codes",
        json={"code": name.lower(), "percentage": "12.5", "expires_at": future(), "usage_limit": 3},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["code"], body["percentage"], body["type"], body["active"], body["version"]) == (
        name,
        "12.5",
        "manual",
        True,
        1,
    )
    assert body["sync"]["woocommerce"]["status"] == body["sync"]["topomer"]["status"] == "synced"
    [made] = coupon(stack, name)
    assert (made["amount"], made["usage_limit"], made["individual_use"], made["status"]) == (
        "12.5",
        3,
        False,
        "publish",
    )
    [registered] = topomer_promos(stack, name)
    assert (registered["percentage"], registered["type"]) == ("12.5", "manual")

    assert admin.get(f"/promo/v1/codes/{name.lower()}").json()["code"] == name

    patched = admin.patch(f"/promo/v1/codes/{name}", json={"percentage": 20, "usage_limit": 10})
    assert patched.status_code == 200
    assert (patched.json()["percentage"], patched.json()["usage_limit"], patched.json()["version"]) == ("20", 10, 2)
    [made] = coupon(stack, name)
    assert (made["amount"], made["usage_limit"]) == ("20", 10)
    [registered] = topomer_promos(stack, name)
    assert registered["percentage"] == "20"

    deleted = admin.delete(f"/promo/v1/codes/{name}")
    assert deleted.status_code == 200
    assert deleted.json()["active"] is False
    assert admin.get(f"/promo/v1/codes/{name}").json()["active"] is False  # the record stays
    assert coupon(stack, name)[0]["status"] == "draft"
    assert topomer_promos(stack, name)[0]["active"] is False


def test_patch_that_changes_nothing_keeps_the_version(admin: httpx.Client) -> None:
    name = new_code()
    admin.post("/promo/v1/codes", json={"code": name, "percentage": "7"}).raise_for_status()
    same = admin.patch(f"/promo/v1/codes/{name}", json={"percentage": "7.00"})
    assert same.status_code == 200
    assert same.json()["version"] == 1


def test_list_filters_and_pages_with_a_cursor(stack: LocalStack, api: httpx.Client, admin: httpx.Client) -> None:
    names = [new_code() for _ in range(5)]
    for name in names:
        admin.post("/promo/v1/codes", json={"code": name, "percentage": "5"}).raise_for_status()
    admin.delete(f"/promo/v1/codes/{names[0]}").raise_for_status()
    quote(api, "120.00")

    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, "type": "manual"}
        if cursor:
            params["cursor"] = cursor
        page = admin.get("/promo/v1/codes", params=params).json()
        assert len(page["items"]) <= 2
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    codes = [item["code"] for item in seen]
    assert len(codes) == len(set(codes))
    assert set(names) <= set(codes)
    assert {item["type"] for item in seen} == {"manual"}
    created = [item["created_at"] for item in seen]
    assert created == sorted(created, reverse=True)  # newest first

    inactive = admin.get("/promo/v1/codes", params={"active": "false", "type": "manual", "limit": 100}).json()
    assert names[0] in [item["code"] for item in inactive["items"]]
    assert all(item["active"] is False for item in inactive["items"])
    autos = admin.get("/promo/v1/codes", params={"type": "auto", "limit": 5}).json()
    assert autos["items"]
    assert {item["type"] for item in autos["items"]} == {"auto"}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"code": "AB", "percentage": "5"}, "invalid_code"),
        ({"code": "A" * 33, "percentage": "5"}, "invalid_code"),
        ({"code": "BAD CODE", "percentage": "5"}, "invalid_code"),
        ({"code": "BAD_CODE", "percentage": "5"}, "invalid_code"),
        ({"code": "ÉTÉ-2026", "percentage": "5"}, "invalid_code"),
        ({"code": "OK-CODE", "percentage": "0"}, "invalid_percentage"),
        ({"code": "OK-CODE", "percentage": "-5"}, "invalid_percentage"),
        ({"code": "OK-CODE", "percentage": "101"}, "invalid_percentage"),
        ({"code": "OK-CODE", "percentage": "1.001"}, "invalid_percentage"),
        ({"code": "OK-CODE", "percentage": "NaN"}, "invalid_percentage"),
        ({"code": "OK-CODE", "percentage": 12.5}, "validation_error"),
        ({"code": "OK-CODE"}, "validation_error"),
        ({"percentage": "5"}, "validation_error"),
        ({"code": "OK-CODE", "percentage": "5", "expires_at": "2020-01-01T00:00:00Z"}, "invalid_expiry"),
        ({"code": "OK-CODE", "percentage": "5", "expires_at": "2999-01-01T00:00:00"}, "invalid_expiry"),
        ({"code": "OK-CODE", "percentage": "5", "expires_at": "tomorrow"}, "validation_error"),
        ({"code": "OK-CODE", "percentage": "5", "usage_limit": 0}, "validation_error"),
        ({"code": "OK-CODE", "percentage": "5", "type": "gift"}, "validation_error"),
        ({"code": "OK-CODE", "percentage": "5", "active": "yes"}, "validation_error"),
        ({"code": "OK-CODE", "percentage": "5", "discount": "9"}, "validation_error"),
    ],
)
def test_invalid_codes_are_rejected_and_nothing_is_stored(
    stack: LocalStack, admin: httpx.Client, body: dict[str, Any], code: str
) -> None:
    coupons = len(stack.woo_state()["coupons"])
    response = admin.post("/promo/v1/codes", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == code
    assert admin.get("/promo/v1/codes/OK-CODE").status_code == 404
    assert len(stack.woo_state()["coupons"]) == coupons


@pytest.mark.parametrize(
    "body",
    [
        {"percentage": "0"},
        {"percentage": "100.01"},
        {"expires_at": "2020-01-01T00:00:00Z"},
        {"usage_limit": -1},
        {"code": "RENAMED"},
        {"active": 1},
    ],
)
def test_invalid_patches_change_nothing(admin: httpx.Client, body: dict[str, Any]) -> None:
    name = new_code()
    admin.post("/promo/v1/codes", json={"code": name, "percentage": "8"}).raise_for_status()
    response = admin.patch(f"/promo/v1/codes/{name}", json=body)
    assert response.status_code == 400, response.text
    after = admin.get(f"/promo/v1/codes/{name}").json()
    assert (after["percentage"], after["version"], after["active"]) == ("8", 1, True)


def test_duplicate_code_is_409_whatever_the_case(admin: httpx.Client) -> None:
    name = new_code()
    assert admin.post("/promo/v1/codes", json={"code": name, "percentage": "5"}).status_code == 201
    again = admin.post("/promo/v1/codes", json={"code": name.lower(), "percentage": "9"})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "duplicate_code"
    assert admin.get(f"/promo/v1/codes/{name}").json()["percentage"] == "5"


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_unknown_code_is_404(admin: httpx.Client, method: str) -> None:
    response = admin.request(method, "/promo/v1/codes/NO-SUCH-CODE", json={"percentage": "5"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_code"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-key"},
        {"Authorization": "Basic bG9jYWwtYWRtaW4tYXBpLWtleQ=="},
        {"Authorization": "local-admin-api-key"},
        {"Authorization": "Bearer"},
    ],
    ids=["missing", "wrong", "basic", "no-scheme", "empty"],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/promo/v1/codes"),
        ("POST", "/promo/v1/codes"),
        ("GET", "/promo/v1/codes/ANY-CODE"),
        ("PATCH", "/promo/v1/codes/ANY-CODE"),
        ("DELETE", "/promo/v1/codes/ANY-CODE"),
    ],
)
def test_admin_routes_need_the_admin_key(stack: LocalStack, headers: dict[str, str], method: str, path: str) -> None:
    with stack.client as client:
        response = client.request(method, path, headers=headers, json={"code": "SNEAKY", "percentage": "90"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert not coupon(stack, "SNEAKY")


# ------------------------------------------------------------------ upstream failures and the retry
@pytest.mark.parametrize(
    ("upstream", "method", "path", "mode"),
    [
        ("woocommerce", "POST", WOO_COUPONS, "500"),
        ("woocommerce", "POST", WOO_COUPONS, "drop"),  # created, answer lost: found again, not duplicated
        ("woocommerce", "POST", WOO_COUPONS, "malformed"),
        ("topomer", "POST", TOPOMER_PROMOS, "500"),
        # A Topomer create whose answer was lost ("drop", "timeout") is no longer sent again: Topomer has no
        # lookup by code and may keep every create, so it is parked for a person (test_topomer_contract.py).
    ],
)
def test_a_side_failing_during_create_is_completed_by_the_sync(
    stack: LocalStack, admin: httpx.Client, upstream: str, method: str, path: str, mode: str
) -> None:
    name = new_code()
    fault(stack, upstream, method, path, mode, times=1 if mode == "timeout" else 10)
    created = admin.post("/promo/v1/codes", json={"code": name, "percentage": "11"})
    assert created.status_code == 201  # recorded: the failing side waits for the sync
    shown = admin.get(f"/promo/v1/codes/{name}").json()["sync"][upstream]
    assert shown["status"] == "pending"
    assert shown["attempts"] >= 1
    assert shown["last_error"]
    other = "topomer" if upstream == "woocommerce" else "woocommerce"
    assert admin.get(f"/promo/v1/codes/{name}").json()["sync"][other]["status"] == "synced"

    stack.clear_faults(upstream)
    result = stack.run_schedule("PromoSyncFunction")
    assert result["result"]["counts"]["pending"] == 0, result
    synced = admin.get(f"/promo/v1/codes/{name}").json()["sync"]
    assert synced["woocommerce"]["status"] == synced["topomer"]["status"] == "synced"
    assert len(coupon(stack, name)) == 1
    assert len(topomer_promos(stack, name)) == 1
    assert coupon(stack, name)[0]["amount"] == "11"


def test_an_update_while_a_side_is_down_reaches_it_later(stack: LocalStack, admin: httpx.Client) -> None:
    name = new_code()
    admin.post("/promo/v1/codes", json={"code": name, "percentage": "5"}).raise_for_status()
    fault(stack, "woocommerce", "PUT", f"{WOO_COUPONS}/*", times=100)
    fault(stack, "topomer", "PUT", f"{TOPOMER_PROMOS}/*", times=100)
    admin.patch(f"/promo/v1/codes/{name}", json={"percentage": "25"}).raise_for_status()
    admin.delete(f"/promo/v1/codes/{name}").raise_for_status()
    pending = admin.get(f"/promo/v1/codes/{name}").json()["sync"]
    assert pending["woocommerce"]["status"] == pending["topomer"]["status"] == "pending"
    assert coupon(stack, name)[0]["amount"] == "5"

    stack.run_schedule("PromoSyncFunction")  # still down: stays pending, attempts grow
    assert admin.get(f"/promo/v1/codes/{name}").json()["sync"]["topomer"]["status"] == "pending"

    stack.clear_faults()
    stack.run_schedule("PromoSyncFunction")
    done = admin.get(f"/promo/v1/codes/{name}").json()
    assert done["sync"]["woocommerce"]["status"] == done["sync"]["topomer"]["status"] == "synced"
    [made] = coupon(stack, name)
    assert (made["amount"], made["status"]) == ("25", "draft")
    [registered] = topomer_promos(stack, name)
    assert (registered["percentage"], registered["active"]) == ("25", False)


def test_auto_quote_survives_woocommerce_down_and_is_synced_later(
    stack: LocalStack, api: httpx.Client, admin: httpx.Client
) -> None:
    fault(stack, "woocommerce", "POST", WOO_COUPONS, times=100)
    body = quote(api, "120.00").json()
    assert body["eligible"] is True
    assert not coupon(stack, body["code"])
    stack.clear_faults("woocommerce")
    stack.run_schedule("PromoSyncFunction")
    assert len(coupon(stack, body["code"])) == 1
    assert admin.get(f"/promo/v1/codes/{body['code']}").json()["sync"]["woocommerce"]["status"] == "synced"


def test_money_fields_are_strings_never_floats(api: httpx.Client) -> None:
    body = quote(api, "199.99").json()
    assert Decimal(body["discount"]) == Decimal("20.00")
    assert all(isinstance(body[k], str) for k in ("percentage", "discount", "minimum_amount"))
