"""PromoFunction in process: price intervals, automatic quotes and the admin's codes (busy and the concurrent
PATCH conflict: ``test_fixed_statuses``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.handlers.conftest import ADMIN
from tests.handlers.lambdas import Function
from tests.handlers.upstreams import WOO_API, Shop, Topomer

CODES = "/promo/v1/codes"


def quote(promo: Function, total: Any, cart_id: str = "cart-1", **extra: Any) -> Any:
    return promo(
        "POST", "/promo/v1/auto", json_body={"cart_id": cart_id, "cart_total": total, "currency": "EUR", **extra}
    )


def create(promo: Function, code: str = "SPRING-10", percentage: Any = "12.5", **fields: Any) -> Any:
    return promo("POST", CODES, json_body={"code": code, "percentage": percentage, **fields}, headers=ADMIN)


def future(days: int = 30) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------ intervals
def test_intervals_are_normalized_and_sorted(promo: Function, topomer: Topomer) -> None:
    topomer.intervals = [
        {"min": "250", "max": None, "pourcentage": "15"},
        {"min": "50.00", "max": "100.00", "pourcentage": "5"},
    ]
    answer = promo("GET", "/promo/v1/intervals")
    assert (answer.status, answer.json()) == (
        200,
        {
            "intervals": [
                {"min": "50.00", "max": "100.00", "percentage": "5"},
                {"min": "250.00", "max": None, "percentage": "15"},
            ],
            "stale": False,
        },
    )


def test_topomer_down_serves_the_last_good_copy_or_503(promo: Function, topomer: Topomer, no_sleep: None) -> None:
    topomer.fail("GET", "/api/interval-prix", times=3)
    assert promo("GET", "/promo/v1/intervals").error == (503, "intervals_unavailable")
    assert promo("GET", "/promo/v1/intervals").json()["stale"] is False
    topomer.fail("GET", "/api/interval-prix", error=httpx.ConnectTimeout)
    stale = promo("GET", "/promo/v1/intervals").json()
    assert (stale["stale"], [i["percentage"] for i in stale["intervals"]]) == (True, ["5", "10", "15"])
    topomer.intervals = [{"min": "100", "max": "50", "pourcentage": "5"}]
    assert promo("GET", "/promo/v1/intervals").json()["stale"] is True


# ------------------------------------------------------------------ automatic quotes
def test_a_quote_makes_one_code_on_both_sides(promo: Function, shop: Shop, topomer: Topomer) -> None:
    first = quote(promo, "150.00", email="buyer@example.com")
    assert first.status == 201
    body = first.json()
    assert set(body) == {"eligible", "code", "percentage", "discount", "minimum_amount", "expires_at", "stale"}
    assert (body["eligible"], body["percentage"], body["discount"], body["minimum_amount"], body["stale"]) == (
        True,
        "10",
        "15.00",
        "100.00",
        False,
    )
    assert body["code"].startswith("TPM-")
    again = quote(promo, "160.00")
    assert (again.status, again.json()["code"]) == (200, body["code"])
    assert [c["code"] for c in shop.coupons.values()] == [body["code"].lower()]
    assert [p["code"] for p in topomer.promos.values()] == [body["code"]]


def test_a_total_below_every_interval_is_not_eligible(promo: Function) -> None:
    for total in ("10.00", "49.99"):
        answer = quote(promo, total)
        assert (answer.status, answer.json()) == (200, {"eligible": False, "stale": False}), total


BAD_QUOTES: list[dict[str, Any]] = [
    {"cart_total": "120.00", "currency": "EUR"},
    {"cart_id": "c1", "currency": "EUR"},
    {"cart_id": "c1", "cart_total": "-1", "currency": "EUR"},
    {"cart_id": "c1", "cart_total": "12.345", "currency": "EUR"},
    {"cart_id": "c1", "cart_total": "1e3", "currency": "EUR"},
    {"cart_id": "c1", "cart_total": 12.5, "currency": "EUR"},
    {"cart_id": "c1", "cart_total": "120", "currency": "euro"},
    {"cart_id": "c1", "cart_total": "120", "currency": "EUR", "email": "not-an-email"},
    {"cart_id": "c 1", "cart_total": "120", "currency": "EUR"},
    {"cart_id": "c1", "cart_total": "120", "currency": "EUR", "coupon": "FREE"},
]


def test_bad_quotes_are_400_and_make_nothing(promo: Function, shop: Shop) -> None:
    for body in BAD_QUOTES:
        status, code = promo("POST", "/promo/v1/auto", json_body=body).error
        assert (status, code in ("validation_error", "invalid_cart_total")) == (400, True), body
    assert not shop.coupons


def test_quote_bodies_that_are_not_json(promo: Function) -> None:
    assert promo("POST", "/promo/v1/auto", body=b"{nope", content_type="application/json").error == (
        400,
        "malformed_json",
    )
    assert promo("POST", "/promo/v1/auto", body=b"cart_id=1", content_type="text/plain").error == (
        415,
        "unsupported_content_type",
    )


def test_a_quote_with_woocommerce_down_is_recorded_for_the_sync(promo: Function, shop: Shop, no_sleep: None) -> None:
    shop.fail("POST", rf"{WOO_API}/coupons")
    answer = quote(promo, "120.00")
    assert answer.status == 201
    code = answer.json()["code"]
    stored = promo("GET", f"{CODES}/{code}", headers=ADMIN).json()
    assert stored["sync"]["woocommerce"]["status"] == "pending"
    assert stored["sync"]["woocommerce"]["last_error"].startswith("upstream_unavailable")
    assert stored["sync"]["topomer"]["status"] == "synced"


# ------------------------------------------------------------------ admin codes
def test_admin_creates_reads_updates_lists_and_deactivates(promo: Function, shop: Shop, topomer: Topomer) -> None:
    created = create(promo, "spring-10", expires_at=future(), usage_limit=3)
    assert created.status == 201, created.body
    body = created.json()
    assert (body["code"], body["percentage"], body["type"], body["active"], body["version"], body["usage_limit"]) == (
        "SPRING-10",
        "12.5",
        "manual",
        True,
        1,
        3,
    )
    assert body["sync"]["woocommerce"]["status"] == body["sync"]["topomer"]["status"] == "synced"
    assert promo("GET", f"{CODES}/spring-10", headers=ADMIN).json() == body
    patched = promo("PATCH", f"{CODES}/SPRING-10", json_body={"percentage": 20, "usage_limit": 10}, headers=ADMIN)
    assert patched.status == 200
    assert (patched.json()["percentage"], patched.json()["usage_limit"], patched.json()["version"]) == ("20", 10, 2)
    same = promo("PATCH", f"{CODES}/SPRING-10", json_body={"percentage": "20.00"}, headers=ADMIN)
    assert (same.status, same.json()["version"]) == (200, 2)
    listed = promo("GET", CODES, headers=ADMIN, query={"type": "manual"})
    assert listed.status == 200
    assert [c["code"] for c in listed.json()["items"]] == ["SPRING-10"]
    assert listed.json()["next_cursor"] is None
    deleted = promo("DELETE", f"{CODES}/SPRING-10", headers=ADMIN)
    assert (deleted.status, deleted.json()["active"]) == (200, False)
    [coupon] = shop.coupons.values()
    assert (coupon["amount"], coupon["status"]) == ("20", "draft")
    assert promo("GET", CODES, headers=ADMIN, query={"active": "true"}).json()["items"] == []


def test_the_list_pages_with_a_cursor(promo: Function) -> None:
    for name in ("CODE-AAA", "CODE-BBB", "CODE-CCC"):
        assert create(promo, name).status == 201
    first = promo("GET", CODES, headers=ADMIN, query={"limit": "2"}).json()
    assert len(first["items"]) == 2
    rest = promo("GET", CODES, headers=ADMIN, query={"limit": "2", "cursor": first["next_cursor"]}).json()
    assert len(rest["items"]) == 1
    assert {c["code"] for c in first["items"] + rest["items"]} == {"CODE-AAA", "CODE-BBB", "CODE-CCC"}
    assert promo("GET", CODES, headers=ADMIN, query={"cursor": "nope"}).error == (400, "invalid_cursor")
    assert promo("GET", CODES, headers=ADMIN, query={"limit": "0"}).error == (400, "validation_error")
    assert promo("GET", CODES, headers=ADMIN, query={"type": "gift"}).error == (400, "validation_error")


INVALID_CODES: list[tuple[dict[str, Any], str]] = [
    ({"code": "AB", "percentage": "5"}, "invalid_code"),
    ({"code": "BAD CODE", "percentage": "5"}, "invalid_code"),
    ({"code": "OK-CODE", "percentage": "0"}, "invalid_percentage"),
    ({"code": "OK-CODE", "percentage": "101"}, "invalid_percentage"),
    ({"code": "OK-CODE", "percentage": 12.5}, "validation_error"),
    ({"code": "OK-CODE"}, "validation_error"),
    ({"code": "OK-CODE", "percentage": "5", "expires_at": "2020-01-01T00:00:00Z"}, "invalid_expiry"),
    ({"code": "OK-CODE", "percentage": "5", "usage_limit": 0}, "validation_error"),
    ({"code": "OK-CODE", "percentage": "5", "discount": "9"}, "validation_error"),
]


def test_invalid_codes_are_400_and_nothing_is_stored(promo: Function, shop: Shop) -> None:
    for body, code in INVALID_CODES:
        assert promo("POST", CODES, json_body=body, headers=ADMIN).error == (400, code), body
    assert promo("GET", f"{CODES}/OK-CODE", headers=ADMIN).error == (404, "unknown_code")
    assert not shop.coupons


def test_invalid_patches_change_nothing(promo: Function) -> None:
    assert create(promo, "KEEP-ME", "8").status == 201
    for body in ({"percentage": "0"}, {"code": "RENAMED"}, {"active": 1}, {"usage_limit": -1}):
        assert promo("PATCH", f"{CODES}/KEEP-ME", json_body=body, headers=ADMIN).status == 400, body
    after = promo("GET", f"{CODES}/KEEP-ME", headers=ADMIN).json()
    assert (after["percentage"], after["version"], after["active"]) == ("8", 1, True)


def test_duplicate_code_is_409_whatever_the_case(promo: Function) -> None:
    assert create(promo, "TWICE-1", "5").status == 201
    assert create(promo, "twice-1", "9").error == (409, "duplicate_code")
    assert promo("GET", f"{CODES}/TWICE-1", headers=ADMIN).json()["percentage"] == "5"


def test_unknown_code_is_404(promo: Function) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        answer = promo(method, f"{CODES}/NO-SUCH-CODE", json_body={"percentage": "5"}, headers=ADMIN)
        assert answer.error == (404, "unknown_code"), method


REFUSED_BEARERS: list[dict[str, str]] = [
    {},
    {"Authorization": "Bearer wrong-key"},
    {"Authorization": "admin-key-handlers"},  # no scheme
    {"Authorization": "Bearer"},
]


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", CODES), ("POST", CODES), ("GET", f"{CODES}/X"), ("PATCH", f"{CODES}/X"), ("DELETE", f"{CODES}/X")],
)
def test_admin_routes_need_the_bearer_even_with_a_bad_body(promo: Function, shop: Shop, method: str, path: str) -> None:
    for headers in REFUSED_BEARERS:
        answer = promo(method, path, headers=headers, json_body={"code": "SNEAKY", "percentage": "900", "x": 1})
        assert answer.error == (401, "unauthorized"), headers
        malformed = promo(method, path, headers=headers, body=b"{not json", content_type="application/json")
        assert malformed.error == (401, "unauthorized"), headers
    assert not shop.coupons


def test_unknown_routes_are_404(promo: Function) -> None:
    assert promo("PUT", "/promo/v1/intervals").error == (404, "route_not_found")
    assert promo("GET", "/promo/v2/intervals").error == (404, "route_not_found")
