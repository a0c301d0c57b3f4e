"""The shape of every answer: WooCommerce's JSON with dates as UNIX timestamps, meta as ``{key: value}``, and
orders with the subscriptions they started, renewed, resubscribed or switched."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from woo_backend.domain.account.dates import with_timestamps
from woo_backend.domain.account.meta import shape_meta


def _shape_items(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{**item, "meta_data": shape_meta(item.get("meta_data", []))} for item in items]


def shape_subscription(subscription: Mapping[str, Any]) -> dict[str, Any]:
    shaped = with_timestamps(subscription)
    shaped["line_items"] = _shape_items(subscription.get("line_items", []))
    shaped["meta_data"] = shape_meta(subscription.get("meta_data", []))
    shaped["interval"] = f"{subscription.get('billing_interval')}_{subscription.get('billing_period')}"
    return shaped


def shape_order(order: Mapping[str, Any], subscriptions: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """An order with its items, order and item meta as maps, and the subscriptions it started, renewed,
    resubscribed or switched."""
    shaped = with_timestamps(order)
    shaped.pop("order_key", None)  # a bearer secret (the credits API takes it): the account app never needs it
    shaped["line_items"] = _shape_items(order.get("line_items", []))
    shaped["meta_data"] = shape_meta(order.get("meta_data", []))
    related = related_subscription_ids(order)
    shaped["subscriptions"] = [
        shape_subscription(s) for s in subscriptions if s.get("parent_id") == order.get("id") or s.get("id") in related
    ]
    return shaped


# WooCommerce Subscriptions marks a renewal, resubscribe or switch order with the subscription's id.
RELATED_SUBSCRIPTION_META = ("_subscription_renewal", "_subscription_resubscribe", "_subscription_switch")


def related_subscription_ids(order: Mapping[str, Any]) -> set[int]:
    ids: set[int] = set()
    for entry in order.get("meta_data", []):
        if entry.get("key") in RELATED_SUBSCRIPTION_META:
            values = entry.get("value")
            for value in values if isinstance(values, list) else [values]:
                if str(value).strip().isdigit():
                    ids.add(int(str(value).strip()))
    return ids


def shape_customer(customer: Mapping[str, Any]) -> dict[str, Any]:
    shaped = with_timestamps(customer)
    shaped["meta_data"] = shape_meta(customer.get("meta_data", []))
    return shaped
