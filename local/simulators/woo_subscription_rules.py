"""WooCommerce Subscriptions' own rules for a subscription, as the ``WC_Subscription`` class decides them.

Modelled on the real code (``pronamic/woocommerce-subscriptions``), each behaviour with the function it follows:
``includes/core/class-wc-subscription.php`` (``update_status``, ``can_be_updated_to``, ``needs_payment``,
``calculate_date``, ``prepare_dates_for_update``), ``includes/core/wcs-functions.php``
(``wcs_get_subscription_statuses``, ``wcs_get_subscription_ended_statuses``) and ``wcs-time-functions.php``.
The REST controller that calls them is ``local.simulators.woo_subscriptions``.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from local.simulators.woo_orders import WooOrders
from local.simulators.woo_shop import _money, wp_now
from woo_backend.clock import woo_date

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
MYSQL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
TIMESTAMP = re.compile(r"\A-?(?:0|[1-9]\d*)\Z")
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


class Refused(Exception):
    """A plain PHP ``Exception`` thrown inside ``WC_Subscription`` that the REST controller does not catch."""


class DatesRefused(Exception):
    """``update_dates()`` refused the dates (``prepare_dates_for_update()``)."""


def _parse(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace(" ", "T")).replace(tzinfo=UTC)


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


def _valid_mysql(value: str) -> bool:
    """wcs-time-functions.php, wcs_is_datetime_mysql_format(): a real date, year 1900 or later."""
    try:
        moment = datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return False
    return moment.year >= 1900


class WooSubscriptionRules(WooOrders):
    """``WC_Subscription``'s decisions on a subscription (a dict as the REST API shows it). The subscriptions
    part (``WooSubscriptions``) creates the state these use in its ``reset()``."""

    subscription_notes: dict[int, list[dict[str, Any]]]
    _sub_note_ids: Iterator[int]
    _item_ids: Iterator[int]

    # ------------------------------------------------------------ WC_Subscription, as the real class decides
    def _date(self, sub: dict[str, Any], date_type: str) -> datetime | None:
        return _parse(sub.get(f"{date_type}_date_gmt"))

    def _set_date(self, sub: dict[str, Any], date_type: str, moment: datetime | None) -> None:
        sub[f"{date_type}_date_gmt"] = woo_date(moment) if moment else ""

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
        now = wp_now()
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
        now = wp_now()
        next_payment, end = self._date(sub, "next_payment"), self._date(sub, "end")
        if next_payment is not None and next_payment >= now:
            return next_payment
        if next_payment is None or end is None or end <= now:
            return now
        return end

    def _calculate_next_payment(self, sub: dict[str, Any]) -> datetime | None:
        # WC_Subscription::calculate_next_payment_date() (no trial, no synchronisation): from the last payment,
        # else the start, one interval on, until more than 2 hours ahead; none past the end date.
        now = wp_now()
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
        moment = woo_date(wp_now())
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
        now = wp_now()
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
            elif isinstance(value, int | str) and TIMESTAMP.match(str(value)):
                # wcs-time-functions.php, wcs_is_timestamp(): a UNIX timestamp is taken as it is.
                proposed[date_type] = datetime.fromtimestamp(int(value), UTC)
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
