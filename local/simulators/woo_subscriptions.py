"""The WooCommerce simulator's subscriptions: WooCommerce Subscriptions' REST controller (``/wc/v3/subscriptions``).

Modelled on the real code, each behaviour with the file and function it follows:
- WooCommerce Subscriptions (``pronamic/woocommerce-subscriptions``):
  ``includes/api/class-wc-rest-subscriptions-controller.php`` (``prepare_object_for_database``,
  ``prepare_object_for_response``, ``get_subscription_orders``); what ``WC_Subscription`` itself decides
  (status transitions, dates, notes) is in ``local.simulators.woo_subscription_rules``.
- WooCommerce (``woocommerce/woocommerce``, ``plugins/woocommerce/includes/``): ``rest-api/Controllers/Version3/
  class-wc-rest-crud-controller.php`` (``update_item``, ``save_object``),
  ``Version2/class-wc-rest-orders-v2-controller.php`` (``save_object``, ``set_item``, ``prepare_shipping_lines``,
  ``item_is_null``). Shipping (zones, methods) is in ``local.simulators.woo_shipping``.
- WordPress (``WordPress/wordpress-develop``): ``src/wp-includes/class-wp-fatal-error-handler.php``
  (``display_default_error_template``) and ``functions.php`` (``_json_wp_die_handler``): what an exception
  nobody catches in a REST callback answers.

Control endpoint: ``POST /_sim/subscriptions`` creates a subscription (``id``, ``customer_id``, ``product_ids``,
``status``, ``billing_period``, ``billing_interval``, ``payment_method``, ``requires_manual_renewal``, dates as
``*_date_gmt`` in ``YYYY-MM-DDTHH:MM:SS``, ``shipping`` address, ``shipping_lines``).
"""

from __future__ import annotations

import copy
import itertools
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from werkzeug.wrappers import Request, Response

from local.simulators.base import json_response
from local.simulators.woo_shipping import WooShipping
from local.simulators.woo_shop import _money, _rest_error, wp_now
from local.simulators.woo_subscription_rules import (
    STATUS_NAMES,
    SUBSCRIPTION_STATUSES,
    DatesRefused,
    Refused,
    WooSubscriptionRules,
)
from woo_backend.clock import woo_date

# class-wc-rest-subscriptions-controller.php, get_item_schema(): the writable date keys. The answers carry
# "<type>_date_gmt" for every wcs_get_subscription_date_types() type (start, trial_end, next_payment,
# last_payment, cancelled, end) - prepare_object_for_response(); those are not in the schema, so a write ignores them.
WRITABLE_DATES = {
    "start_date": "start",
    "trial_end_date": "trial_end",
    "next_payment_date": "next_payment",
    "cancelled_date": "cancelled",
    "end_date": "end",
}
# WordPress: class-wp-fatal-error-handler.php display_default_error_template() -> wp_die() -> _json_wp_die_handler():
# an exception no one catches in a REST callback is a PHP fatal error, answered 500 with this body (the
# exception's own message is not in it).
WP_CRITICAL_ERROR = {
    "code": "internal_server_error",
    "message": (
        "<p>There has been a critical error on this website.</p>"
        '<p><a href="https://wordpress.org/support/article/faq-troubleshooting/">'
        "Learn more about troubleshooting WordPress.</a></p>"
    ),
    "data": {"status": 500},
    "additional_errors": [],
}


def _invalid_param(param: str, reason: str) -> Response:
    # WordPress: class-wp-rest-request.php has_valid_params(): schema validation before the callback runs.
    return _rest_error(
        "rest_invalid_param",
        f"Invalid parameter(s): {param}",
        400,
        params={param: reason},
        details={param: {"code": "rest_not_in_enum", "message": reason, "data": None}},
    )


