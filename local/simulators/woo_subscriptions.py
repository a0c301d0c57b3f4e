"""The WooCommerce simulator's subscriptions (WooCommerce Subscriptions' ``/wc/v3/subscriptions``) and shipping."""

from __future__ import annotations

import copy
from datetime import timedelta
from decimal import Decimal
from typing import Any

from werkzeug.wrappers import Request, Response

from local.simulators.base import json_response
from local.simulators.woo_shop import PREFIX, WooShop, _fmt, _money, _now


class WooSubscriptions(WooShop):
    def add_routes(self) -> None:
        super().add_routes()
        r = self.route
        r(f"{PREFIX}/subscriptions", ["GET"], self.list_subscriptions)
        r(f"{PREFIX}/subscriptions/<int:subscription_id>", ["GET"], self.get_subscription)
        r(f"{PREFIX}/subscriptions/<int:subscription_id>", ["PUT", "POST", "PATCH"], self.update_subscription)
        r(f"{PREFIX}/shipping_methods", ["GET"], self.list_shipping_methods)

    def reset(self) -> None:
        super().reset()
        self.subscriptions: dict[int, dict[str, Any]] = {}
        self.shipping_methods = [
            {"id": "flat_rate", "title": "Flat rate", "description": "", "cost": "5.00"},
            {"id": "free_shipping", "title": "Free shipping", "description": "", "cost": "0.00"},
            {"id": "local_pickup", "title": "Local pickup", "description": "", "cost": "0.00"},
        ]
        self.new_subscription(501, 1, [13], "active", "week", 4)
        self.new_subscription(502, 2, [14], "active", "month", 1)

    def state(self) -> dict[str, Any]:
        return {**super().state(), "subscriptions": self.subscriptions}

    def new_subscription(
        self, sid: int, customer_id: int, product_ids: list[int], status: str, period: str, interval: int
    ) -> dict[str, Any]:
        now = _now()
        items = []
        total = Decimal("0")
        for index, pid in enumerate(product_ids, start=1):
            product = self.products[pid]
            total += Decimal(product["price"])
            items.append(
                {
                    "id": sid * 100 + index,
                    "name": product["name"],
                    "product_id": pid,
                    "variation_id": 0,
                    "quantity": 1,
                    "total": product["price"],
                    "meta_data": [],
                }
            )
        shipping = self.shipping_methods[0]
        subscription = {
            "id": sid,
            "parent_id": 45 if customer_id == 1 else 47,
            "status": status,
            "customer_id": customer_id,
            "currency": "EUR",
            "billing_period": period,
            "billing_interval": str(interval),
            "start_date_gmt": _fmt(now - timedelta(days=60)),
            "date_created_gmt": _fmt(now - timedelta(days=60)),
            "date_modified_gmt": _fmt(now),
            "next_payment_date_gmt": _fmt(now + timedelta(days=7)),
            "end_date_gmt": "",
            "trial_end_date_gmt": "",
            "last_payment_date_gmt": _fmt(now - timedelta(days=21)),
            "line_items": items,
            "meta_data": [],
            "shipping_lines": [
                {
                    "id": sid * 10,
                    "method_id": shipping["id"],
                    "method_title": shipping["title"],
                    "total": shipping["cost"],
                }
            ],
            "shipping_total": shipping["cost"],
            "total": _money(total + Decimal(shipping["cost"])),
            "billing": copy.deepcopy(self.customers[customer_id]["billing"]),
            "shipping": copy.deepcopy(self.customers[customer_id]["shipping"]),
        }
        self.subscriptions[sid] = subscription
        return subscription

    # ------------------------------------------------------------ subscriptions and shipping
    def list_subscriptions(self, request: Request) -> Response:
        items = self._filter_common(request, list(self.subscriptions.values()))
        if "parent" in request.args:
            parents = set(request.args["parent"].split(","))
            items = [s for s in items if str(s["parent_id"]) in parents]
        return self._paged(request, items)

    def get_subscription(self, request: Request, subscription_id: int) -> Response:
        sub = self.subscriptions.get(subscription_id)
        return json_response(sub) if sub else self._not_found("shop_subscription")

    def update_subscription(self, request: Request, subscription_id: int) -> Response:
        sub = self.subscriptions.get(subscription_id)
        if sub is None:
            return self._not_found("shop_subscription")
        body = request.get_json(silent=True) or {}
        statuses = {"pending", "active", "on-hold", "pending-cancel", "cancelled", "expired"}
        new_status = body.get("transition_status") or body.get("status")
        if new_status is not None:
            if new_status not in statuses:
                return json_response(
                    {"code": "woocommerce_rest_invalid_status", "message": "Invalid status"}, status=400
                )
            if body.get("transition_status") and new_status == "cancelled" and sub["status"] == "active":
                new_status = "pending-cancel"  # as the store does for a customer cancel in a paid period
                sub["end_date_gmt"] = sub["next_payment_date_gmt"]
            sub["status"] = new_status
        for key in ("billing_period", "billing_interval", "next_payment_date_gmt", "billing", "shipping"):
            if key in body:
                if isinstance(sub.get(key), dict):
                    sub[key].update(body[key])
                else:
                    sub[key] = body[key]
        if "meta_data" in body:
            self._merge_meta(sub, body["meta_data"])
        if "line_items" in body:
            sub["line_items"] = [
                {
                    "id": sub["id"] * 100 + i,
                    "name": self.products[int(li["product_id"])]["name"],
                    "product_id": int(li["product_id"]),
                    "variation_id": 0,
                    "quantity": int(li.get("quantity", 1)),
                    "total": self.products[int(li["product_id"])]["price"],
                    "meta_data": [],
                }
                for i, li in enumerate(body["line_items"], start=1)
                if int(li["product_id"]) in self.products
            ]
        if "shipping_lines" in body:
            lines = []
            for line in body["shipping_lines"]:
                method = next((m for m in self.shipping_methods if m["id"] == line.get("method_id")), None)
                if method is None:
                    return json_response(
                        {"code": "rest_invalid_param", "message": "Invalid shipping method"}, status=400
                    )
                lines.append(
                    {
                        "id": sub["id"] * 10,
                        "method_id": method["id"],
                        "method_title": method["title"],
                        "total": line.get("total", method["cost"]),
                    }
                )
            sub["shipping_lines"] = lines
        items_total = sum((Decimal(str(li["total"])) for li in sub["line_items"]), Decimal("0"))
        shipping_total = sum((Decimal(str(sl["total"])) for sl in sub["shipping_lines"]), Decimal("0"))
        sub["shipping_total"] = _money(shipping_total)
        sub["total"] = _money(items_total + shipping_total)
        self._touch(sub)
        return json_response(sub)

    def list_shipping_methods(self, request: Request) -> Response:
        return json_response(self.shipping_methods)
