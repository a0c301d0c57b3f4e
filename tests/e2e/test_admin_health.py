"""``GET /admin/v1/health`` over HTTP, and the audit trail of the promo admin's writes."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e import web
from tests.e2e.conftest import LocalStack

HEALTH = "/admin/v1/health"
SYNCS = ["credits-sync", "balance-sync", "promo-sync"]


def health(admin: httpx.Client) -> dict[str, Any]:
    answer = admin.get(HEALTH)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def sync(body: dict[str, Any], name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [s for s in body["syncs"] if s["name"] == name]
    assert len(found) == 1
    return found[0]


def upstream(body: dict[str, Any], name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [u for u in body["upstreams"] if u["name"] == name]
    assert len(found) == 1
    return found[0]


def test_health_needs_the_admin_bearer(stack: LocalStack, api: httpx.Client) -> None:
    missing = api.get(HEALTH)
    wrong = api.get(HEALTH, headers={"Authorization": "Bearer not-the-key"})
    for answer in (missing, wrong):
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "unauthorized"


def test_health_shows_every_part_within_a_second(stack: LocalStack, admin: httpx.Client) -> None:
    health(admin)  # the first call starts the container's clients
    started = time.monotonic()
    body = health(admin)
    assert time.monotonic() - started < 1.0
    assert set(body) >= {"syncs", "webhooks", "upstreams", "payments", "promo_pending", "attention", "errors"}
    assert [s["name"] for s in body["syncs"]] == SYNCS
    assert set(body["payments"]) == {"needs_attention", "capture_pending", "authorized"}
    assert all(isinstance(n, int) for n in body["payments"].values())
    assert isinstance(body["promo_pending"], int)
    assert body["errors"] == []
    for name in ("woocommerce", "topomer"):
        probe = upstream(body, name)
        assert (probe["reachable"], probe["error"]) == (True, None)
        assert isinstance(probe["latency_ms"], int)
    # The local runtime registers the service's webhooks in the simulated shop: both routes, both topics.
    listed = {(w["delivery_url"].rsplit("/", 3)[-3], w["topic"]): w for w in body["webhooks"]}
    assert set(listed) == {
        (route, topic) for route in ("credits", "balance") for topic in ("order.created", "order.updated")
    }
    assert all(w["status"] == "active" and w["healthy"] for w in body["webhooks"])
    assert not [a for a in body["attention"] if a["kind"] in ("webhook_disabled", "upstream_down")]


def test_a_sync_run_shows_as_its_last_run_with_its_cursor(stack: LocalStack, admin: httpx.Client) -> None:
    before = health(admin)
    stack.run_schedule("CreditsSyncFunction")
    after = sync(health(admin), "credits-sync")
    run = after["last_run"]
    assert run is not None
    assert run["outcome"] == "ok"
    assert run["error"] is None
    assert isinstance(run["counts"], dict)
    assert run["at"] > ((sync(before, "credits-sync")["last_run"] or {}).get("at") or "")
    assert after["cursor"] is not None  # the seeded orders moved the order poll's cursor
    assert set(sync(health(admin), "balance-sync")["cursors"]) == {"ORDERS", "RECONCILE"}


@pytest.mark.usefixtures("no_faults_left")
def test_a_failed_sync_run_shows_failed_with_its_error(stack: LocalStack, admin: httpx.Client) -> None:
    rules = [{"method": "GET", "path": "/wp-json/wc/v3/orders", "mode": "500", "times": 10}]
    stack.set_faults("woocommerce", rules=rules)
    answer = web.post(f"{stack.api}/_local/schedules/CreditsSyncFunction", timeout=120)
    assert answer.status_code == 500  # the run itself failed, as in Lambda
    stack.clear_faults("woocommerce")
    body = health(admin)
    run = sync(body, "credits-sync")["last_run"]
    assert (run["outcome"], run["counts"]) == ("failed", {})
    assert run["error"].startswith("upstream_unavailable: woocommerce")
    [item] = [a for a in body["attention"] if a["kind"] == "sync_failing"]
    assert "credits-sync" in item["message"]
    stack.run_schedule("CreditsSyncFunction")  # the next run succeeds: nothing left to look at
    body = health(admin)
    assert sync(body, "credits-sync")["last_run"]["outcome"] == "ok"
    assert not [a for a in body["attention"] if a["kind"] == "sync_failing"]


@pytest.mark.usefixtures("no_faults_left")
def test_topomer_down_shows_unreachable_and_the_rest_answers(stack: LocalStack, admin: httpx.Client) -> None:
    stack.set_faults("topomer", error_rate=1.0)
    started = time.monotonic()
    body = health(admin)
    assert time.monotonic() - started < 3.0
    topomer = upstream(body, "topomer")
    assert topomer["reachable"] is False
    assert topomer["error"].startswith("upstream_unavailable: topomer")
    assert "secret" not in topomer["error"].lower()
    assert upstream(body, "woocommerce")["reachable"] is True
    assert [s["name"] for s in body["syncs"]] == SYNCS
    assert next(a for a in body["attention"] if a["kind"] == "upstream_down")["message"].startswith("Topomer")


@pytest.fixture
def disabled_webhook(stack: LocalStack) -> Iterator[int]:
    """One of the service's webhooks turned off in the shop for the test, then back on."""
    with stack.shop as shop:
        hooks = [h for h in shop.get("/webhooks", params={"status": "all"}).json() if "/credits/" in h["delivery_url"]]
        webhook_id = int(hooks[0]["id"])
        shop.put(f"/webhooks/{webhook_id}", json={"status": "disabled"}).raise_for_status()
        yield webhook_id
        shop.put(f"/webhooks/{webhook_id}", json={"status": "active"}).raise_for_status()


