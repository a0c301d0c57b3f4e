"""The Topomer contract, end to end: what the service needs of Topomer and nothing more.

Topomer's answers to writes are not written down anywhere, so the service must work whether a write is
answered ``{"ok": true}``, with the changed object, 201 with an id or 204 with nothing; must read back
what a money move changed; must take a ``get-by-token`` answer that carries only what it uses; must treat
a token Topomer refuses as the customer's (401), not as an outage; and must not duplicate an order report
or a promo on a Topomer that keeps every POST it gets.
"""

from __future__ import annotations

import itertools
import secrets
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.e2e import web
from tests.e2e.conftest import LocalStack
from tests.e2e.payments import ORDERS, auth, authorize, new_order, new_user, order_reports

pytestmark = pytest.mark.usefixtures("no_faults_left")

_ids = itertools.count(52000)
PROMOS = "/api/plugin/promos"


def topomer_promos(stack: LocalStack, code: str) -> list[dict[str, Any]]:
    return [p for p in stack.topomer_state()["promos"].values() if p["code"] == code]


# ------------------------------------------------------------------ any 2xx is taken; money is read back
@pytest.mark.parametrize("style", ["object", "created", "empty"])
def test_capture_completes_whatever_a_2xx_answer_holds(stack: LocalStack, api: httpx.Client, style: str) -> None:
    token, order_id = new_user(stack, "100.00"), new_order(stack, "35.25")
    payment_id = authorize(api, token, order_id, "35.25").json()["payment_id"]
    with stack.answer_style(style):
        captured = api.post(f"/balance/v1/payments/{payment_id}/capture", headers=auth(token))
    assert (captured.status_code, captured.json()["status"]) == (200, "captured")
    state = stack.topomer_state()
    assert Decimal(str(state["users"][token]["solde"])) == Decimal("64.75")
    assert state["users"][token]["expired"] is True
    assert [o["total"] for o in order_reports(stack, order_id)] == ["35.25"]


# ------------------------------------------------------------------ get-by-token: only what is used
def test_a_user_answer_without_token_and_with_a_null_email_works(stack: LocalStack, api: httpx.Client) -> None:
    token = new_user(stack, "80.00", email=None, answer_fields=["id", "solde", "expired", "email"])
    shown = api.get("/balance/v1/balance", headers=auth(token))
    assert shown.status_code == 200, shown.text
    assert (shown.json()["balance"], shown.json()["email"]) == ("80.00", None)
    order_id = new_order(stack, "30.00")
    held = authorize(api, token, order_id, "30.00")
    assert held.status_code == 201, held.text
    captured = api.post(f"/balance/v1/payments/{held.json()['payment_id']}/capture", headers=auth(token))
    assert captured.json()["status"] == "captured"
    assert Decimal(str(stack.topomer_state()["users"][token]["solde"])) == Decimal("50.00")


# ------------------------------------------------------------------ a refused token is the customer's
@pytest.mark.parametrize("status", [404, 403, 401, 400])
def test_a_token_topomer_refuses_is_401_invalid_token(stack: LocalStack, api: httpx.Client, status: int) -> None:
    token = new_user(stack, "50.00")
    web.post(f"{stack.topomer}/_sim/tokens/refuse", json={"token": token, "status": status}, timeout=10)
    for response in (
        api.get("/balance/v1/balance", headers=auth(token)),
        authorize(api, token, new_order(stack, "5.00"), "5.00"),
    ):
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] == "invalid_token"
    assert token not in stack.log.read_text()


def test_a_refusal_is_asked_again_with_a_fresh_access_token(stack: LocalStack, api: httpx.Client) -> None:
    token = new_user(stack, "50.00")
    web.post(f"{stack.topomer}/_sim/tokens/refuse", json={"token": token, "status": 403}, timeout=10)
    web.delete(f"{stack.topomer}/_sim/requests", timeout=10).raise_for_status()
    assert api.get("/balance/v1/balance", headers=auth(token)).status_code == 401
    paths = [r["path"] for r in web.get(f"{stack.topomer}/_sim/requests", timeout=10).json()]
    asked = [p for p in paths if p in ("/api/auth/token", "/api/plugin/users/get-by-token")]
    assert asked[-3:] == ["/api/plugin/users/get-by-token", "/api/auth/token", "/api/plugin/users/get-by-token"]


# ------------------------------------------------------------------ no duplicates on a server that keeps every POST
@pytest.mark.parametrize("style", ["ok", "created", "empty"])
def test_an_order_report_is_not_duplicated_after_a_lost_answer(
    stack: LocalStack, api: httpx.Client, style: str
) -> None:
    assert stack.topomer_state()["dedup"]["orders"] is False  # a Topomer that keeps every report it gets
    token, order_id = new_user(stack, "100.00"), new_order(stack, "20.00")
    payment_id = authorize(api, token, order_id, "20.00").json()["payment_id"]
    with stack.answer_style(style):
        stack.set_faults("topomer", rules=[{"method": "POST", "path": ORDERS, "mode": "drop", "times": 5}])
        api.post(f"/balance/v1/payments/{payment_id}/capture", headers=auth(token))
        stack.clear_faults("topomer")
        for _ in range(2):
            stack.run_schedule("BalanceSyncFunction")
    assert len(order_reports(stack, order_id)) == 1
    sent = [e for e in stack.topomer_state()["post_log"] if e["idempotency_key"] == f"woo-backend-order-{payment_id}"]
    assert len(sent) == 1
    payment = api.get(f"/balance/v1/payments/{payment_id}", headers=auth(token)).json()
    assert payment["status"] == "needs_attention"  # a person checks Topomer; the money itself moved once
    assert "Check Topomer for order" in payment["steps"]["record_order"]["last_error"]
    assert Decimal(str(stack.topomer_state()["users"][token]["solde"])) == Decimal("80.00")


