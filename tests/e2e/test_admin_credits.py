"""The admin API's credits routes over HTTP: accounts by status, an account and its ledger, adjustments (idempotent,
never below zero, audited) and the credits moved per day; the admin bearer on every route, bad input named."""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.e2e import web
from tests.e2e.conftest import LocalStack
from tests.e2e.test_credits import CREDITS_100, granted_order, set_status

pytestmark = pytest.mark.e2e

ROUTES = [
    ("GET", "/admin/v1/credits/orders"),
    ("GET", "/admin/v1/credits/daily"),
    ("GET", "/admin/v1/credits/orders/wc_order_x"),
    ("POST", "/admin/v1/credits/orders/wc_order_x/adjustments"),
]


def adjust(admin: httpx.Client, order_key: str, body: Any, key: str | None = None, **headers: str) -> httpx.Response:
    sent = {"Idempotency-Key": key or uuid.uuid4().hex, **headers} if key != "" else headers
    return admin.post(f"/admin/v1/credits/orders/{order_key}/adjustments", json=body, headers=sent)


def order_view(admin: httpx.Client, order_key: str) -> dict[str, Any]:
    answer = admin.get(f"/admin/v1/credits/orders/{order_key}", params={"limit": 100})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


@pytest.fixture
def order_key(stack: LocalStack) -> str:
    return str(granted_order(stack, [(CREDITS_100, 1)])["order_key"])


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_credits_route_needs_the_admin_bearer(api: httpx.Client, method: str, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        answer = api.request(method, path, json={"amount": 1, "reason": "x"}, headers=headers)
        assert answer.status_code == 401, answer.text
        assert answer.json()["error"]["code"] == "unauthorized"


def test_an_adjustment_moves_credits_once_shows_in_the_ledger_and_is_audited(
    stack: LocalStack, admin: httpx.Client, order_key: str
) -> None:
    key = uuid.uuid4().hex
    body = {"amount": 25, "reason": "  goodwill: late delivery "}
    made = adjust(admin, order_key, body, key, **{"X-Admin-User": "Ada"})
    assert made.status_code == 201, made.text
    answer = made.json()
    assert answer["order_key"] == order_key
    assert (answer["amount"], answer["balance"]) == (25, 125)
    assert answer["transaction_id"].startswith("tx_")
    replay = adjust(admin, order_key, body, key, **{"X-Admin-User": "Ada"})
    assert (replay.status_code, replay.json()) == (200, answer)
    reused = adjust(admin, order_key, {"amount": 26, "reason": "goodwill: late delivery"}, key)
    assert reused.status_code == 422  # as a consume's reused key
    assert reused.json()["error"]["code"] == "idempotency_key_reused"

    view = order_view(admin, order_key)
    assert view["account"] == {
        "order_key": order_key,
        "order_id": view["account"]["order_id"],
        "status": "completed",
        "granted": 100,
        "consumed": 0,
        "revoked": 0,
        "adjusted": 25,
        "balance": 125,
        "granted_at": view["account"]["granted_at"],
        "closed_at": None,
    }
    newest = view["ledger"][0]
    assert (newest["type"], newest["amount"], newest["balance_after"]) == ("adjustment", 25, 125)
    assert (newest["reason"], newest["idempotency_key"], newest["transaction_id"]) == (
        "goodwill: late delivery",
        key,
        answer["transaction_id"],
    )
    assert [e["type"] for e in view["ledger"]] == ["adjustment", "grant"]
    assert view["ledger"][1]["reason"] is None
    assert view["next_cursor"] is None

    # The native API shows the move in its documented shapes (no reason, no adjusted).
    native = web.get(f"{stack.api}/credits/v1/orders/{order_key}/transactions").json()["items"][0]
    assert native["type"] == "adjustment"
    assert "reason" not in native
    account = web.get(f"{stack.api}/credits/v1/orders/{order_key}").json()
    assert set(account) == {"order_key", "order_id", "status", "granted", "consumed", "balance"}
    assert account["balance"] == 125

    audit = admin.get("/admin/v1/audit", params={"limit": 100}).json()["items"]
    mine = [e for e in audit if e["action"] == "credits.adjust" and e["target"] == order_key]
    assert len(mine) == 1  # the replay recorded nothing
    assert (mine[0]["who"], mine[0]["before"], mine[0]["after"], mine[0]["note"]) == (
        "Ada",
        {"balance": 100},
        {"balance": 125, "amount": 25},
        "goodwill: late delivery",
    )


def test_an_adjustment_never_takes_the_balance_below_zero(admin: httpx.Client, order_key: str) -> None:
    refused = adjust(admin, order_key, {"amount": -101, "reason": "too much"})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "insufficient_credits"
    assert order_view(admin, order_key)["account"]["balance"] == 100
    taken = adjust(admin, order_key, {"amount": -100, "reason": "all of it"})
    assert taken.status_code == 201
    assert taken.json()["balance"] == 0
    assert adjust(admin, order_key, {"amount": -1, "reason": "one more"}).status_code == 409


def test_a_closed_or_unknown_order_is_not_adjusted(stack: LocalStack, admin: httpx.Client) -> None:
    order = granted_order(stack, [(CREDITS_100, 1)])
    set_status(stack, order["id"], "refunded")
    closed = adjust(admin, order["order_key"], {"amount": 5, "reason": "reopen"})
    assert closed.status_code == 409
    assert closed.json()["error"]["code"] == "order_not_completed"
    for answer in (
        adjust(admin, "wc_order_nobody", {"amount": 5, "reason": "x"}),
        admin.get("/admin/v1/credits/orders/wc_order_nobody"),
    ):
        assert answer.status_code == 404, answer.text
        assert answer.json()["error"]["code"] == "unknown_order"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": 0, "reason": "x"}, "amount"),
        ({"amount": 1.5, "reason": "x"}, "amount"),
        ({"amount": 2.0, "reason": "x"}, "amount"),
        ({"amount": "5", "reason": "x"}, "amount"),
        ({"amount": True, "reason": "x"}, "amount"),
        ({"amount": 10**12, "reason": "x"}, "amount"),
        ({"amount": -(10**12), "reason": "x"}, "amount"),
        ({"reason": "x"}, "amount"),
        ({"amount": 5, "reason": ""}, "reason"),
        ({"amount": 5, "reason": "   "}, "reason"),
        ({"amount": 5, "reason": "x" * 201}, "reason"),
        ({"amount": 5, "reason": 7}, "reason"),
        ({"amount": 5}, "reason"),
        ({"amount": 5, "reason": "x", "note": "y"}, "note"),
    ],
)
def test_bad_adjustments_are_400_naming_the_field(admin: httpx.Client, order_key: str, body: Any, field: str) -> None:
    answer = adjust(admin, order_key, body)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] in ("validation_error", "invalid_amount")
    assert error["message"].startswith(field), error
    assert order_view(admin, order_key)["account"]["balance"] == 100


