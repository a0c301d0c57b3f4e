"""The WooCommerce simulator's shop: seed data, Basic auth, paging, orders, products and customers.

The other parts (coupons, subscriptions and shipping, webhooks) extend this class in their own modules;
``local.simulators.woocommerce`` puts them together.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import math
import secrets
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from werkzeug.wrappers import Request, Response

from local.simulators.base import Simulator, json_response

CONSUMER_KEY = "ck_local_consumer_key"
CONSUMER_SECRET = "cs_local_consumer_secret"
PREFIX = "/wp-json/wc/v3"


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _fmt(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


class WooShop(Simulator):
    name = "woocommerce"

    def __init__(self, consumer_key: str = CONSUMER_KEY, consumer_secret: str = CONSUMER_SECRET) -> None:
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        super().__init__()
        self.add_routes()

    def add_routes(self) -> None:
        """Each part adds its routes (cooperatively, through ``super()``)."""
        r = self.route
        r(f"{PREFIX}/orders", ["GET"], self.list_orders)
        r(f"{PREFIX}/orders", ["POST"], self.create_order_api)
        r(f"{PREFIX}/orders/<int:order_id>", ["GET"], self.get_order)
        r(f"{PREFIX}/orders/<int:order_id>", ["PUT", "POST", "PATCH"], self.update_order)
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

    def new_order(self, data: dict[str, Any]) -> dict[str, Any]:
        order_id = int(data.get("id") or next(self._ids))
        moment = _fmt(_now())
        items = []
        total = Decimal("0")
        for index, raw in enumerate(data.get("line_items", []), start=1):
            product = self.products.get(int(raw["product_id"]), {"name": "Removed product", "price": "0.00"})
            quantity = int(raw.get("quantity", 1))
            line_total = Decimal(product["price"]) * quantity
            total += line_total
            items.append(
                {
                    "id": order_id * 100 + index,
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
            )
        order = {
            "id": order_id,
            "parent_id": 0,
            "status": data.get("status", "pending"),
            "currency": "EUR",
            "date_created": moment,
            "date_created_gmt": moment,
            "date_modified": moment,
            "date_modified_gmt": moment,
            "date_paid_gmt": None,
            "date_completed_gmt": None,
            "total": _money(total),
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
        self.orders[order_id] = order
        return order

    def state(self) -> dict[str, Any]:
        return {
            "orders": self.orders,
            "products": self.products,
            "customers": self.customers,
        }

    def authorize(self, request: Request) -> Response | None:
        if not request.path.startswith(PREFIX):
            return None
        auth = request.authorization
        key, secret = (
            (auth.username, auth.password)
            if auth
            else (request.args.get("consumer_key"), request.args.get("consumer_secret"))
        )
        if key != self.consumer_key or secret != self.consumer_secret:
            return json_response(
                {
                    "code": "woocommerce_rest_cannot_view",
                    "message": "Sorry, you cannot list resources.",
                    "data": {"status": 401},
                },
                status=401,
            )
        return None

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
        self._apply_order_change(order, body)
        return json_response(order)

    def _apply_order_change(self, order: dict[str, Any], body: dict[str, Any]) -> None:
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
