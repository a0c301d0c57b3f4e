"""WooCommerce and Topomer as respx mocks: small in-memory fakes of the endpoints the routes call.

Each fake is one respx side effect: faults first (``fail``), then its table of ``(method, path) -> handler``.
A request no handler serves fails the test (respx refuses it), so a route calling something new is noticed.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

WOO_URL = "https://shop.test"
WOO_API = "/wp-json/wc/v3"
TOPOMER_URL = "https://topomer.test"

NOT_FOUND = {"code": "woocommerce_rest_invalid_id", "message": "Invalid ID.", "data": {"status": 404}}
Handler = Callable[[httpx.Request, re.Match[str]], httpx.Response]


@dataclass
class Fault:
    method: str
    path: str
    status: int | None
    error: type[httpx.TransportError] | None
    times: int | None
    body: Any = None

    def matches(self, request: httpx.Request) -> bool:
        return request.method == self.method and re.fullmatch(self.path, request.url.path) is not None


def answer(status: int, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    content = b"" if body is None else json.dumps(body).encode()
    return httpx.Response(status, content=content, headers={"Content-Type": "application/json", **(headers or {})})


class Upstream:
    """One faked HTTP API: its faults, then its handlers."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.handlers: list[tuple[str, re.Pattern[str], Handler]] = []
        self.faults: list[Fault] = []

    def serve(self, method: str, path: str, handler: Handler) -> None:
        self.handlers.append((method, re.compile(path), handler))

    def fail(
        self,
        method: str,
        path: str,
        *,
        status: int | None = 500,
        error: type[httpx.TransportError] | None = None,
        times: int | None = None,
        body: Any = None,
    ) -> None:
        """Answer ``status`` with ``body`` (or raise ``error``, e.g. ``httpx.ConnectTimeout``) for matching
        requests, ``times`` times (always by default)."""
        self.faults.append(Fault(method, path, None if error else status, error, times, body))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        for fault in self.faults:
            if fault.matches(request) and (fault.times is None or fault.times > 0):
                if fault.times is not None:
                    fault.times -= 1
                if fault.error is not None:
                    raise fault.error("faked", request=request)
                return answer(fault.status or 500, fault.body or {"code": "faked", "message": "faked failure"})
        for method, pattern, handler in self.handlers:
            found = pattern.fullmatch(request.url.path)
            if method == request.method and found:
                return handler(request, found)
        raise AssertionError(f"{self.base_url} has no fake for {request.method} {request.url.path}")


def _body(request: httpx.Request) -> dict[str, Any]:
    data = json.loads(request.content or b"{}")
    assert isinstance(data, dict)
    return data


