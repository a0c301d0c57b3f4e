"""Orders and the subscriptions they belong to."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from woo_backend.domain.account.results import OrderWithSubscriptions

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


def with_subscriptions(order: Mapping[str, Any], subscriptions: Iterable[Mapping[str, Any]]) -> OrderWithSubscriptions:
    """The order with those of ``subscriptions`` it started (their parent) or renewed, resubscribed or
    switched (its meta names them), in their given order."""
    related = related_subscription_ids(order)
    return OrderWithSubscriptions(
        order=order,
        subscriptions=tuple(
            s for s in subscriptions if s.get("parent_id") == order.get("id") or s.get("id") in related
        ),
    )
