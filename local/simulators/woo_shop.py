"""The WooCommerce simulator's shop: seed products and customers, Basic auth, paging, products and customers.

The other parts extend this class in their own modules (orders and order notes, coupons, shipping,
subscriptions, webhooks); ``local.simulators.woocommerce`` puts them together.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import math
import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug.wrappers import Request, Response

from local.simulators.base import Handler, Simulator, json_response
from woo_backend.clock import WOO_DATE_FORMAT, utcnow, woo_date

CONSUMER_KEY = "ck_local_consumer_key"
CONSUMER_SECRET = "cs_local_consumer_secret"
PREFIX = "/wp-json/wc/v3"
DEFAULT_SITE_TIMEZONE = "Europe/Paris"  # not UTC: a client that forgets the offset is caught
# WP_REST_Controller's callbacks: on the item or the collection, and the methods each answers
# (WP_REST_Server::EDITABLE: an update answers to POST, PUT and PATCH alike).
REST_CALLBACKS = {
    "get_items": (False, ["GET"]),
    "create_item": (False, ["POST"]),
    "get_item": (True, ["GET"]),
    "update_item": (True, ["POST", "PUT", "PATCH"]),
    "delete_item": (True, ["DELETE"]),
}


def wp_now() -> datetime:
    """Now as WordPress stamps it (``time()``): UTC, whole seconds."""
    return utcnow().replace(microsecond=0)


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _rest_error(code: str, message: str, status: int, **data: Any) -> Response:
    return json_response({"code": code, "message": message, "data": {"status": status, **data}}, status=status)


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
        ``site_timezone``: WordPress's Settings > General > Timezone (``WOO_SIM_TIMEZONE``, else Europe/Paris;
        WordPress: wp-includes/functions.php, ``wp_timezone()`` from the ``timezone_string`` option): dates
        without an offset are read in it, and the non-``_gmt`` dates of answers are shown in it."""
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.local_mode = local_mode
        self.site_timezone = ZoneInfo(site_timezone or os.environ.get("WOO_SIM_TIMEZONE") or DEFAULT_SITE_TIMEZONE)
        super().__init__()
        self.add_routes()

    def add_routes(self) -> None:
        """Each part adds its routes (cooperatively, through ``super()``)."""
        self.rest_routes("products", "product_id", get_items=self.list_products, get_item=self.get_product)
        self.rest_routes("customers", "customer_id", get_item=self.get_customer, update_item=self.update_customer)

    def rest_routes(self, collection: str, item: str | None = None, **callbacks: Handler) -> None:
        """A REST controller's routes (WordPress: WP_REST_Controller, ``register_routes()``): the collection
        ``{PREFIX}/{collection}`` and its item ``.../<int:{item}>``, one route per callback given."""
        base = f"{PREFIX}/{collection}"
        for callback, handler in callbacks.items():
            on_item, methods = REST_CALLBACKS[callback]
            if on_item and item is None:
                raise TypeError(f"{callback} needs the item's id name")
            self.route(f"{base}/<int:{item}>" if on_item else base, methods, handler)

    # ------------------------------------------------------------ seed
    def reset(self) -> None:
        # WordPress post IDs: orders and coupons are posts and share one sequence.
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

    def _customer(self, cid: int, email: str, first: str, last: str) -> dict[str, Any]:
        moment = woo_date(wp_now() - timedelta(days=100))
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

    def state(self) -> dict[str, Any]:
        return {"products": self.products, "customers": self.customers}

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
        return _rest_error(f"woocommerce_rest_{code}", message, 401)

    # ------------------------------------------------------------ helpers
    @staticmethod
    def _not_found(kind: str) -> Response:
        return _rest_error(f"woocommerce_rest_{kind}_invalid_id", "Invalid ID.", 404)

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

    def _site_time(self, gmt: str | None) -> str | None:
        """A GMT date as its non-``_gmt`` twin shows it, in the site's time zone.

        WooCommerce: includes/wc-rest-functions.php, wc_rest_prepare_date_response( $date, false ).
        """
        if gmt is None:
            return None
        shown = datetime.strptime(gmt, WOO_DATE_FORMAT).replace(tzinfo=UTC).astimezone(self.site_timezone)
        return shown.strftime(WOO_DATE_FORMAT)

    def _touch(self, obj: dict[str, Any]) -> None:
        moment = woo_date(wp_now())
        obj["date_modified_gmt"] = moment
        if "date_modified" in obj:
            obj["date_modified"] = self._site_time(moment)

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
