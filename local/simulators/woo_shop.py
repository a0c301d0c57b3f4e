"""The WooCommerce simulator's shop: seed data, Basic auth, paging, orders, products and customers.

The other parts (coupons, subscriptions and shipping, webhooks) extend this class in their own modules;
``local.simulators.woocommerce`` puts them together.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import math
import os
import secrets
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug.wrappers import Request, Response

from local.simulators.base import Simulator, json_response

CONSUMER_KEY = "ck_local_consumer_key"
CONSUMER_SECRET = "cs_local_consumer_secret"
PREFIX = "/wp-json/wc/v3"
DEFAULT_SITE_TIMEZONE = "Europe/Paris"  # not UTC: a client that forgets the offset is caught


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _fmt(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


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


class WooShop(Simulator):
    name = "woocommerce"

    def __init__(
        self,
        consumer_key: str = CONSUMER_KEY,
        consumer_secret: str = CONSUMER_SECRET,
        *,
        local_mode: bool = False,
        site_timezone: str | None = None,
    ) -> None:
        """``local_mode``: accept Basic auth over plain HTTP (this machine only; a real shop refuses it).
        ``site_timezone``: WordPress's Settings > General > Timezone (``WOO_SIM_TIMEZONE``, else Europe/Paris):
        dates without an offset are read in it, and the non-``_gmt`` dates of answers are shown in it."""
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.local_mode = local_mode
        self.site_timezone = ZoneInfo(site_timezone or os.environ.get("WOO_SIM_TIMEZONE") or DEFAULT_SITE_TIMEZONE)
        super().__init__()
        self.add_routes()

    def add_routes(self) -> None:
        """Each part adds its routes (cooperatively, through ``super()``)."""
        r = self.route
        r(f"{PREFIX}/orders", ["GET"], self.list_orders)
        r(f"{PREFIX}/orders", ["POST"], self.create_order_api)
        r(f"{PREFIX}/orders/<int:order_id>", ["GET"], self.get_order)
        r(f"{PREFIX}/orders/<int:order_id>", ["PUT", "POST", "PATCH"], self.update_order)
        r(f"{PREFIX}/orders/<int:order_id>/notes", ["GET"], self.list_order_notes)
        r(f"{PREFIX}/orders/<int:order_id>/notes", ["POST"], self.create_order_note)
        r(f"{PREFIX}/products", ["GET"], self.list_products)
        r(f"{PREFIX}/products/<int:product_id>", ["GET"], self.get_product)
        r(f"{PREFIX}/customers/<int:customer_id>", ["GET"], self.get_customer)
        r(f"{PREFIX}/customers/<int:customer_id>", ["PUT", "POST", "PATCH"], self.update_customer)
        r("/_sim/orders", ["POST"], self.sim_create_order)

    # ------------------------------------------------------------ seed
    def reset(self) -> None:
        self._ids = itertools.count(1000)
        self.products: dict[int, dict[str, Any]] = {}
        for pid, name, price, credits, kind in [
            (10, "100 credits", "9.00", 100, "simple"),
            (11, "500 credits", "39.00", 500, "simple"),
            (12, "T-shirt", "25.00", None, "simple"),
            (13, "Coffee box", "30.00", None, "subscription"),
            (14, "Tea box", "28.00", None, "subscription"),
            (15, "Cocoa box", "26.00", None, "subscription"),
        ]:
            meta = [{"id": pid * 10, "key": "_credits", "value": str(credits)}] if credits else []
            self.products[pid] = {
                "id": pid,
                "name": name,
                "type": kind,
                "status": "publish",
                "price": price,
                "regular_price": price,
                "meta_data": meta,
            }
        self.customers: dict[int, dict[str, Any]] = {
            1: self._customer(1, "alice@example.com", "Alice", "Martin"),
            2: self._customer(2, "bob@example.com", "Bob", "Durand"),
        }
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

    def _customer(self, cid: int, email: str, first: str, last: str) -> dict[str, Any]:
        moment = _fmt(_now() - timedelta(days=100))
        address = {
            "first_name": first,
            "last_name": last,
            "address_1": "1 Rue de la Paix",
            "city": "Paris",
            "postcode": "75002",
            "country": "FR",
            "email": email,
            "phone": "+33100000000",
        }
        return {
            "id": cid,
            "email": email,
            "first_name": first,
            "last_name": last,
            "username": first.lower(),
            "role": "customer",
            "date_created_gmt": moment,
            "date_modified_gmt": moment,
            "billing": dict(address),
            "shipping": {k: v for k, v in address.items() if k not in ("email", "phone")},
            "meta_data": [{"id": cid * 100, "key": "preferred_language", "value": "fr"}],
        }

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
        moment = _fmt(_now())
        items = [
            self._new_line_item(order_id * 100 + index, raw) for index, raw in enumerate(data.get("line_items", []), 1)
        ]
        order = {
            "id": order_id,
            "parent_id": 0,
            "status": data.get("status", "pending"),
            # WooCommerce: the orders controller's schema: ``currency`` defaults to get_woocommerce_currency().
            "currency": data.get("currency", "EUR"),
            "date_created": moment,
            "date_created_gmt": moment,
            "date_modified": moment,
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
        return {
            "orders": self.orders,
            "order_notes": self.order_notes,
            "products": self.products,
            "customers": self.customers,
        }

    def authorize(self, request: Request) -> Response | None:
        # WooCommerce: includes/class-wc-rest-authentication.php, authenticate(): Basic auth (the
        # consumer_key/consumer_secret query parameters first, else the Authorization header) is tried only
        # when is_ssl(); over plain HTTP only OAuth 1.0a signatures are (not modelled here), so Basic
        # credentials authenticate nobody. Unless this simulator runs in its explicit local mode.
        if not request.path.startswith(PREFIX):
            return None
        if not (self.local_mode or request.scheme == "https"):
            return self._unauthenticated(request)
        # perform_basic_authentication()
        key, secret = request.args.get("consumer_key"), request.args.get("consumer_secret")
        if not (key and secret):
            auth = request.authorization
            key, secret = (auth.username, auth.password) if auth else (None, None)
        if not (key and secret) or key != self.consumer_key:
            return self._unauthenticated(request)
        if not hmac.compare_digest(secret, self.consumer_secret):
            return json_response(
                {
                    "code": "woocommerce_rest_authentication_error",
                    "message": "Consumer secret is invalid.",
                    "data": {"status": 401},
                },
                status=401,
                # send_unauthorized_headers(): only after a failed Basic attempt.
                headers={
                    "WWW-Authenticate": 'Basic realm="WooCommerce API. Use a consumer key in the username field '
                    'and a consumer secret in the password field."'
                },
            )
        return None

    @staticmethod
    def _unauthenticated(request: Request) -> Response:
        """No user: the controller's permission check refuses, 401 (rest_authorization_required_code())."""
        # WooCommerce: includes/rest-api/Controllers/Version2/class-wc-rest-crud-controller.php and the
        # posts controllers, *_permissions_check(): the error each kind of request gets.
        item = request.path.rstrip("/").rsplit("/", 1)[-1].isdigit()
        if request.method == "GET" and item:
            code, message = "cannot_view", "Sorry, you cannot view this resource."
        elif request.method == "GET":
            code, message = "cannot_view", "Sorry, you cannot list resources."
        elif request.method == "POST" and not item:
            code, message = "cannot_create", "Sorry, you are not allowed to create resources."
        elif request.method == "DELETE":
            code, message = "cannot_delete", "Sorry, you are not allowed to delete this resource."
        else:
            code, message = "cannot_edit", "Sorry, you are not allowed to edit this resource."
        return json_response(
            {"code": f"woocommerce_rest_{code}", "message": message, "data": {"status": 401}}, status=401
        )

    # ------------------------------------------------------------ helpers
    @staticmethod
    def _not_found(kind: str) -> Response:
        return json_response(
            {"code": f"woocommerce_rest_{kind}_invalid_id", "message": "Invalid ID.", "data": {"status": 404}},
            status=404,
        )

    @staticmethod
    def _paged(request: Request, items: list[dict[str, Any]]) -> Response:
        try:
            per_page = int(request.args.get("per_page", 10))
            page = int(request.args.get("page", 1))
            offset = int(request.args["offset"]) if "offset" in request.args else None
        except ValueError:
            return json_response({"code": "rest_invalid_param", "message": "Invalid parameter(s)"}, status=400)
        if not 1 <= per_page <= 100 or page < 1:
            return json_response(
                {"code": "rest_invalid_param", "message": "Invalid parameter(s): per_page"}, status=400
            )
        order_by = request.args.get("orderby", "date")
        key = {"date": "date_created_gmt", "modified": "date_modified_gmt", "id": "id"}.get(order_by, "id")
        items = sorted(
            items, key=lambda o: (str(o.get(key, "")), o["id"]), reverse=request.args.get("order", "desc") == "desc"
        )
        start = offset if offset is not None else (page - 1) * per_page
        total_pages = max(1, math.ceil(len(items) / per_page)) if items else 0
        return json_response(
            items[start : start + per_page],
            headers={"X-WP-Total": str(len(items)), "X-WP-TotalPages": str(total_pages)},
        )

    @staticmethod
    def _filter_common(request: Request, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if "include" in request.args:
            wanted = {int(x) for x in request.args["include"].split(",") if x.strip().isdigit()}
            items = [i for i in items if i["id"] in wanted]
        if "exclude" in request.args:
            unwanted = {int(x) for x in request.args["exclude"].split(",") if x.strip().isdigit()}
            items = [i for i in items if i["id"] not in unwanted]
        if "customer" in request.args:
            items = [i for i in items if str(i.get("customer_id")) == request.args["customer"]]
        if "status" in request.args and request.args["status"] != "any":
            wanted_status = set(request.args["status"].split(","))
            items = [i for i in items if i.get("status") in wanted_status]
        if "modified_after" in request.args:
            after = request.args["modified_after"].replace("Z", "")[:19]
            items = [i for i in items if i.get("date_modified_gmt", "") > after]
        return items

    def _touch(self, obj: dict[str, Any]) -> None:
        moment = _fmt(_now())
        obj["date_modified_gmt"] = moment
        if "date_modified" in obj:
            obj["date_modified"] = moment

    @staticmethod
    def _merge_meta(obj: dict[str, Any], meta: list[dict[str, Any]]) -> None:
        for entry in meta:
            existing = next((m for m in obj["meta_data"] if m["key"] == entry.get("key")), None)
            if existing:
                existing["value"] = entry.get("value")
            else:
                obj["meta_data"].append(
                    {"id": len(obj["meta_data"]) + 1, "key": entry["key"], "value": entry.get("value")}
                )

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
                    return json_response(
                        {
                            "code": "woocommerce_rest_invalid_item_id",
                            "message": "Order item ID provided is not associated with order.",
                            "data": {"status": 400},
                        },
                        status=400,
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
                order["date_completed_gmt"] = _fmt(_now())
            if body["status"] in ("processing", "completed") and not order["date_paid_gmt"]:
                order["date_paid_gmt"] = _fmt(_now())
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
        moment = _fmt(_now())
        entry = {
            "id": next(self._note_ids),
            # prepare_item_for_response(): "system" for notes WooCommerce itself (or added_by_user false) wrote.
            "author": author,
            "date_created": moment,
            "date_created_gmt": moment,
            "note": note,
            "customer_note": customer_note,
        }
        self.order_notes.setdefault(order_id, []).append(entry)
        return entry

    def list_order_notes(self, request: Request, order_id: int) -> Response:
        if order_id not in self.orders:
            # get_items(): "woocommerce_rest_{post_type}_invalid_id".
            return json_response(
                {
                    "code": "woocommerce_rest_shop_order_invalid_id",
                    "message": "Invalid order ID.",
                    "data": {"status": 404},
                },
                status=404,
            )
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
            return json_response(
                {
                    "code": "rest_missing_callback_param",
                    "message": "Missing parameter(s): note",
                    "data": {"status": 400, "params": ["note"]},
                },
                status=400,
            )
        if order_id not in self.orders:
            # create_item(): "woocommerce_rest_order_invalid_id", 404.
            return json_response(
                {"code": "woocommerce_rest_order_invalid_id", "message": "Invalid order ID.", "data": {"status": 404}},
                status=404,
            )
        note = self._add_order_note(
            order_id,
            body["note"],
            customer_note=bool(body.get("customer_note", False)),
            author="shop-admin" if body.get("added_by_user") else "system",
        )
        return json_response(note, status=201, headers={"Location": f"{PREFIX}/orders/{order_id}/notes/{note['id']}"})

    # ------------------------------------------------------------ products, customers
    def list_products(self, request: Request) -> Response:
        items = self._filter_common(request, list(self.products.values()))
        if "type" in request.args:
            items = [p for p in items if p["type"] == request.args["type"]]
        return self._paged(request, items)

    def get_product(self, request: Request, product_id: int) -> Response:
        product = self.products.get(product_id)
        return json_response(product) if product else self._not_found("product")

    def get_customer(self, request: Request, customer_id: int) -> Response:
        customer = self.customers.get(customer_id)
        return json_response(customer) if customer else self._not_found("customer")

    def update_customer(self, request: Request, customer_id: int) -> Response:
        customer = self.customers.get(customer_id)
        if customer is None:
            return self._not_found("customer")
        body = request.get_json(silent=True) or {}
        if "email" in body and "@" not in str(body["email"]):
            return json_response({"code": "rest_invalid_param", "message": "Invalid parameter(s): email"}, status=400)
        for key in ("email", "first_name", "last_name", "username"):
            if key in body:
                customer[key] = body[key]
        if "password" in body:
            customer["_password_hash"] = hashlib.sha256(str(body["password"]).encode()).hexdigest()
        for key in ("billing", "shipping"):
            if key in body:
                customer[key].update(body[key])
        if "meta_data" in body:
            self._merge_meta(customer, body["meta_data"])
        self._touch(customer)
        return json_response({k: v for k, v in customer.items() if not k.startswith("_")})

    def sim_create_order(self, request: Request) -> Response:
        return json_response(self.new_order(request.get_json(force=True)), status=201)
