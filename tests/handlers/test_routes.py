"""Every HTTP route of ``template.yaml`` answers its success status in process (a route added to the template
without a case here fails ``test_every_template_route_has_a_success_case``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from local import template
from tests.handlers.conftest import ADMIN, Load, account_credentials, signed_webhook
from tests.handlers.events import Answer
from tests.handlers.lambdas import Function
from tests.handlers.test_balance import ORDER_ID, TOKEN, auth, pay
from tests.handlers.test_credits import granted
from tests.handlers.test_promo import create
from tests.handlers.upstreams import Shop, Topomer


@dataclass
class World:
    load: Load
    shop: Shop
    topomer: Topomer

    def credits(self) -> tuple[Function, str]:
        credits = self.load("CreditsFunction")
        return credits, granted(credits, self.shop)["order_key"]

    def balance(self) -> Function:
        self.shop.order(ORDER_ID, total="40.00", payment_method="topomer")
        self.topomer.user(TOKEN, "100.00")
        return self.load("BalanceFunction")

    def payment(self) -> tuple[Function, str]:
        balance = self.balance()
        return balance, str(pay(balance).json()["payment_id"])

    def promo(self) -> Function:
        promo = self.load("PromoFunction")
        assert create(promo, "ROUTE-1", "10").status == 201
        return promo


def _credits(method: str, tail: str, **request: Any) -> Callable[[World], Answer]:
    def run(world: World) -> Answer:
        credits, key = world.credits()
        return credits(method, tail.format(key=key), **request)

    return run


def _payment(action: str) -> Callable[[World], Answer]:
    def run(world: World) -> Answer:
        balance, payment_id = world.payment()
        return balance("POST" if action else "GET", f"/balance/v1/payments/{payment_id}{action}", headers=auth())

    return run


def _balance_webhook(world: World) -> Answer:
    balance, _ = world.payment()
    paid = world.shop.order(ORDER_ID, total="40.00", payment_method="topomer", status="processing")
    return balance("POST", "/balance/webhooks/order", **signed_webhook(paid))


def _shopper(world: World) -> Answer:
    world.topomer.shoppers["s-1"] = ("s-token", "1.00")
    return world.load("BalanceFunction")(
        "GET", "/balance/v1/shoppers/s-1/balance", headers={"X-Shopper-Token": "s-token"}
    )


def _promo(method: str, path: str, **request: Any) -> Callable[[World], Answer]:
    return lambda world: world.promo()(method, path, headers=ADMIN, **request)


def _admin(method: str, path: str, **request: Any) -> Callable[[World], Answer]:
    return lambda world: world.load("AdminFunction")(method, path, headers=ADMIN, **request)


def _admin_credits(method: str, tail: str, **request: Any) -> Callable[[World], Answer]:
    def run(world: World) -> Answer:
        _, key = world.credits()
        headers = {**ADMIN, "Idempotency-Key": "route-adjust-1"}
        return world.load("AdminFunction")(method, tail.format(key=key), headers=headers, **request)

    return run


def _admin_payment(action: str, **request: Any) -> Callable[[World], Answer]:
    """An admin route over a payment: authorized, or (``/resolve``) stopped because its order's total changed."""

    def run(world: World) -> Answer:
        balance, payment_id = world.payment()
        if action == "/resolve":
            world.shop.order(ORDER_ID, total="55.00", payment_method="topomer")
            balance("POST", f"/balance/v1/payments/{payment_id}/capture", headers=auth())  # needs_attention
        method = "POST" if action else "GET"
        return world.load("AdminFunction")(method, f"/admin/v1/payments/{payment_id}{action}", headers=ADMIN, **request)

    return run


def _credits_webhook(world: World) -> Answer:
    credits = world.load("CreditsFunction")
    order = world.shop.order(1, status="on-hold", line_items=[])
    return credits("POST", "/credits/webhooks/order", **signed_webhook(order))


