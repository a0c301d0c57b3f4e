"""The WooCommerce simulator's subscriptions (WooCommerce Subscriptions' ``/wc/v3/subscriptions``) and shipping
(WooCommerce's shipping methods, zones, zone locations and zone method instances).

Modelled on the real code, each behaviour with the file and function it follows:
- WooCommerce Subscriptions (``pronamic/woocommerce-subscriptions``):
  ``includes/api/class-wc-rest-subscriptions-controller.php`` (``prepare_object_for_database``,
  ``prepare_object_for_response``, ``get_subscription_orders``), ``includes/core/class-wc-subscription.php``
  (``update_status``, ``can_be_updated_to``, ``needs_payment``, ``calculate_date``, ``prepare_dates_for_update``),
  ``includes/core/wcs-functions.php`` (``wcs_get_subscription_statuses``, ``wcs_get_subscription_ended_statuses``).
- WooCommerce (``woocommerce/woocommerce``, ``plugins/woocommerce/includes/``): ``rest-api/Controllers/Version3/
  class-wc-rest-crud-controller.php`` (``update_item``, ``save_object``),
  ``Version2/class-wc-rest-orders-v2-controller.php`` (``save_object``, ``set_item``, ``prepare_shipping_lines``,
  ``item_is_null``), the ``Version2/class-wc-rest-shipping-*`` controllers (the v3 ones extend them
  unchanged), ``class-wc-shipping-zones.php``.
- WordPress (``WordPress/wordpress-develop``): ``src/wp-includes/class-wp-fatal-error-handler.php``
  (``display_default_error_template``) and ``functions.php`` (``_json_wp_die_handler``): what an exception
  nobody catches in a REST callback answers.

Control endpoint: ``POST /_sim/subscriptions`` creates a subscription (``id``, ``customer_id``, ``product_ids``,
``status``, ``billing_period``, ``billing_interval``, ``payment_method``, ``requires_manual_renewal``, dates as
``*_date_gmt`` in ``YYYY-MM-DDTHH:MM:SS``, ``shipping`` address, ``shipping_lines``).
"""

from __future__ import annotations

import calendar
import copy
import itertools
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from werkzeug.wrappers import Request, Response

from local.simulators.base import json_response
from local.simulators.woo_shop import PREFIX, WooShop, _fmt, _money, _now

