"""What the Topomer payment e2e modules share: a Topomer user, a WooCommerce order to pay, and the calls."""

from __future__ import annotations

import itertools
import secrets
from decimal import Decimal
from typing import Any

import httpx

from tests.e2e import web
from tests.e2e.conftest import LocalStack

_ids = itertools.count(9000)  # Topomer user ids, clear of the seeded ones
ORDERS = "/api/plugin/orders"


def new_user(stack: LocalStack, balance: str, **fields: Any) -> str:
    """A Topomer user holding ``balance``; ``fields`` override the user's other fields (email, expired...)."""
    token = f"tpm_e2e_{secrets.token_hex(8)}"
    user = {"id": next(_ids), "token": token, "email": "e2e@example.com", "solde": balance, "expired": False}
    web.post(f"{stack.topomer}/_sim/users", json={**user, **fields}, timeout=10).raise_for_status()
    return token


def new_order(stack: LocalStack, total: str, *, currency: str = "EUR", status: str = "pending") -> int:
    """A Topomer order of one line whose total is ``total`` (a posted line total, as WooCommerce takes it)."""
    order = {
        "customer_id": 1,
        "payment_method": "topomer",
        "status": status,
        "currency": currency,
        "line_items": [{"product_id": 12, "quantity": 1, "total": total, "subtotal": total}],
    }
    response = web.post(f"{stack.woocommerce}/_sim/orders", json=order, timeout=10)
    response.raise_for_status()
    return int(response.json()["id"])


def authorize(
    api: httpx.Client, token: str, order_id: int, amount: str, *, key: str | None = None, currency: str | None = None
) -> httpx.Response:
    body: dict[str, Any] = {"token": token, "order_id": order_id, "amount": amount}
    if currency is not None:
        body["currency"] = currency
    return api.post("/balance/v1/payments", json=body, headers={"Idempotency-Key": key or secrets.token_hex(8)})


def auth(token: str) -> dict[str, str]:
    return {"X-Topomer-Token": token}


def topomer_balance(stack: LocalStack, token: str) -> Decimal:
    return Decimal(str(stack.topomer_state()["users"][token]["solde"]))


def order_reports(stack: LocalStack, order_id: int) -> list[dict[str, Any]]:
    """Every report of the order Topomer took (the simulator keeps duplicates, as a real server may)."""
    return [o for o in stack.topomer_state()["orders"] if o["order_id"] == order_id]