SUCCESS: dict[str, tuple[int, Callable[[World], Answer]]] = {
    "POST /credits/webhooks/order": (200, _credits_webhook),
    "GET /credits/v1/orders/{order_key}": (200, _credits("GET", "/credits/v1/orders/{key}")),
    "POST /credits/v1/orders/{order_key}/consume": (
        200,
        _credits("POST", "/credits/v1/orders/{key}/consume", json_body={"amount": 1}),
    ),
    "GET /credits/v1/orders/{order_key}/transactions": (200, _credits("GET", "/credits/v1/orders/{key}/transactions")),
    "GET /dotix/v1/order/{order_key}": (200, _credits("GET", "/dotix/v1/order/{key}")),
    "POST /dotix/v1/order/{order_key}": (200, _credits("POST", "/dotix/v1/order/{key}", form={"num": "1"})),
    "GET /wp-json/dotix/v1/order/{order_key}": (200, _credits("GET", "/wp-json/dotix/v1/order/{key}")),
    "POST /wp-json/dotix/v1/order/{order_key}": (
        200,
        _credits("POST", "/wp-json/dotix/v1/order/{key}", form={"num": "1"}),
    ),
    "GET /balance/v1/balance": (200, lambda world: world.balance()("GET", "/balance/v1/balance", headers=auth())),
    "POST /balance/v1/payments": (201, lambda world: pay(world.balance())),
    "GET /balance/v1/payments/{payment_id}": (200, _payment("")),
    "POST /balance/v1/payments/{payment_id}/capture": (200, _payment("/capture")),
    "POST /balance/v1/payments/{payment_id}/void": (200, _payment("/void")),
    "POST /balance/webhooks/order": (200, _balance_webhook),
    "GET /balance/v1/shoppers/{shopper_id}/balance": (200, _shopper),
    "GET /promo/v1/intervals": (200, lambda world: world.load("PromoFunction")("GET", "/promo/v1/intervals")),
    "POST /promo/v1/auto": (
        201,
        lambda world: world.load("PromoFunction")(
            "POST", "/promo/v1/auto", json_body={"cart_id": "c-1", "cart_total": "120.00", "currency": "EUR"}
        ),
    ),
    "POST /promo/v1/codes": (
        201,
        lambda world: world.load("PromoFunction")(
            "POST", "/promo/v1/codes", json_body={"code": "NEW-1", "percentage": "5"}, headers=ADMIN
        ),
    ),
    "GET /promo/v1/codes": (200, _promo("GET", "/promo/v1/codes")),
    "GET /promo/v1/codes/{code}": (200, _promo("GET", "/promo/v1/codes/ROUTE-1")),
    "PATCH /promo/v1/codes/{code}": (200, _promo("PATCH", "/promo/v1/codes/ROUTE-1", json_body={"percentage": "20"})),
    "DELETE /promo/v1/codes/{code}": (200, _promo("DELETE", "/promo/v1/codes/ROUTE-1")),
    "GET /admin": (200, _admin("GET", "/admin")),
    "GET /admin/{file}": (200, _admin("GET", "/admin/app.js")),
    "GET /admin/v1/audit": (200, _admin("GET", "/admin/v1/audit")),
    "GET /admin/v1/credits/orders": (200, _admin_credits("GET", "/admin/v1/credits/orders")),
    "GET /admin/v1/credits/daily": (200, _admin("GET", "/admin/v1/credits/daily")),
    "GET /admin/v1/credits/orders/{order_key}": (200, _admin_credits("GET", "/admin/v1/credits/orders/{key}")),
    "POST /admin/v1/credits/orders/{order_key}/adjustments": (
        201,
        _admin_credits(
            "POST", "/admin/v1/credits/orders/{key}/adjustments", json_body={"amount": 5, "reason": "goodwill"}
        ),
    ),
    "GET /admin/v1/payments": (200, _admin("GET", "/admin/v1/payments")),
    "GET /admin/v1/payments/daily": (200, _admin("GET", "/admin/v1/payments/daily")),
    "GET /admin/v1/payments/{payment_id}": (200, _admin_payment("")),
    "POST /admin/v1/payments/{payment_id}/retry": (200, _admin_payment("/retry")),
    "POST /admin/v1/payments/{payment_id}/void": (200, _admin_payment("/void")),
    "POST /admin/v1/payments/{payment_id}/resolve": (200, _admin_payment("/resolve", json_body={"note": "settled"})),
    "GET /admin/v1/drift": (200, _admin("GET", "/admin/v1/drift")),
    "GET /admin/v1/health": (200, _admin("GET", "/admin/v1/health")),
    "POST /account/v1": (
        200,
        lambda world: world.load("AccountFunction")(
            "POST", "/account/v1", json_body={**account_credentials(1), "action": "describe"}
        ),
    ),
}
ROUTES = sorted(route.route_key for route in template.routes())


def test_every_template_route_has_a_success_case() -> None:
    assert sorted(SUCCESS) == ROUTES


@pytest.mark.parametrize("route_key", ROUTES)
def test_route_answers_its_success_status(load: Load, shop: Shop, topomer: Topomer, route_key: str) -> None:
    status, run = SUCCESS[route_key]
    answer = run(World(load, shop, topomer))
    assert answer.status == status, answer.body
    if route_key.startswith("GET /admin/{file}") or route_key == "GET /admin":  # the console's page and files
        assert answer.headers["content-type"].startswith(("text/html", "text/javascript", "application/javascript"))
        return
    assert answer.headers["content-type"] == "application/json"
    assert isinstance(answer.json(), dict)