@pytest.mark.parametrize("mode", ["drop", "timeout"])
def test_a_promo_create_is_not_duplicated_after_a_lost_answer(
    stack: LocalStack, admin: httpx.Client, mode: str
) -> None:
    assert stack.topomer_state()["dedup"]["promos"] is False
    code = f"CONTRACT-{secrets.token_hex(4).upper()}"
    stack.set_faults("topomer", rules=[{"method": "POST", "path": PROMOS, "mode": mode, "times": 5}])
    created = admin.post("/promo/v1/codes", json={"code": code, "percentage": "7"})
    assert created.status_code == 201, created.text
    stack.clear_faults("topomer")
    taken = len(topomer_promos(stack, code))  # drop: created, answer lost (1); timeout: never reached (0)
    assert taken == (1 if mode == "drop" else 0)
    for _ in range(2):
        stack.run_schedule("PromoSyncFunction")
    assert len(topomer_promos(stack, code)) == taken  # never created again on its own
    side = admin.get(f"/promo/v1/codes/{code}").json()["sync"]["topomer"]
    assert side["status"] == "pending"  # what a person sees
    assert side["last_error"].startswith("topomer_promo_parked: ")
    assert "check Topomer" in side["last_error"]
    assert admin.get(f"/promo/v1/codes/{code}").json()["sync"]["woocommerce"]["status"] == "synced"


def test_a_promo_create_answer_naming_no_id_is_parked_not_duplicated(stack: LocalStack, admin: httpx.Client) -> None:
    code = f"CONTRACT-{secrets.token_hex(4).upper()}"
    with stack.answer_style("empty", name_created_id=False):
        admin.post("/promo/v1/codes", json={"code": code, "percentage": "7"}).raise_for_status()
        admin.patch(f"/promo/v1/codes/{code}", json={"percentage": "9"}).raise_for_status()
        stack.run_schedule("PromoSyncFunction")
    assert len(topomer_promos(stack, code)) == 1
    side = admin.get(f"/promo/v1/codes/{code}").json()["sync"]["topomer"]
    assert side["status"] == "pending"
    assert "named no id" in side["last_error"]


@pytest.mark.parametrize("style", ["ok", "object", "created", "empty"])
def test_a_promo_is_created_once_and_updated_by_the_id_its_answer_named(
    stack: LocalStack, admin: httpx.Client, style: str
) -> None:
    code = f"CONTRACT-{secrets.token_hex(4).upper()}"
    with stack.answer_style(style):
        created = admin.post("/promo/v1/codes", json={"code": code, "percentage": "7"})
        admin.patch(f"/promo/v1/codes/{code}", json={"percentage": "9"}).raise_for_status()
    assert created.json()["sync"]["topomer"]["status"] == "synced"
    [promo] = topomer_promos(stack, code)
    assert promo["percentage"] == "9"
    assert str(promo["id"]) == created.json()["sync"]["topomer"]["id"]
    [sent] = [e for e in stack.topomer_state()["post_log"] if e["idempotency_key"] == f"woo-backend-promo-{code}"]
    assert sent["path"] == PROMOS


def test_a_promo_created_before_its_update_failed_is_not_created_again(stack: LocalStack, admin: httpx.Client) -> None:
    # An inactive code is created, then updated (the create carries only code, percentage and type). When
    # that update fails, the id the create named is kept: the sync updates that promo, it creates no other.
    code = f"CONTRACT-{secrets.token_hex(4).upper()}"
    stack.set_faults("topomer", rules=[{"method": "PUT", "path": f"{PROMOS}/*", "mode": "500", "times": 10}])
    admin.post("/promo/v1/codes", json={"code": code, "percentage": "7", "active": False}).raise_for_status()
    side = admin.get(f"/promo/v1/codes/{code}").json()["sync"]["topomer"]
    assert (side["status"], side["id"]) == ("pending", str(topomer_promos(stack, code)[0]["id"]))
    stack.clear_faults("topomer")
    stack.run_schedule("PromoSyncFunction")
    [promo] = topomer_promos(stack, code)
    assert promo["active"] is False
    assert admin.get(f"/promo/v1/codes/{code}").json()["sync"]["topomer"]["status"] == "synced"


# ------------------------------------------------------------------ the simulator's switches themselves
def test_the_simulator_keeps_every_post_unless_told_to_honour_idempotency_keys(stack: LocalStack) -> None:
    creds = {"client_id": stack.secret("TOPOMER_CLIENT_ID"), "client_secret": stack.secret("TOPOMER_CLIENT_SECRET")}
    with web.Client(base_url=stack.topomer, timeout=10) as sim:
        access = sim.post("/api/auth/token", json=creds).json()["access_token"]
        sim.headers["Authorization"] = f"Bearer {access}"
        order_id = 990000 + next(_ids)
        key = {"Idempotency-Key": f"sim-{order_id}"}
        for _ in range(2):
            sim.post(ORDERS, json={"order_id": order_id}, headers=key).raise_for_status()
        assert len(order_reports(stack, order_id)) == 2  # a server that dedupes nothing
        try:
            sim.post("/_sim/dedup", json={"orders": True}).raise_for_status()
            first = sim.post(ORDERS, json={"order_id": order_id}, headers={"Idempotency-Key": "sim-other"})
            again = sim.post(ORDERS, json={"order_id": order_id}, headers={"Idempotency-Key": "sim-other"})
            assert (again.status_code, again.content) == (first.status_code, first.content)
            assert len(order_reports(stack, order_id)) == 3  # the same key taken once
        finally:
            sim.post("/_sim/dedup", json={"orders": False}).raise_for_status()
        assert sim.post("/_sim/answer_style", json={"style": "nope"}).status_code == 400