# WooCommerce Subscriptions: includes/core/wcs-functions.php, wcs_get_subscription_statuses() (without "wc-").
SUBSCRIPTION_STATUSES = ("pending", "active", "on-hold", "cancelled", "switched", "expired", "pending-cancel")
STATUS_NAMES = {
    "pending": "Pending",
    "active": "Active",
    "on-hold": "On hold",
    "cancelled": "Cancelled",
    "switched": "Switched",
    "expired": "Expired",
    "pending-cancel": "Pending Cancellation",
}
# wcs-functions.php, wcs_get_subscription_ended_statuses().
ENDED_STATUSES = ("cancelled", "trash", "expired", "switched", "pending-cancel")
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
DATE_TYPES = ("start", "trial_end", "next_payment", "last_payment", "cancelled", "end")
MYSQL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
ALL_FEATURES = frozenset(
    {
        "subscriptions",
        "subscription_cancellation",
        "subscription_suspension",
        "subscription_reactivation",
        "subscription_amount_changes",
        "subscription_date_changes",
        "subscription_payment_method_change_customer",
        "multiple_subscriptions",
    }
)
# What each payment gateway supports (WC_Subscription::payment_method_supports()). A gateway not listed here is
# not available, so the subscription renews manually and supports every feature (is_manual()).
GATEWAY_FEATURES: dict[str, frozenset[str]] = {
    "stripe": ALL_FEATURES,
    # includes/core/gateways/paypal/includes/class-wcs-paypal-supports.php, $standard_supported_features.
    "paypal": frozenset(
        {
            "subscriptions",
            "gateway_scheduled_payments",
            "subscription_payment_method_change_customer",
            "subscription_cancellation",
            "subscription_suspension",
            "subscription_reactivation",
        }
    ),
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


class Refused(Exception):
    """A plain PHP ``Exception`` thrown inside ``WC_Subscription`` that the REST controller does not catch."""


class DatesRefused(Exception):
    """``update_dates()`` refused the dates (``prepare_dates_for_update()``)."""


def _parse(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace(" ", "T")).replace(tzinfo=UTC)


def _mysql(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _add_period(moment: datetime, count: int, period: str) -> datetime:
    """wcs-time-functions.php, wcs_add_time() / wcs_add_months(): months keep the day, or the month's last day."""
    if period == "day":
        return moment + timedelta(days=count)
    if period == "week":
        return moment + timedelta(weeks=count)
    months = count * (12 if period == "year" else 1)
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _rest_error(code: str, message: str, status: int, **data: Any) -> Response:
    return json_response({"code": code, "message": message, "data": {"status": status, **data}}, status=status)


def _invalid_param(param: str, reason: str) -> Response:
    # WordPress: class-wp-rest-request.php has_valid_params(): schema validation before the callback runs.
    return _rest_error(
        "rest_invalid_param",
        f"Invalid parameter(s): {param}",
        400,
        params={param: reason},
        details={param: {"code": "rest_not_in_enum", "message": reason, "data": None}},
    )


class WooSubscriptions(WooShop):
    def add_routes(self) -> None:
        super().add_routes()
        r = self.route
        r(f"{PREFIX}/subscriptions", ["GET"], self.list_subscriptions)
        r(f"{PREFIX}/subscriptions/statuses", ["GET"], self.subscription_statuses)
        r(f"{PREFIX}/subscriptions/<int:subscription_id>", ["GET"], self.get_subscription)
        r(f"{PREFIX}/subscriptions/<int:subscription_id>", ["PUT", "POST", "PATCH"], self.update_subscription)
        r(f"{PREFIX}/subscriptions/<int:subscription_id>/notes", ["GET"], self.list_subscription_notes)
        r(f"{PREFIX}/subscriptions/<int:subscription_id>/orders", ["GET"], self.subscription_orders)
        r(f"{PREFIX}/shipping_methods", ["GET"], self.list_shipping_methods)
        r(f"{PREFIX}/shipping/zones", ["GET"], self.list_zones)
        r(f"{PREFIX}/shipping/zones/<int:zone_id>", ["GET"], self.get_zone)
        r(f"{PREFIX}/shipping/zones/<int:zone_id>/locations", ["GET"], self.list_zone_locations)
        r(f"{PREFIX}/shipping/zones/<int:zone_id>/methods", ["GET"], self.list_zone_methods)
        r(
            f"{PREFIX}/shipping/zones/<int:zone_id>/methods/<int:instance_id>",
            ["PUT", "POST", "PATCH"],
            self.update_zone_method,
        )
        r("/_sim/subscriptions", ["POST"], self.sim_create_subscription)

    # ------------------------------------------------------------ seed
    def reset(self) -> None:
        super().reset()
        self.subscriptions: dict[int, dict[str, Any]] = {}
        self.subscription_notes: dict[int, list[dict[str, Any]]] = {}
        self._sub_note_ids = itertools.count(9000)
        self._item_ids = itertools.count(80_000)
        self._seed_shipping()
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

    def _seed_shipping(self) -> None:
        # WC_Shipping::get_shipping_methods(): the method types. Their REST answer is id, title (the type's
        # method_title) and description only (class-wc-rest-shipping-methods-v2-controller.php,
        # prepare_item_for_response()): no cost, which lives on each zone's instances.
        self.method_types = {
            "flat_rate": ("Flat rate", "Lets you charge a fixed rate for shipping."),
            "free_shipping": (
                "Free shipping",
                "Free shipping is a special method which can be triggered with coupons and minimum spends.",
            ),
            "local_pickup": ("Local pickup", "Allow customers to pick up orders themselves."),
        }
        # Zones: id -> name, order, locations ({code, type}), method instances. Zone 0 is "the locations not
        # covered by your other zones" (class-wc-shipping-zone-data-store.php, read_multiple()).
        self.zones: dict[int, dict[str, Any]] = {
            0: {"name": "Locations not covered by your other zones", "order": 0, "locations": [], "methods": []},
            1: {"name": "France", "order": 0, "locations": [{"code": "FR", "type": "country"}], "methods": []},
            2: {"name": "Europe", "order": 1, "locations": [{"code": "EU", "type": "continent"}], "methods": []},
        }
        self._instance_ids = itertools.count(1)
        self._add_method(1, "flat_rate", "Colissimo", cost="5.00")
        self._add_method(1, "free_shipping", "Free shipping", requires="min_amount", min_amount="50.00")
        self._add_method(1, "local_pickup", "Pick up at the shop", cost="0.00")
        self._add_method(2, "flat_rate", "Europe standard", cost="12.50")
        self._add_method(2, "flat_rate", "Europe express", cost="25.00", enabled=False)
        self._add_method(0, "flat_rate", "International", cost="30.00")

    def _add_method(
        self,
        zone_id: int,
        method_id: str,
        title: str,
        *,
        cost: str | None = None,
        requires: str | None = None,
        min_amount: str | None = None,
        enabled: bool = True,
    ) -> None:
        instance_id = next(self._instance_ids)
        # The instance form fields of each type (includes/shipping/<type>/...: init_form_fields()).
        settings: dict[str, Any] = {"title": title}
        if method_id in ("flat_rate", "local_pickup"):
            settings.update({"tax_status": "taxable", "cost": cost or ""})
        if method_id == "free_shipping":
            settings.update({"requires": requires or "", "min_amount": min_amount or "0", "ignore_discounts": "no"})
        zone = self.zones[zone_id]
        zone["methods"].append(
            {
                "instance_id": instance_id,
                "method_id": method_id,
                "order": len(zone["methods"]) + 1,
                "enabled": enabled,
                "settings": settings,
            }
        )

    def state(self) -> dict[str, Any]:
        return {
            **super().state(),
            "subscriptions": self.subscriptions,
            "subscription_notes": self.subscription_notes,
            "shipping_zones": self.zones,
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
        now = _now()
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
            "date_created_gmt": _fmt(now - timedelta(days=60)),
            "date_modified_gmt": _fmt(now),
            "start_date_gmt": _fmt(now - timedelta(days=60)),
            "trial_end_date_gmt": "",
            "next_payment_date_gmt": _fmt(now + timedelta(days=7)),
            "last_payment_date_gmt": _fmt(now - timedelta(days=21)),
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

    # ------------------------------------------------------------ WC_Subscription, as the real class decides
    def _date(self, sub: dict[str, Any], date_type: str) -> datetime | None:
        return _parse(sub.get(f"{date_type}_date_gmt"))

    def _set_date(self, sub: dict[str, Any], date_type: str, moment: datetime | None) -> None:
        sub[f"{date_type}_date_gmt"] = _fmt(moment) if moment else ""

    def _is_manual(self, sub: dict[str, Any]) -> bool:
        # WC_Subscription::is_manual(): manual renewal asked for, or no available gateway for the subscription.
        return bool(sub.get("requires_manual_renewal")) or sub.get("payment_method") not in GATEWAY_FEATURES

    def _supports(self, sub: dict[str, Any], feature: str) -> bool:
        # WC_Subscription::payment_method_supports(): manual subscriptions support everything.
        if self._is_manual(sub):
            return True
        return feature in GATEWAY_FEATURES[str(sub.get("payment_method"))]

    def _contains_unavailable_product(self, sub: dict[str, Any]) -> bool:
        # WC_Subscription::contains_unavailable_product(): a deleted or unpublished product.
        for item in sub.get("line_items", []):
            product = self.products.get(int(item["product_id"]))
            if product is None or product.get("status", "publish") != "publish":
                return True
        return False

    @staticmethod
    def _order_needs_payment(order: dict[str, Any]) -> bool:
        # WC_Abstract_Order / WC_Order::needs_payment(): pending or failed, with a total above zero.
        return order.get("status") in ("pending", "failed") and Decimal(str(order.get("total") or "0")) > 0

    def _renewal_orders(self, sid: int) -> list[dict[str, Any]]:
        found = []
        for order in self.orders.values():
            for meta in order.get("meta_data", []):
                if meta.get("key") == "_subscription_renewal" and str(meta.get("value")) == str(sid):
                    found.append(order)
        return sorted(found, key=lambda o: (o.get("date_created_gmt", ""), o["id"]), reverse=True)

    def _needs_payment(self, sub: dict[str, Any]) -> bool:
        # WC_Subscription::needs_payment().
        if self._order_needs_payment(sub):
            return True
        parent = self.orders.get(int(sub.get("parent_id") or 0))
        if parent and (self._order_needs_payment(parent) or parent.get("status") in ("on-hold", "cancelled")):
            return True
        # wcs_get_last_non_early_renewal_order().
        renewals = [
            o
            for o in self._renewal_orders(sub["id"])
            if not any(m.get("key") == "_subscription_renewal_early" for m in o.get("meta_data", []))
        ]
        if renewals:
            last = renewals[0]
            return self._order_needs_payment(last) or last.get("status") in ("on-hold", "failed", "cancelled")
        return False

    def _can_be_updated_to(self, sub: dict[str, Any], new_status: str) -> bool:
        """WC_Subscription::can_be_updated_to()."""
        status = sub["status"]
        now = _now()
        if new_status == "pending":
            return status in ("auto-draft", "draft", "on-hold")
        if new_status in ("completed", "active"):
            end = self._date(sub, "end")
            if self._contains_unavailable_product(sub):
                return False
            if self._supports(sub, "subscription_reactivation") and status == "on-hold":
                return not (end is not None and end < now)
            if status == "pending":
                return True
            return (
                status == "pending-cancel"
                and end is not None
                and end > now
                and (
                    self._is_manual(sub)
                    or (
                        not self._supports(sub, "gateway_scheduled_payments")
                        and self._supports(sub, "subscription_date_changes")
                        and self._supports(sub, "subscription_reactivation")
                    )
                )
            )
        if new_status in ("failed", "on-hold"):
            return self._supports(sub, "subscription_suspension") and status == "active"
        if new_status == "cancelled":
            return self._supports(sub, "subscription_cancellation") and (
                status == "pending-cancel" or status not in ENDED_STATUSES
            )
        if new_status == "pending-cancel":
            if not self._supports(sub, "subscription_cancellation"):
                return False
            return status == "active" or (not self._needs_payment(sub) and status in ("cancelled", "on-hold"))
        if new_status == "expired":
            return status not in ("cancelled", "trash", "switched")
        return False

    def _end_of_prepaid_term(self, sub: dict[str, Any]) -> datetime:
        # WC_Subscription::calculate_date( 'end_of_prepaid_term' ).
        now = _now()
        next_payment, end = self._date(sub, "next_payment"), self._date(sub, "end")
        if next_payment is not None and next_payment >= now:
            return next_payment
        if next_payment is None or end is None or end <= now:
            return now
        return end

    def _calculate_next_payment(self, sub: dict[str, Any]) -> datetime | None:
        # WC_Subscription::calculate_next_payment_date() (no trial, no synchronisation): from the last payment,
        # else the start, one interval on, until more than 2 hours ahead; none past the end date.
        now = _now()
        start = self._date(sub, "start") or now
        last = self._date(sub, "last_payment")
        base = last if last is not None and last >= start else start
        interval, period = int(sub.get("billing_interval") or 1), str(sub.get("billing_period") or "month")
        moment = _add_period(base, interval, period)
        for _ in range(3000):
            if moment >= now + timedelta(hours=2):
                break
            moment = _add_period(moment, interval, period)
        end = self._date(sub, "end")
        if end is not None and moment + timedelta(hours=23) > end:
            return None
        return moment

    def _add_note(self, sub: dict[str, Any], text: str) -> None:
        moment = _fmt(_now())
        self.subscription_notes.setdefault(sub["id"], []).append(
            {
                "id": next(self._sub_note_ids),
                "author": "WooCommerce",
                "date_created": moment,
                "date_created_gmt": moment,
                "note": text,
                "customer_note": False,
            }
        )

    def _update_status(self, sub: dict[str, Any], new_status: str) -> None:
        """WC_Subscription::update_status(): the transition's own rules; refused -> a note and a plain Exception."""
        old_status = sub["status"]
        if new_status == old_status:
            return
        if not self._can_be_updated_to(sub, new_status):
            message = f'Unable to change subscription status to "{new_status}".'
            self._add_note(sub, message)
            raise Refused(message)
        now = _now()
        sub["status"] = new_status
        if new_status == "pending-cancel":
            sub["meta_data"] = [m for m in sub["meta_data"] if m["key"] not in ("end_date_pre_cancellation",)]
            sub["meta_data"].append(
                {"id": next(self._item_ids), "key": "end_date_pre_cancellation", "value": sub["end_date_gmt"]}
            )
            end = self._end_of_prepaid_term(sub)
            if end < now:
                end = now
            self._set_date(sub, "trial_end", None)
            self._set_date(sub, "next_payment", None)
            self._set_date(sub, "cancelled", now)
            self._set_date(sub, "end", end)
        elif new_status == "active":
            if old_status == "pending-cancel":
                before = next((m["value"] for m in sub["meta_data"] if m["key"] == "end_date_pre_cancellation"), "")
                self._set_date(sub, "next_payment", self._date(sub, "end"))
                self._set_date(sub, "cancelled", None)
                self._set_date(sub, "end", _parse(before))
            else:
                stored = self._date(sub, "next_payment")
                if stored is None or stored < now + timedelta(hours=2):
                    calculated = self._calculate_next_payment(sub)
                    if calculated is not None:
                        self._set_date(sub, "next_payment", calculated)
                    elif stored is not None and stored < now:
                        self._set_date(sub, "next_payment", None)
        elif new_status == "on-hold":
            sub["suspension_count"] = int(sub.get("suspension_count") or 0) + 1
        elif new_status in ("cancelled", "switched", "expired"):
            self._set_date(sub, "trial_end", None)
            self._set_date(sub, "next_payment", None)
            if new_status == "cancelled" and self._date(sub, "cancelled") is None:
                self._set_date(sub, "cancelled", now)
            self._set_date(sub, "end", now)
        # WC_Subscription::status_transition(): the note of a transition that happened.
        self._add_note(sub, f"Status changed from {STATUS_NAMES[old_status]} to {STATUS_NAMES[new_status]}.")

    def _update_dates(self, sub: dict[str, Any], dates: dict[str, Any]) -> None:
        """WC_Subscription::update_dates() -> prepare_dates_for_update(): MySQL format GMT, in the right order."""
        messages = []
        proposed = {t: self._date(sub, t) for t in ("start", "trial_end", "next_payment", "cancelled", "end")}
        for date_type, value in dates.items():
            if value in (0, "0", "", None):
                proposed[date_type] = None
            elif isinstance(value, str) and MYSQL_DATE.match(value) and _valid_mysql(value):
                proposed[date_type] = _parse(value)
            else:
                proposed[date_type] = None
                messages.append(f'Invalid {date_type} date. The date must be of the format: "Y-m-d H:i:s".')
        start, trial_end = proposed["start"], proposed["trial_end"]
        for date_type in ("end", "cancelled", "next_payment", "trial_end"):
            moment = proposed[date_type]
            if moment is None:
                continue
            if date_type == "end" and proposed["cancelled"] is not None and moment < proposed["cancelled"]:
                messages.append("The end date must occur after the cancellation date.")
            if (
                date_type in ("end", "cancelled")
                and proposed["next_payment"] is not None
                and moment <= proposed["next_payment"]
            ):
                messages.append(f"The {date_type} date must occur after the next payment date.")
            if (
                date_type != "trial_end"
                and trial_end is not None
                and moment.replace(second=0) < trial_end.replace(second=0)
            ):
                messages.append(f"The {date_type} date must occur after the trial end date.")
            if date_type in ("next_payment", "trial_end") and start is not None and moment <= start:
                messages.append(f"The {date_type} date must occur after the start date.")
        if messages:
            raise DatesRefused(f"Subscription #{sub['id']}: " + " ".join(messages))
        for date_type in dates:
            self._set_date(sub, date_type, proposed[date_type])

    def _calculate_totals(self, sub: dict[str, Any]) -> None:
        # WC_Abstract_Order::calculate_totals(): items + shipping lines (this shop charges no tax).
        items_total = sum((Decimal(str(li.get("total") or "0")) for li in sub["line_items"]), Decimal("0"))
        shipping_total = sum((Decimal(str(sl.get("total") or "0")) for sl in sub["shipping_lines"]), Decimal("0"))
        sub["shipping_total"] = _money(shipping_total)
        sub["total"] = _money(items_total + shipping_total)

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

    # ------------------------------------------------------------ shipping
    def list_shipping_methods(self, request: Request) -> Response:
        return json_response(
            [{"id": mid, "title": title, "description": text} for mid, (title, text) in self.method_types.items()]
        )

    def _zone_answer(self, zone_id: int) -> dict[str, Any]:
        zone = self.zones[zone_id]
        return {"id": zone_id, "name": zone["name"], "order": zone["order"]}

    def list_zones(self, request: Request) -> Response:
        # WC_REST_Shipping_Zones_V2_Controller::get_items(): zone 0 first, then by order, then id.
        others = sorted((z for z in self.zones if z != 0), key=lambda z: (self.zones[z]["order"], z))
        data = [self._zone_answer(z) for z in [0, *others]]
        return json_response(data, headers={"X-WP-Total": str(len(data)), "X-WP-TotalPages": "1"})

    def _zone_missing(self) -> Response:
        # WC_REST_Shipping_Zones_Controller_Base::get_zone().
        return _rest_error("woocommerce_rest_shipping_zone_invalid", "Resource does not exist.", 404)

    def get_zone(self, request: Request, zone_id: int) -> Response:
        return json_response(self._zone_answer(zone_id)) if zone_id in self.zones else self._zone_missing()

    def list_zone_locations(self, request: Request, zone_id: int) -> Response:
        if zone_id not in self.zones:
            return self._zone_missing()
        return json_response([dict(loc) for loc in self.zones[zone_id]["locations"]])

    def _method_answer(self, instance: dict[str, Any]) -> dict[str, Any]:
        # class-wc-rest-shipping-zone-methods-v2-controller.php, prepare_item_for_response() and get_settings().
        title, text = self.method_types[instance["method_id"]]
        return {
            "id": instance["instance_id"],
            "instance_id": instance["instance_id"],
            "title": instance["settings"]["title"],
            "order": instance["order"],
            "enabled": instance["enabled"],
            "method_id": instance["method_id"],
            "method_title": title,
            "method_description": text,
            "settings": {
                key: {"id": key, "label": key.replace("_", " ").capitalize(), "type": "text", "value": value}
                for key, value in instance["settings"].items()
            },
        }

    def list_zone_methods(self, request: Request, zone_id: int) -> Response:
        if zone_id not in self.zones:
            return self._zone_missing()
        data = [self._method_answer(m) for m in self.zones[zone_id]["methods"]]
        return json_response(data, headers={"X-WP-Total": str(len(data)), "X-WP-TotalPages": "1" if data else "0"})

    def update_zone_method(self, request: Request, zone_id: int, instance_id: int) -> Response:
        # update_item() -> update_fields(): settings (only the instance's own fields), order, enabled.
        if zone_id not in self.zones:
            return self._zone_missing()
        instance = next((m for m in self.zones[zone_id]["methods"] if m["instance_id"] == instance_id), None)
        if instance is None:
            return _rest_error("woocommerce_rest_shipping_zone_method_invalid", "Resource does not exist.", 404)
        body = request.get_json(silent=True) or {}
        for key, value in (body.get("settings") or {}).items():
            if key in instance["settings"]:
                instance["settings"][key] = str(value)
        if "order" in body:
            instance["order"] = abs(int(body["order"]))
        if "enabled" in body:
            instance["enabled"] = bool(body["enabled"])
        return json_response(self._method_answer(instance))

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


def _valid_mysql(value: str) -> bool:
    """wcs-time-functions.php, wcs_is_datetime_mysql_format(): a real date, year 1900 or later."""
    try:
        moment = datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return False
    return moment.year >= 1900