def test_a_disabled_webhook_is_shown_and_needs_attention(admin: httpx.Client, disabled_webhook: int) -> None:
    body = health(admin)
    [hook] = [w for w in body["webhooks"] if w["id"] == disabled_webhook]
    assert (hook["status"], hook["healthy"]) == ("disabled", False)
    [item] = [a for a in body["attention"] if a["kind"] == "webhook_disabled"]
    assert item["count"] == 1
    assert ": disabled" in item["message"]


# ------------------------------------------------------------------ the promo admin's audit trail
def audit_of(admin: httpx.Client, target: str) -> list[dict[str, Any]]:
    entries = admin.get("/admin/v1/audit", params={"limit": 100}).json()["items"]
    return [e for e in entries if e["target"] == target]


def test_promo_code_changes_are_in_the_audit_trail(stack: LocalStack, admin: httpx.Client) -> None:
    name = f"AUDIT-{secrets.token_hex(4).upper()}"
    created = admin.post(
        "/promo/v1/codes", json={"code": name, "percentage": "10"}, headers={"X-Admin-User": "alice@shop"}
    )
    assert created.status_code == 201, created.text
    patched = admin.patch(f"/promo/v1/codes/{name}", json={"percentage": 15}, headers={"X-Admin-User": "bob"})
    assert patched.status_code == 200, patched.text
    assert admin.delete(f"/promo/v1/codes/{name}").status_code == 200
    entries = audit_of(admin, name)
    assert [(e["action"], e["who"]) for e in entries] == [
        ("promo.deactivate", "admin"),
        ("promo.update", "bob"),
        ("promo.create", "alice@shop"),
    ]
    deactivate, update, create = entries
    assert create["before"] is None
    assert (create["after"]["code"], create["after"]["percentage"]) == (name, "10")
    assert (update["before"]["percentage"], update["after"]["percentage"]) == ("10", "15")
    assert (deactivate["before"]["active"], deactivate["after"]["active"]) == (True, False)


def test_a_bad_admin_user_changes_nothing(admin: httpx.Client) -> None:
    name = f"AUDIT-{secrets.token_hex(4).upper()}"
    refused = admin.post("/promo/v1/codes", json={"code": name, "percentage": "10"}, headers={"X-Admin-User": "x" * 81})
    assert refused.status_code == 400
    assert "X-Admin-User" in refused.json()["error"]["message"]
    assert admin.get(f"/promo/v1/codes/{name}").status_code == 404
    assert audit_of(admin, name) == []