class WooSubscriptions(WooSubscriptionRules, WooShipping):
    def add_routes(self) -> None:
        super().add_routes()
        self.rest_routes(
            "subscriptions",
            "subscription_id",
            get_items=self.list_subscriptions,
            get_item=self.get_subscription,
            update_item=self.update_subscription,
        )
        self.rest_routes("subscriptions/statuses", get_items=self.subscription_statuses)
        self.rest_routes("subscriptions/<int:subscription_id>/notes", get_items=self.list_subscription_notes)
        self.rest_routes("subscriptions/<int:subscription_id>/orders", get_items=self.subscription_orders)
        self.route("/_sim/subscriptions", ["POST"], self.sim_create_subscription)

    # ------------------------------------------------------------ seed
    def reset(self) -> None:
        super().reset()
        self.subscriptions: dict[int, dict[str, Any]] = {}
        self.subscription_notes = {}
        self._sub_note_ids = itertools.count(9000)
        self._item_ids = itertools.count(80_000)
        self.new_subscription(501, 1, [13], "active", "week", 4)
        # Bob's deliveries go to Belgium: the "Europe" zone, not "France".
        brussels = {"first_name": "Bob", "last_name": "Durand", "address_1": "1 Grand-Place", "city": "Bruxelles"}
        self.new_subscription(
            502,
            2,
            [14],
            "active",
            "month",
            1,
            shipping={**brussels, "postcode": "1000", "country": "BE"},
            shipping_lines=[
                {
                    "id": 5020,
                    "method_title": "Europe standard",
                    "method_id": "flat_rate",
                    "instance_id": "4",
                    "total": "12.50",
                    "total_tax": "0.00",
                    "meta_data": [],
                }
            ],
        )

    def state(self) -> dict[str, Any]:
        return {
            **super().state(),
            "subscriptions": self.subscriptions,
            "subscription_notes": self.subscription_notes,
        }

    def new_subscription(
        self,
        sid: int,
        customer_id: int,
        product_ids: list[int],
        status: str,
        period: str,
        interval: int,
        **extra: Any,
    ) -> dict[str, Any]:
        now = wp_now()
        items = []
        for index, pid in enumerate(product_ids, start=1):
            product = self.products.get(pid, {"name": "Removed product", "price": "0.00"})
            items.append(
                {
                    "id": sid * 100 + index,
                    "name": product["name"],
                    "product_id": pid,
                    "variation_id": 0,
                    "quantity": 1,
                    "subtotal": product["price"],
                    "total": product["price"],
                    "meta_data": [],
                }
            )
        flat_rate = self.zones[1]["methods"][0]
        subscription: dict[str, Any] = {
            "id": sid,
            "parent_id": {1: 45, 2: 47}.get(customer_id, 0),
            "status": status,
            "customer_id": customer_id,
            "currency": "EUR",
            "payment_method": "stripe",
            "requires_manual_renewal": False,
            "billing_period": period,
            "billing_interval": str(interval),
            "suspension_count": 0,
            "date_created_gmt": woo_date(now - timedelta(days=60)),
            "date_modified_gmt": woo_date(now),
            "start_date_gmt": woo_date(now - timedelta(days=60)),
            "trial_end_date_gmt": "",
            "next_payment_date_gmt": woo_date(now + timedelta(days=7)),
            "last_payment_date_gmt": woo_date(now - timedelta(days=21)),
            "cancelled_date_gmt": "",
            "end_date_gmt": "",
            "line_items": items,
            "meta_data": [],
            "shipping_lines": [
                {
                    "id": sid * 10,
                    "method_title": flat_rate["settings"]["title"],
                    "method_id": flat_rate["method_id"],
                    "instance_id": str(flat_rate["instance_id"]),
                    "total": flat_rate["settings"]["cost"],
                    "total_tax": "0.00",
                    "meta_data": [],
                }
            ],
            "billing": copy.deepcopy(self.customers.get(customer_id, {}).get("billing", {})),
            "shipping": copy.deepcopy(self.customers.get(customer_id, {}).get("shipping", {})),
        }
        for key, value in extra.items():
            if key in subscription:
                subscription[key] = copy.deepcopy(value) if isinstance(value, (dict, list)) else value
        self._calculate_totals(subscription)
        self.subscriptions[sid] = subscription
        return subscription

    # ------------------------------------------------------------ the REST routes
    def list_subscriptions(self, request: Request) -> Response:
        items = self._filter_common(request, list(self.subscriptions.values()))
        if "parent" in request.args:
            parents = set(request.args["parent"].split(","))
            items = [s for s in items if str(s["parent_id"]) in parents]
        return self._paged(request, items)

    def subscription_statuses(self, request: Request) -> Response:
        return json_response({f"wc-{s}": STATUS_NAMES[s] for s in SUBSCRIPTION_STATUSES})

    def get_subscription(self, request: Request, subscription_id: int) -> Response:
        sub = self.subscriptions.get(subscription_id)
        return json_response(sub) if sub else self._not_found("shop_subscription")

    def list_subscription_notes(self, request: Request, subscription_id: int) -> Response:
        # WC_REST_Subscription_notes_Controller (WC_REST_Order_Notes_Controller::get_items()): newest first.
        if subscription_id not in self.subscriptions:
            return _rest_error("woocommerce_rest_shop_subscription_invalid_id", "Invalid order ID.", 404)
        notes = sorted(self.subscription_notes.get(subscription_id, []), key=lambda n: n["id"], reverse=True)
        return json_response(notes)

    def subscription_orders(self, request: Request, subscription_id: int) -> Response:
        # WC_REST_Subscriptions_Controller::get_subscription_orders(): parent, renewal and switch orders, each
        # with its relation in "order_type".
        sub = self.subscriptions.get(subscription_id)
        if sub is None:
            return _rest_error("woocommerce_rest_invalid_shop_subscription_id", "Invalid subscription ID.", 404)
        orders = []
        parent = self.orders.get(int(sub.get("parent_id") or 0))
        if parent:
            orders.append({**parent, "order_type": "parent_order"})
        orders += [{**o, "order_type": "renewal_order"} for o in self._renewal_orders(subscription_id)]
        return json_response(orders, headers={"X-WP-Total": str(len(orders)), "X-WP-TotalPages": "1"})

    def update_subscription(self, request: Request, subscription_id: int) -> Response:
        """``update_item()`` -> ``save_object()`` -> ``prepare_object_for_database()``, in the real order."""
        sub = self.subscriptions.get(subscription_id)
        if sub is None:
            # class-wc-rest-crud-controller.php update_item(): 400 (not 404) for an unknown id.
            return _rest_error("woocommerce_rest_shop_subscription_invalid_id", "Invalid ID.", 400)
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            body = {}
        # WordPress validates the request against the schema first: status enums, billing_period enum.
        for key in ("status", "transition_status"):
            if body.get(key) is not None and body[key] not in SUBSCRIPTION_STATUSES:
                return _invalid_param(key, f"{key} is not one of {', '.join(SUBSCRIPTION_STATUSES)}.")
        if body.get("billing_period") is not None and body["billing_period"] not in ("day", "week", "month", "year"):
            return _invalid_param("billing_period", "billing_period is not one of day, week, month and year.")
        work = copy.deepcopy(sub)
        status: str | None = None
        transition = "set"
        dates: dict[str, Any] = {}
        for key, value in body.items():
            if value is None:
                continue
            if key == "transition_status":
                transition, status = "update", value
            elif key == "status":
                if transition == "set":
                    status = value
            elif key in ("billing", "shipping") and isinstance(value, dict):
                work[key].update(value)
            elif key in WRITABLE_DATES:
                dates[WRITABLE_DATES[key]] = value
            elif key in ("line_items", "shipping_lines") and isinstance(value, list):
                error = self._set_items(work, key, value)
                if error is not None:
                    return error
            elif key == "meta_data" and isinstance(value, list):
                self._merge_meta(work, value)
            elif key == "billing_interval":
                if not str(value).strip().lstrip("-").isdigit():
                    return _invalid_param("billing_interval", "billing_interval is not of type integer.")
                work["billing_interval"] = str(abs(int(value)))
            elif key in ("billing_period", "payment_method", "requires_manual_renewal", "customer_id", "parent_id"):
                work[key] = value
            # Anything else (every "*_date_gmt" key among them) is not a writable property: ignored.
        if dates:
            try:
                self._update_dates(work, dates)
            except DatesRefused as exc:
                # prepare_object_for_database() catches it and throws a WC_REST_Exception: 400.
                return _rest_error(
                    "woocommerce_rest_invalid_payment_data",
                    f"Subscription dates could not be set. Error message: {exc}",
                    400,
                )
            # update_dates() saves the dates at once (save_dates()), before anything below can fail.
            for date_type in dates:
                sub[f"{date_type}_date_gmt"] = work[f"{date_type}_date_gmt"]
        if status is not None:
            if transition == "set":
                # set_status(): the status as given, no rule checked, no date touched; the save writes the
                # transition's note (WC_Subscription::status_transition()).
                if status != work["status"]:
                    self._add_note(
                        work, f"Status changed from {STATUS_NAMES[work['status']]} to {STATUS_NAMES[status]}."
                    )
                work["status"] = status
            else:
                try:
                    self._update_status(work, status)
                except Refused:
                    # Nothing else of the request is saved; WordPress answers its generic critical error.
                    return json_response(WP_CRITICAL_ERROR, status=500)
        # WC_REST_Orders_V2_Controller::save_object(): totals recalculated when items or addresses were sent.
        if any(key in body for key in ("billing", "shipping", "line_items", "shipping_lines", "fee_lines")):
            self._calculate_totals(work)
        self._touch(work)
        self.subscriptions[subscription_id] = work
        return json_response(work)

    def _set_items(self, sub: dict[str, Any], key: str, posted_items: list[Any]) -> Response | None:
        """WC_REST_Orders_V2_Controller::set_item(): an item with ``id`` is updated (or removed when a name field
        is null: item_is_null()), one without is added. Only the posted props change (maybe_set_item_props())."""
        for posted in posted_items:
            if not isinstance(posted, dict):
                continue
            nulled = any(k in posted and posted[k] is None for k in ("product_id", "method_id", "method_title", "name"))
            if nulled or posted.get("quantity") == 0:
                if posted.get("id"):
                    sub[key] = [i for i in sub[key] if i["id"] != int(posted["id"])]
                continue
            if posted.get("id"):
                item = next((i for i in sub[key] if i["id"] == int(posted["id"])), None)
                if item is None:
                    return _rest_error(
                        "woocommerce_rest_invalid_item_id", "Order item ID provided is not associated with order.", 400
                    )
            elif key == "shipping_lines":
                if not posted.get("method_id"):
                    return _rest_error("woocommerce_rest_invalid_shipping_item", "Shipping method ID is required.", 400)
                item = {
                    "id": next(self._item_ids),
                    "method_title": "",
                    "method_id": "",
                    "instance_id": "0",
                    "total": "0.00",
                    "total_tax": "0.00",
                    "meta_data": [],
                }
                sub[key].append(item)
            else:
                product = self.products.get(int(posted.get("product_id") or 0))
                if product is None:
                    return _rest_error("woocommerce_rest_invalid_product_id", "Product ID provided is invalid.", 400)
                item = {
                    "id": next(self._item_ids),
                    "name": product["name"],
                    "product_id": product["id"],
                    "variation_id": 0,
                    "quantity": 1,
                    "subtotal": product["price"],
                    "total": product["price"],
                    "meta_data": [],
                }
                sub[key].append(item)
            if key == "shipping_lines":
                # prepare_shipping_lines(): method_id, method_title, total, instance_id, as given.
                for prop in ("method_id", "method_title", "instance_id"):
                    if prop in posted:
                        item[prop] = str(posted[prop])
                if "total" in posted:
                    try:
                        item["total"] = _money(Decimal(str(posted["total"])))
                    except InvalidOperation:
                        item["total"] = "0.00"
            else:
                if "quantity" in posted:
                    item["quantity"] = int(posted["quantity"])
                for prop in ("total", "subtotal"):
                    if prop in posted:
                        item[prop] = _money(Decimal(str(posted[prop])))
        return None

    # ------------------------------------------------------------ control
    def sim_create_subscription(self, request: Request) -> Response:
        body = dict(request.get_json(force=True))
        sid = int(body.pop("id", 0) or max([*self.subscriptions, 600]) + 1)
        sub = self.new_subscription(
            sid,
            int(body.pop("customer_id", 1)),
            [int(p) for p in body.pop("product_ids", [13])],
            str(body.pop("status", "active")),
            str(body.pop("billing_period", "month")),
            int(body.pop("billing_interval", 1)),
            **body,
        )
        return json_response(sub, status=201)
