"""The admin API's payments and drift routes end to end: lists by status, one payment, daily counts, retry after
the Topomer simulator healed, resolve, void, drift; auth, bad input, unknown ids and conflicts; the audit trail."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.e2e import web
from tests.e2e.conftest import LocalStack
from tests.e2e.payments import auth, authorize, new_order, new_user, topomer_balance

SOLDE = "/api/plugin/users/update-solde"
UNKNOWN_ID = "pay_" + "0" * 24


def error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def payment_in(admin: httpx.Client, status: str, payment_id: str) -> dict[str, Any] | None:
    items = admin.get("/admin/v1/payments", params={"status": status, "limit": 100}).json()["items"]
    return next((p for p in items if p["payment_id"] == payment_id), None)


def audit_of(admin: httpx.Client, payment_id: str) -> list[dict[str, Any]]:
    entries = admin.get("/admin/v1/audit", params={"limit": 100}).json()["items"]
    return [e for e in entries if e["target"] == payment_id]


def change_total(stack: LocalStack, order_id: int, total: str) -> None:
    """The shop edits the order's line through WooCommerce's REST API (the payment no longer matches it)."""
    line_id = stack.woo_state()["orders"][str(order_id)]["line_items"][0]["id"]
    with stack.shop as shop:
        shop.put(f"/orders/{order_id}", json={"line_items": [{"id": line_id, "total": total}]}).raise_for_status()


ROUTES = [
    ("GET", "/admin/v1/payments"),
    ("GET", "/admin/v1/payments/daily"),
    ("GET", f"/admin/v1/payments/{UNKNOWN_ID}"),
    ("POST", f"/admin/v1/payments/{UNKNOWN_ID}/retry"),
    ("POST", f"/admin/v1/payments/{UNKNOWN_ID}/resolve"),
    ("POST", f"/admin/v1/payments/{UNKNOWN_ID}/void"),
    ("GET", "/admin/v1/drift"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_route_needs_the_admin_bearer(api: httpx.Client, method: str, path: str) -> None:
    assert error(api.request(method, path, json={"note": "x"} if "resolve" in path else None)) == (
        401,
        "unauthorized",
    )
    wrong = api.request(method, path, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/admin/v1/payments", {"status": "paid"}, "status"),
        ("/admin/v1/payments", {"limit": "0"}, "limit"),
        ("/admin/v1/payments", {"limit": "101"}, "limit"),
        ("/admin/v1/payments/daily", {"days": "0"}, "days"),
        ("/admin/v1/payments/daily", {"days": "91"}, "days"),
        ("/admin/v1/drift", {"limit": "abc"}, "limit"),
    ],
)
def test_bad_query_parameters_are_400_naming_the_field(
    admin: httpx.Client, path: str, params: dict[str, str], field: str
) -> None:
    refused = admin.get(path, params=params)
    assert refused.status_code == 400
    assert field in refused.json()["error"]["message"]


def test_bad_cursors_ids_and_bodies_are_400_and_unknown_ids_404(admin: httpx.Client) -> None:
    for path in ("/admin/v1/payments", "/admin/v1/drift"):
        assert error(admin.get(path, params={"cursor": "not-a-cursor"})) == (400, "invalid_cursor")
    assert admin.get("/admin/v1/payments/pay_nothing").status_code == 400
    for method, path in ROUTES[2:6]:
        body = {"note": "settled"} if path.endswith("resolve") else None
        assert error(admin.request(method, path, json=body)) == (404, "unknown_payment")
    resolve = f"/admin/v1/payments/{UNKNOWN_ID}/resolve"
    bodies: list[dict[str, Any]] = [{}, {"note": ""}, {"note": "x" * 501}, {"note": 5}, {"note": "ok", "other": 1}]
    for sent in bodies:
        refused = admin.post(resolve, json=sent)
        assert refused.status_code == 400
        assert "note" in refused.json()["error"]["message"] or "other" in refused.json()["error"]["message"]
    bad_user = admin.post(f"/admin/v1/payments/{UNKNOWN_ID}/void", headers={"X-Admin-User": "x" * 81})
    assert bad_user.status_code == 400
    assert "X-Admin-User" in bad_user.json()["error"]["message"]


def test_daily_counts_one_row_per_day_oldest_first(stack: LocalStack, api: httpx.Client, admin: httpx.Client) -> None:
    token = new_user(stack, "20.00")
    authorize(api, token, new_order(stack, "2.00"), "2.00")
    answer = admin.get("/admin/v1/payments/daily")  # a static route: never taken for a payment id
    assert answer.status_code == 200
    days = answer.json()["days"]
    assert len(days) == 30
    assert [d["day"] for d in days] == sorted(d["day"] for d in days)
    assert set(days[0]["counts"]) == {
        "authorized",
        "capture_pending",
        "captured",
        "voided",
        "expired",
        "needs_attention",
        "resolved",
    }
    assert days[-1]["counts"]["authorized"] >= 1
    assert len(admin.get("/admin/v1/payments/daily", params={"days": 1}).json()["days"]) == 1


def test_lists_one_payment_void_and_the_conflicts(stack: LocalStack, api: httpx.Client, admin: httpx.Client) -> None:
    token = new_user(stack, "50.00")
    first = authorize(api, token, new_order(stack, "10.00"), "10.00").json()["payment_id"]
    second = authorize(api, token, new_order(stack, "5.00"), "5.00").json()["payment_id"]
    page = admin.get("/admin/v1/payments", params={"status": "authorized", "limit": 1})
    assert page.status_code == 200
    assert page.json()["next_cursor"]
    newest = admin.get("/admin/v1/payments", params={"status": "authorized", "limit": 100}).json()["items"]
    assert [p["payment_id"] for p in newest].index(second) < [p["payment_id"] for p in newest].index(first)
    shown = admin.get(f"/admin/v1/payments/{first}")
    assert shown.status_code == 200
    body = shown.json()
    assert (body["amount"], body["status"], body["resolution"], body["reason"]) == ("10.00", "authorized", None, None)
    assert set(body["steps"]) == {"debit", "expire_token", "record_order"}
    assert token not in shown.text
    assert "token" not in body

    voided = admin.post(f"/admin/v1/payments/{first}/void", headers={"X-Admin-User": "bob"})
    assert (voided.status_code, voided.json()["status"]) == (200, "voided")
    assert payment_in(admin, "voided", first) is not None
    assert payment_in(admin, "authorized", first) is None
    assert api.get("/balance/v1/balance", headers=auth(token)).json()["available"] == "45.00"
    assert admin.post(f"/admin/v1/payments/{first}/void").status_code == 200  # already voided: as it is
    [*_, entry] = audit_of(admin, first)
    assert (entry["action"], entry["who"], entry["before"]["status"]) == ("payment.void", "bob", "authorized")

    assert admin.post(f"/admin/v1/payments/{second}/retry").json()["outcome"] == "nothing_to_do"
    assert error(admin.post(f"/admin/v1/payments/{second}/resolve", json={"note": "x"})) == (409, "not_resolvable")
    assert api.post(f"/balance/v1/payments/{second}/capture", headers=auth(token)).json()["status"] == "captured"
    assert error(admin.post(f"/admin/v1/payments/{second}/void")) == (409, "payment_not_voidable")
    assert error(admin.post(f"/admin/v1/payments/{second}/retry")) == (409, "not_retryable")
    assert error(admin.post(f"/admin/v1/payments/{second}/resolve", json={"note": "x"})) == (409, "not_resolvable")


@pytest.mark.usefixtures("no_faults_left")
def test_a_payment_left_needing_attention_by_topomer_is_captured_by_a_retry_once_healed(
    stack: LocalStack, api: httpx.Client, admin: httpx.Client
) -> None:
    token, order_id = new_user(stack, "100.00"), new_order(stack, "25.50")
    payment_id = authorize(api, token, order_id, "25.50").json()["payment_id"]
    stack.set_faults("topomer", rules=[{"method": "POST", "path": SOLDE, "mode": "500", "times": 1000}])
    pending = api.post(f"/balance/v1/payments/{payment_id}/capture", headers=auth(token))
    assert pending.json()["status"] == "capture_pending"
    outcomes = []
    for _ in range(10):  # each retry is one more attempt; CAPTURE_MAX_ATTEMPTS (8) of them: needs_attention
        answer = admin.post(f"/admin/v1/payments/{payment_id}/retry", headers={"X-Admin-User": "carol"}).json()
        outcomes.append(answer["outcome"])
        if answer["outcome"] == "needs_attention":
            break
    assert set(outcomes[:-1]) == {"still_pending"}
    assert outcomes[-1] == "needs_attention"
    assert "debit step failed again" in answer["message"]
    listed = payment_in(admin, "needs_attention", payment_id)
    assert listed is not None
    assert listed["steps"]["debit"]["last_error"]
    assert topomer_balance(stack, token) == Decimal("100.00")

    stack.clear_faults("topomer")
    healed = admin.post(f"/admin/v1/payments/{payment_id}/retry", headers={"X-Admin-User": "carol"})
    assert healed.status_code == 200
    assert (healed.json()["outcome"], healed.json()["payment"]["status"]) == ("captured", "captured")
    assert healed.json()["message"]
    assert topomer_balance(stack, token) == Decimal("74.50")
    assert payment_in(admin, "needs_attention", payment_id) is None
    assert payment_in(admin, "captured", payment_id) is not None
    entries = audit_of(admin, payment_id)
    assert entries[0]["action"] == "payment.retry"
    assert entries[0]["after"]["outcome"] == "captured"
    assert entries[0]["who"] == "carol"
    assert token not in str(entries)


def test_a_mismatched_payment_is_explained_by_a_retry_and_resolved_by_hand(
    stack: LocalStack, api: httpx.Client, admin: httpx.Client
) -> None:
    token, order_id = new_user(stack, "60.00"), new_order(stack, "40.00")
    payment_id = authorize(api, token, order_id, "40.00").json()["payment_id"]
    change_total(stack, order_id, "55.00")
    api.post(f"/balance/v1/payments/{payment_id}/capture", headers=auth(token))
    retried = admin.post(f"/admin/v1/payments/{payment_id}/retry").json()
    assert retried["outcome"] == "needs_attention"
    assert "amount_mismatch" in retried["message"]
    assert "resolve" in retried["message"]
    assert api.get("/balance/v1/balance", headers=auth(token)).json()["available"] == "20.00"

    resolved = admin.post(
        f"/admin/v1/payments/{payment_id}/resolve",
        json={"note": "customer paid by card instead"},
        headers={"X-Admin-User": "alice"},
    )
    assert resolved.status_code == 200
    body = resolved.json()
    assert body["status"] == "resolved"
    assert (body["resolution"]["note"], body["resolution"]["by"]) == ("customer paid by card instead", "alice")
    assert body["closed_at"]
    assert api.get("/balance/v1/balance", headers=auth(token)).json()["available"] == "60.00"  # hold given back
    assert topomer_balance(stack, token) == Decimal("60.00")  # no money moved
    assert payment_in(admin, "resolved", payment_id) is not None
    assert error(admin.post(f"/admin/v1/payments/{payment_id}/resolve", json={"note": "again"})) == (
        409,
        "not_resolvable",
    )
    assert error(admin.post(f"/admin/v1/payments/{payment_id}/retry")) == (409, "not_retryable")
    entry = audit_of(admin, payment_id)[0]
    assert (entry["action"], entry["who"], entry["note"]) == (
        "payment.resolve",
        "alice",
        "customer paid by card instead",
    )
    assert (entry["before"]["status"], entry["after"]["status"]) == ("needs_attention", "resolved")


def test_drift_found_by_the_reconciliation_is_listed_newest_first(
    stack: LocalStack, api: httpx.Client, admin: httpx.Client
) -> None:
    token = new_user(stack, "50.00")
    authorize(api, token, new_order(stack, "10.00"), "10.00")  # the user is active: reconciled by the next run
    user = stack.topomer_state()["users"][token]
    web.post(f"{stack.topomer}/_sim/users", json={**user, "solde": "47.00"}, timeout=10).raise_for_status()
    stack.run_schedule("BalanceSyncFunction")
    page = admin.get("/admin/v1/drift", params={"limit": 100})
    assert page.status_code == 200
    [found] = [d for d in page.json()["items"] if d["user_id"] == str(user["id"])]
    assert (found["expected"], found["seen"], found["difference"]) == ("50.00", "47.00", "-3.00")
    assert found["run_id"]
    assert found["at"]
    ats = [d["at"] for d in page.json()["items"]]
    assert ats == sorted(ats, reverse=True)
