"""The WooCommerce simulator's orders (``/wc/v3/orders``) and order notes (``/wc/v3/orders/{id}/notes``).

Modelled on WooCommerce (``woocommerce/woocommerce``, ``plugins/woocommerce/includes/``):
``rest-api/Controllers/Version2/class-wc-rest-orders-v2-controller.php`` (``prepare_line_items``, ``set_item``),
``abstracts/abstract-wc-order.php`` (``calculate_totals``), ``class-wc-order.php`` (``status_transition``,
``maybe_set_date_paid``) and the order notes controllers; each behaviour says which function it follows.

Control endpoint: ``POST /_sim/orders`` creates an order as ``POST /wc/v3/orders`` does.
"""

from __future__ import annotations

import copy
import itertools
import secrets
from decimal import Decimal
from typing import Any

from werkzeug.wrappers import Request, Response

from local.simulators.base import json_response
from local.simulators.woo_shop import PREFIX, WooShop, _money, _rest_error, wp_now
from woo_backend.clock import woo_date

# WooCommerce: includes/wc-order-functions.php, wc_get_order_statuses() (the names status notes use).
ORDER_STATUS_NAMES = {
    "pending": "Pending payment",
    "processing": "Processing",
    "on-hold": "On hold",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "refunded": "Refunded",
    "failed": "Failed",
}


def _order_status_name(status: str) -> str:
    return ORDER_STATUS_NAMES.get(status, status)