def test_an_adjustment_needs_an_idempotency_key(admin: httpx.Client, order_key: str) -> None:
    answer = adjust(admin, order_key, {"amount": 5, "reason": "x"}, key="")
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "missing_idempotency_key"
    assert "Idempotency-Key" in answer.json()["error"]["message"]
    bad_key = adjust(admin, order_key, {"amount": 5, "reason": "x"}, key="has space")
    assert bad_key.status_code == 400
    assert order_view(admin, order_key)["account"]["balance"] == 100


def test_accounts_are_listed_by_status_newest_first_and_paged(stack: LocalStack, admin: httpx.Client) -> None:
    older = granted_order(stack, [(CREDITS_100, 1)])["order_key"]
    time.sleep(1.1)  # sorted by the order's modified time, which WooCommerce keeps to the second
    newer = granted_order(stack, [(CREDITS_100, 2)])["order_key"]
    listed = admin.get("/admin/v1/credits/orders", params={"limit": 100}).json()["items"]
    keys = [a["order_key"] for a in listed]
    assert newer in keys
    assert older in keys
    mine = next(a for a in listed if a["order_key"] == newer)
    assert (mine["status"], mine["granted"], mine["balance"], mine["adjusted"]) == ("completed", 200, 200, 0)
    times = [a["order_key"] for a in listed]
    assert times.index(newer) <= times.index(older)
    first = admin.get("/admin/v1/credits/orders", params={"status": "completed", "limit": 1}).json()
    assert len(first["items"]) == 1
    assert first["next_cursor"]
    second = admin.get("/admin/v1/credits/orders", params={"limit": 1, "cursor": first["next_cursor"]}).json()
    assert second["items"][0]["order_key"] != first["items"][0]["order_key"]
    refunded = granted_order(stack, [(CREDITS_100, 1)])
    set_status(stack, refunded["id"], "refunded")
    closed = admin.get("/admin/v1/credits/orders", params={"status": "refunded", "limit": 100}).json()["items"]
    row = next(a for a in closed if a["order_key"] == refunded["order_key"])
    assert (row["status"], row["balance"], row["revoked"]) == ("refunded", 0, 100)
    assert row["closed_at"]


def test_bad_list_parameters_are_400(admin: httpx.Client, order_key: str) -> None:
    forged = base64.urlsafe_b64encode(json.dumps({"order": "IDEM#x", "at": "x"}).encode()).decode()
    for params in ({"status": "Completed!"}, {"limit": 0}, {"limit": 101}, {"cursor": forged}, {"cursor": "%%%"}):
        answer = admin.get("/admin/v1/credits/orders", params=params)
        assert answer.status_code == 400, (params, answer.text)
        assert answer.json()["error"]["code"] in ("validation_error", "invalid_cursor")
    for params in ({"limit": 0}, {"cursor": forged + "x"}):
        answer = admin.get(f"/admin/v1/credits/orders/{order_key}", params=params)
        assert answer.status_code == 400, (params, answer.text)
    for days in (0, 91, "week"):
        answer = admin.get("/admin/v1/credits/daily", params={"days": days})
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["message"].startswith("days")


def test_daily_totals_count_grants_adjustments_and_consumes_per_utc_day(stack: LocalStack, admin: httpx.Client) -> None:
    today = datetime.now(UTC).date().isoformat()

    def todays() -> dict[str, Any]:
        days = admin.get("/admin/v1/credits/daily", params={"days": 7}).json()["days"]
        assert len(days) == 7
        assert [d["day"] for d in days] == sorted(d["day"] for d in days)  # oldest first, one row per day
        assert days[-1]["day"] == today
        return dict(days[-1])

    before = todays()
    order_key = granted_order(stack, [(CREDITS_100, 1)])["order_key"]
    assert adjust(admin, order_key, {"amount": 10, "reason": "plus"}).status_code == 201
    assert adjust(admin, order_key, {"amount": -4, "reason": "minus"}).status_code == 201
    consumed = web.post(f"{stack.api}/credits/v1/orders/{order_key}/consume", json={"amount": 6})
    assert consumed.status_code == 200
    after = todays()
    assert after["granted"] - before["granted"] == 110
    assert after["consumed"] - before["consumed"] == 10
    assert after["revoked"] == before["revoked"]
    default = admin.get("/admin/v1/credits/daily").json()["days"]
    assert len(default) == 30