# ------------------------------------------------------------------ WooCommerce
@dataclass
class Shop(Upstream):
    """Products, orders (and their notes), coupons, customers and subscriptions of one shop."""

    products: dict[int, dict[str, Any]] = field(default_factory=dict)
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    notes: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    coupons: dict[int, dict[str, Any]] = field(default_factory=dict)
    customers: dict[int, dict[str, Any]] = field(default_factory=dict)
    subscriptions: dict[int, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(WOO_URL)
        self._ids = itertools.count(100)
        api = re.escape(WOO_API)
        self.serve("GET", f"{api}/products", self._list_products)
        self.serve("GET", rf"{api}/orders/(\d+)", lambda _, m: self._get(self.orders, m))
        self.serve("PUT", rf"{api}/orders/(\d+)", lambda r, m: self._put(self.orders, r, m))
        self.serve("GET", rf"{api}/orders/(\d+)/notes", lambda _, m: answer(200, self.notes.get(int(m[1]), [])))
        self.serve("POST", rf"{api}/orders/(\d+)/notes", self._add_note)
        self.serve("GET", f"{api}/coupons", self._list_coupons)
        self.serve("POST", f"{api}/coupons", self._create_coupon)
        self.serve("PUT", rf"{api}/coupons/(\d+)", lambda r, m: self._put(self.coupons, r, m))
        self.serve("GET", rf"{api}/customers/(\d+)", lambda _, m: self._get(self.customers, m))
        self.serve("GET", rf"{api}/subscriptions/(\d+)", lambda _, m: self._get(self.subscriptions, m))
        self.serve("GET", f"{api}/orders", lambda r, _: self._list(self.orders, r))
        self.serve("GET", f"{api}/subscriptions", lambda r, _: self._list(self.subscriptions, r))

    def credits_product(self, product_id: int, credits: int) -> None:
        self.products[product_id] = {
            "id": product_id,
            "name": f"{credits} credits",
            "meta_data": [{"id": 1, "key": "_credits", "value": str(credits)}],
        }

    def order(self, order_id: int, **fields: Any) -> dict[str, Any]:
        order = {
            "id": order_id,
            "order_key": f"wc_order_{order_id}key",
            "status": "pending",
            "currency": "EUR",
            "total": "0.00",
            "customer_id": 1,
            "payment_method": "stripe",
            "date_modified_gmt": "2026-01-01T00:00:00",
            "date_paid_gmt": None,
            "line_items": [],
            "meta_data": [],
            **fields,
        }
        self.orders[order_id] = order
        return order

    @staticmethod
    def _get(store: dict[int, dict[str, Any]], found: re.Match[str]) -> httpx.Response:
        item = store.get(int(found[1]))
        if item is None:
            return answer(404, NOT_FOUND)
        return answer(200, item)

    @staticmethod
    def _put(store: dict[int, dict[str, Any]], request: httpx.Request, found: re.Match[str]) -> httpx.Response:
        item = store.get(int(found[1]))
        if item is None:
            return answer(404, NOT_FOUND)
        item.update(_body(request))
        return answer(200, item)

    @staticmethod
    def _list(store: dict[int, dict[str, Any]], request: httpx.Request) -> httpx.Response:
        """A customer's objects (``customer=``), one page of ``per_page`` from ``offset``."""
        customer = request.url.params.get("customer")
        items = [o for _, o in sorted(store.items()) if customer is None or str(o.get("customer_id")) == customer]
        offset, per_page = int(request.url.params.get("offset", 0)), int(request.url.params.get("per_page", 10))
        page = items[offset : offset + per_page]
        return answer(200, page, {"X-WP-Total": str(len(items)), "X-WP-TotalPages": str(-(-len(items) // per_page))})

    def _list_products(self, request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        wanted = {int(i) for i in request.url.params.get("include", "").split(",") if i}
        items = [p for pid, p in sorted(self.products.items()) if not wanted or pid in wanted]
        return answer(200, items, {"X-WP-Total": str(len(items)), "X-WP-TotalPages": "1"})

    def _add_note(self, request: httpx.Request, found: re.Match[str]) -> httpx.Response:
        note = {"id": next(self._ids), **_body(request)}
        self.notes.setdefault(int(found[1]), []).insert(0, note)
        return answer(201, note)

    def _list_coupons(self, request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        term = request.url.params.get("search", "").lower()
        items = [c for c in self.coupons.values() if term in str(c["code"]).lower()]
        return answer(200, items, {"X-WP-Total": str(len(items)), "X-WP-TotalPages": "1"})

    def _create_coupon(self, request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        data = _body(request)
        coupon = {"id": next(self._ids), **data, "code": str(data["code"]).lower()}
        self.coupons[coupon["id"]] = coupon
        return answer(201, coupon)


# ------------------------------------------------------------------ Topomer
INTERVALS: list[dict[str, Any]] = [
    {"min": "50.00", "max": "100.00", "pourcentage": "5"},
    {"min": "100.00", "max": "250.00", "pourcentage": "10"},
    {"min": "250.00", "max": None, "pourcentage": "15"},
]


@dataclass
class Topomer(Upstream):
    """Users by token (balance ``solde``, ``expired``), shoppers, price intervals, promos and order reports."""

    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    shoppers: dict[str, tuple[str, str]] = field(default_factory=dict)
    intervals: list[dict[str, Any]] = field(default_factory=lambda: list(INTERVALS))
    promos: dict[str, dict[str, Any]] = field(default_factory=dict)
    orders: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(TOPOMER_URL)
        self._ids = itertools.count(1)
        self.serve("POST", "/api/auth/token", lambda *_: answer(200, {"access_token": "at-1", "expires_in": 3600}))
        self.serve("GET", "/api/plugin/users/get-by-token", self._user)
        self.serve("POST", "/api/plugin/users/update-solde", self._update_balance)
        self.serve("POST", "/api/plugin/users/update-expired", self._expire)
        self.serve("GET", "/api/interval-prix", lambda *_: answer(200, self.intervals))
        self.serve("GET", r"/api/plugin/shoppers/([^/]+)/balance", self._shopper)
        self.serve("POST", "/api/plugin/promos", self._create_promo)
        self.serve("PUT", r"/api/plugin/promos/([^/]+)", self._update_promo)
        self.serve("POST", "/api/plugin/orders", self._record_order)

    def user(self, token: str, balance: str, *, expired: bool = False, user_id: int = 7) -> str:
        self.users[token] = {"id": user_id, "solde": balance, "expired": expired, "email": "payer@example.com"}
        return token

    def balance_of(self, token: str) -> Decimal:
        return Decimal(str(self.users[token]["solde"]))

    def _user(self, request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        user = self.users.get(request.url.params.get("token", ""))
        return answer(200, user) if user else answer(404, {"message": "unknown token"})

    def _update_balance(self, request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        data = _body(request)
        self.users[data["token"]]["solde"] = data["solde"]
        return answer(200, {"ok": True})

    def _expire(self, request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        self.users[_body(request)["token"]]["expired"] = True
        return answer(200, {"ok": True})

    def _shopper(self, request: httpx.Request, found: re.Match[str]) -> httpx.Response:
        known = self.shoppers.get(found[1])
        if known is None or request.headers.get("X-Shopper-Token") != known[0]:
            return answer(404, {"message": "unknown shopper"})
        return answer(200, {"balance": known[1]})

    def _create_promo(self, request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        promo_id = str(next(self._ids))
        self.promos[promo_id] = _body(request)
        return answer(201, {"id": promo_id})

    def _update_promo(self, request: httpx.Request, found: re.Match[str]) -> httpx.Response:
        self.promos.setdefault(found[1], {}).update(_body(request))
        return answer(200, {"ok": True})

    def _record_order(self, request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        self.orders.append(_body(request))
        return answer(201, {"ok": True})
