"""What a subscription can switch to: delivery intervals (narrowed by its products' meta) and other
subscription products."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from woo_backend.domain.account.errors import BadInterval
from woo_backend.domain.account.params import INTERVAL_PATTERN
from woo_backend.domain.account.subscriptions import require_changeable

# Intervals a subscription can switch to when its products say nothing narrower.
DEFAULT_EXCHANGE_INTERVALS = ("1_week", "2_week", "3_week", "4_week", "1_month", "2_month", "3_month")
# Product meta listing the intervals a product may be delivered at, e.g. "2_week,4_week,1_month".
EXCHANGE_INTERVALS_META = "_exchange_intervals"


def current_interval(subscription: Mapping[str, Any]) -> str:
    return f"{subscription.get('billing_interval')}_{subscription.get('billing_period')}"


def exchange_intervals(subscription: Mapping[str, Any], products: Sequence[Mapping[str, Any]]) -> list[str]:
    """Intervals the subscription can switch to, the current one excluded.

    Each product in the subscription may narrow the choice with its ``_exchange_intervals`` meta; the
    answer is what every one of them allows, in the default order.
    """
    allowed = list(DEFAULT_EXCHANGE_INTERVALS)
    item_ids = {int(i["product_id"]) for i in subscription.get("line_items", [])}
    for product in products:
        if int(product["id"]) not in item_ids:
            continue
        raw = next(
            (m.get("value") for m in product.get("meta_data", []) if m.get("key") == EXCHANGE_INTERVALS_META), ""
        )
        if raw:
            narrower = {part.strip() for part in str(raw).split(",") if INTERVAL_PATTERN.match(part.strip())}
            allowed = [i for i in allowed if i in narrower] + sorted(narrower - set(DEFAULT_EXCHANGE_INTERVALS))
    current = current_interval(subscription)
    return [i for i in dict.fromkeys(allowed) if i != current]


def interval_change(
    subscription: Mapping[str, Any], products: Sequence[Mapping[str, Any]], new_interval: str
) -> dict[str, Any]:
    require_changeable(subscription)
    if new_interval == current_interval(subscription):
        return {}
    if new_interval not in exchange_intervals(subscription, products):
        raise BadInterval(f"{new_interval} is not an interval this subscription can switch to")
    count, period = new_interval.split("_")
    return {"billing_interval": count, "billing_period": period}


def exchange_products(
    subscription: Mapping[str, Any], products: Iterable[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """Subscription products on sale that the subscription does not hold yet (WooCommerce's product JSON)."""
    held = {int(i["product_id"]) for i in subscription.get("line_items", [])}
    return [
        p
        for p in products
        if int(p["id"]) not in held
        and p.get("status", "publish") == "publish"
        and p.get("type") in ("subscription", "variable-subscription")
    ]