class WooOrders(WooShop):
    def add_routes(self) -> None:
        super().add_routes()
        self.rest_routes(
            "orders",
            "order_id",
            get_items=self.list_orders,
            create_item=self.create_order_api,
            get_item=self.get_order,
            update_item=self.update_order,
        )
        notes = "orders/<int:order_id>/notes"
        self.rest_routes(notes, get_items=self.list_order_notes, create_item=self.create_order_note)
        self.route("/_sim/orders", ["POST"], self.sim_create_order)

    # ------------------------------------------------------------ seed
    def reset(self) -> None:
        super().reset()
        self.orders: dict[int, dict[str, Any]] = {}
        self.order_notes: dict[int, list[dict[str, Any]]] = {}
        self._note_ids = itertools.count(7000)
        self.new_order(
            {
                "id": 45,
                "order_key": "wc_order_seedCompleted",
                "customer_id": 1,
                "status": "completed",
                "payment_method": "stripe",
                "line_items": [{"product_id": 10, "quantity": 1}, {"product_id": 11, "quantity": 1}],
            }
        )
        self.new_order(
            {
                "id": 46,
                "order_key": "wc_order_seedProcessing",
                "customer_id": 1,
                "status": "processing",
                "payment_method": "stripe",
                "line_items": [{"product_id": 10, "quantity": 2}],
            }
        )
        self.new_order(
            {
                "id": 47,
                "order_key": "wc_order_seedBankWire",
                "customer_id": 2,
                "status": "processing",
                "payment_method": "bacs",
                "line_items": [{"product_id": 11, "quantity": 1}],
            }
        )
        self.new_order(
            {
                "id": 48,
                "order_key": "wc_order_seedMixed",
                "customer_id": 2,
                "status": "processing",
                "payment_method": "stripe",
                "line_items": [{"product_id": 10, "quantity": 1}, {"product_id": 12, "quantity": 1}],
            }
        )
        self.new_order(
            {
                "id": 49,
                "order_key": "wc_order_seedTopomer",
                "customer_id": 1,
                "status": "pending",
                "payment_method": "topomer",
                "line_items": [{"product_id": 12, "quantity": 2}],
            }
        )

    def _new_line_item(self, item_id: int, raw: dict[str, Any]) -> dict[str, Any]:
        """A new line item, as the orders controller's ``prepare_line_items()`` makes one on create: the
        product's price times the quantity, unless ``total`` / ``subtotal`` are posted (they win)."""
        product = self.products.get(int(raw["product_id"]), {"name": "Removed product", "price": "0.00"})
        quantity = int(raw.get("quantity", 1))
        line_total = Decimal(product["price"]) * quantity
        item = {
            "id": item_id,
            "name": product["name"],
            "product_id": int(raw["product_id"]),
            "variation_id": 0,
            "quantity": quantity,
            "price": Decimal(product["price"]),
            "subtotal": _money(line_total),
            "total": _money(line_total),
            "sku": "",
            "meta_data": raw.get("meta_data", []),
        }
        self._set_line_item_props(item, raw)
        return item

    @staticmethod
    def _set_line_item_props(item: dict[str, Any], raw: dict[str, Any]) -> None:
        # WooCommerce: includes/rest-api/Controllers/Version2/class-wc-rest-orders-v2-controller.php,
        # prepare_line_items() -> maybe_set_item_props(name, quantity, total, subtotal): only what is posted.
        for key in ("name", "quantity"):
            if key in raw:
                item[key] = raw[key]
        for key in ("total", "subtotal"):
            if key in raw:
                item[key] = _money(Decimal(str(raw[key])))

    @staticmethod
    def _calculate_order_totals(order: dict[str, Any]) -> None:
        # WooCommerce: includes/abstracts/abstract-wc-order.php, calculate_totals(): the line totals plus
        # shipping and fees (this shop has no taxes, fees or coupons).
        lines = [*order["line_items"], *order.get("shipping_lines", [])]
        order["total"] = _money(sum((Decimal(str(line.get("total", "0"))) for line in lines), Decimal("0")))

    def new_order(self, data: dict[str, Any]) -> dict[str, Any]:
        order_id = int(data.get("id") or next(self._ids))
        moment = woo_date(wp_now())
        items = [
            self._new_line_item(order_id * 100 + index, raw) for index, raw in enumerate(data.get("line_items", []), 1)
        ]
        order = {
            "id": order_id,
            "parent_id": 0,
            "status": data.get("status", "pending"),
            # WooCommerce: the orders controller's schema: ``currency`` defaults to get_woocommerce_currency().
            "currency": data.get("currency", "EUR"),
            "date_created": self._site_time(moment),
            "date_created_gmt": moment,
            "date_modified": self._site_time(moment),
            "date_modified_gmt": moment,
            # WooCommerce: includes/class-wc-order.php, maybe_set_date_paid(): set once, when the order first
            # reaches a paid status (an order created as processing or completed is paid at once).
            "date_paid_gmt": moment if data.get("status") in ("processing", "completed") else None,
            "date_completed_gmt": moment if data.get("status") == "completed" else None,
            "total": "0.00",
            "customer_id": int(data.get("customer_id", 0)),
            "order_key": data.get("order_key")
            or f"wc_order_{secrets.token_urlsafe(9).replace('-', 'x').replace('_', 'y')}",
            "billing": copy.deepcopy(self.customers.get(int(data.get("customer_id", 0)), {}).get("billing", {})),
            "shipping": {},
            "payment_method": data.get("payment_method", "stripe"),
            "payment_method_title": data.get("payment_method", "stripe"),
            "line_items": items,
            "meta_data": data.get("meta_data", []),
            "shipping_lines": [],
            "refunds": [],
        }
        self._calculate_order_totals(order)
        self.orders[order_id] = order
        self.order_notes[order_id] = []
        return order

    def state(self) -> dict[str, Any]:
        return {"orders": self.orders, "order_notes": self.order_notes, **super().state()}

    # ------------------------------------------------------------ orders
    def list_orders(self, request: Request) -> Response:
        return self._paged(request, self._filter_common(request, list(self.orders.values())))

    def get_order(self, request: Request, order_id: int) -> Response:
        order = self.orders.get(order_id)
        return json_response(order) if order else self._not_found("shop_order")

    def create_order_api(self, request: Request) -> Response:
        return json_response(self.new_order(request.get_json(force=True)), status=201)

    def update_order(self, request: Request, order_id: int) -> Response:
        order = self.orders.get(order_id)
        if order is None:
            return self._not_found("shop_order")
        body = request.get_json(silent=True) or {}
        if "line_items" in body:
            # WooCommerce: class-wc-rest-orders-v2-controller.php, set_item(): an ``id`` updates that line
            # (400 if it is not the order's), no ``id`` adds one; then save_object() runs calculate_totals().
            lines = {item["id"]: item for item in order["line_items"]}
            for raw in body["line_items"]:
                if raw.get("id") and int(raw["id"]) not in lines:
                    return _rest_error(
                        "woocommerce_rest_invalid_item_id", "Order item ID provided is not associated with order.", 400
                    )
            for raw in body["line_items"]:
                if raw.get("id"):
                    self._set_line_item_props(lines[int(raw["id"])], raw)
                else:
                    order["line_items"].append(self._new_line_item(order_id * 100 + len(order["line_items"]) + 1, raw))
            self._calculate_order_totals(order)
        self._apply_order_change(order, body)
        return json_response(order)

    def _apply_order_change(self, order: dict[str, Any], body: dict[str, Any]) -> None:
        if "status" in body and body["status"] != order["status"]:
            # WooCommerce: includes/class-wc-order.php, status_transition(): every change of status adds a
            # system note "Order status changed from X to Y."
            before, after = _order_status_name(order["status"]), _order_status_name(body["status"])
            self._add_order_note(order["id"], f"Order status changed from {before} to {after}.")
        if "status" in body:
            order["status"] = body["status"]
            if body["status"] == "completed":
                order["date_completed_gmt"] = woo_date(wp_now())
            if body["status"] in ("processing", "completed") and not order["date_paid_gmt"]:
                order["date_paid_gmt"] = woo_date(wp_now())
        if "meta_data" in body:
            self._merge_meta(order, body["meta_data"])
        for key in ("billing", "shipping"):
            if key in body:
                order[key].update(body[key])
        self._touch(order)

    # ------------------------------------------------------------ order notes
    # WooCommerce: includes/rest-api/Controllers/Version3/class-wc-rest-order-notes-controller.php
    # (WC_REST_Order_Notes_Controller, routes from class-wc-rest-order-notes-v1-controller.php,
    # get_items() from class-wc-rest-order-notes-v2-controller.php). Notes are never deduplicated: the
    # same POST twice makes two notes.
    def _add_order_note(
        self, order_id: int, note: str, *, customer_note: bool = False, author: str = "system"
    ) -> dict[str, Any]:
        moment = woo_date(wp_now())
        entry = {
            "id": next(self._note_ids),
            # prepare_item_for_response(): "system" for notes WooCommerce itself (or added_by_user false) wrote.
            "author": author,
            "date_created": self._site_time(moment),
            "date_created_gmt": moment,
            "note": note,
            "customer_note": customer_note,
        }
        self.order_notes.setdefault(order_id, []).append(entry)
        return entry

    def list_order_notes(self, request: Request, order_id: int) -> Response:
        if order_id not in self.orders:
            # get_items(): "woocommerce_rest_{post_type}_invalid_id".
            return _rest_error("woocommerce_rest_shop_order_invalid_id", "Invalid order ID.", 404)
        notes = list(reversed(self.order_notes.get(order_id, [])))  # get_comments(): newest first, no paging
        kind = request.args.get("type", "any")
        if kind == "customer":
            notes = [n for n in notes if n["customer_note"]]
        elif kind == "internal":
            notes = [n for n in notes if not n["customer_note"]]
        return json_response(notes)

    def create_order_note(self, request: Request, order_id: int) -> Response:
        body = request.get_json(silent=True) or {}
        if not isinstance(body.get("note"), str):
            # WordPress core (WP_REST_Request::has_valid_params()): ``note`` is a required argument.
            return _rest_error("rest_missing_callback_param", "Missing parameter(s): note", 400, params=["note"])
        if order_id not in self.orders:
            # create_item(): "woocommerce_rest_order_invalid_id", 404.
            return _rest_error("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404)
        note = self._add_order_note(
            order_id,
            body["note"],
            customer_note=bool(body.get("customer_note", False)),
            author="shop-admin" if body.get("added_by_user") else "system",
        )
        return json_response(note, status=201, headers={"Location": f"{PREFIX}/orders/{order_id}/notes/{note['id']}"})

    # ------------------------------------------------------------ control
    def sim_create_order(self, request: Request) -> Response:
        return json_response(self.new_order(request.get_json(force=True)), status=201)
