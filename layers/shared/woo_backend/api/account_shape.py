"""The account API's answers as Reactive Account shaped them: WooCommerce's JSON with every date as a UNIX
timestamp, meta as ``{key: value}``, orders with their subscriptions, and prices as WooCommerce's HTML renders
them, without what no answer shows (protected ``_`` meta, the order key). Shapes only: what to read, and what a
customer may change, is decided by the services and the domain (``woo_backend.domain.account``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from html import escape
from typing import Any

from woo_backend.domain.account.dates import timestamp
from woo_backend.domain.account.exchange import current_interval
from woo_backend.domain.account.results import Delivery, OrderWithSubscriptions

Json = dict[str, Any]


def with_timestamps(obj: Mapping[str, Any]) -> Json:
    """Every date as a UNIX timestamp under its plain name (``date_created_gmt`` -> ``date_created``).

    The local-time copies WooCommerce sends next to the GMT ones are dropped: a timestamp has no zone.
    """
    shaped: Json = {}
    gmt_names = {key.removesuffix("_gmt") for key in obj if key.endswith("_gmt")}
    for key, value in obj.items():
        if key.endswith("_gmt"):
            shaped[key.removesuffix("_gmt")] = timestamp(value)
        elif key in gmt_names:
            continue
        elif key.startswith("date_") or key.endswith("_date"):
            shaped[key] = timestamp(value)
        else:
            shaped[key] = value
    return shaped


def shape_meta(meta: Iterable[Mapping[str, Any]]) -> Json:
    """WooCommerce's ``[{"id","key","value"}]`` as ``{key: value}``; protected ``_`` keys stay private."""
    return {m["key"]: m.get("value") for m in meta if not str(m.get("key", "")).startswith("_")}


def _shape_items(items: Iterable[Mapping[str, Any]]) -> list[Json]:
    return [{**item, "meta_data": shape_meta(item.get("meta_data", []))} for item in items]


def shape_subscription(subscription: Mapping[str, Any]) -> Json:
    shaped = with_timestamps(subscription)
    shaped["line_items"] = _shape_items(subscription.get("line_items", []))
    shaped["meta_data"] = shape_meta(subscription.get("meta_data", []))
    shaped["interval"] = current_interval(subscription)
    return shaped


def shape_order(found: OrderWithSubscriptions) -> Json:
    """An order with its items, order and item meta as maps, and the subscriptions it started, renewed,
    resubscribed or switched."""
    order = found.order
    shaped = with_timestamps(order)
    shaped.pop("order_key", None)  # a bearer secret (the credits API takes it): the account app never needs it
    shaped["line_items"] = _shape_items(order.get("line_items", []))
    shaped["meta_data"] = shape_meta(order.get("meta_data", []))
    shaped["subscriptions"] = [shape_subscription(s) for s in found.subscriptions]
    return shaped


def shape_customer(customer: Mapping[str, Any]) -> Json:
    shaped = with_timestamps(customer)
    shaped["meta_data"] = shape_meta(customer.get("meta_data", []))
    return shaped


def shape_exchange_product(product: Mapping[str, Any]) -> Json:
    return {
        "id": product["id"],
        "name": product.get("name", ""),
        "price": product.get("price", ""),
        "type": product.get("type", ""),
        "meta_data": shape_meta(product.get("meta_data", [])),
    }


def shape_delivery(delivery: Delivery) -> list[Json]:
    return [
        {
            "method_id": option.rate_id,
            "title": option.title,
            "price": f"{option.price:.2f}",
            "price_html": price_html(option.price, delivery.currency),
        }
        for option in delivery.options
    ]


def price_html(price: Decimal, currency: str) -> str:
    """The price as WooCommerce's ``wc_price`` renders it (symbol after the amount for EUR)."""
    symbols = {"EUR": ("", "&euro;"), "USD": ("&#36;", ""), "GBP": ("&pound;", "")}
    before, after = symbols.get(currency, ("", escape(currency)))
    amount = f"{before}{price:.2f}" + (f"&nbsp;{after}" if after else "")
    return f'<span class="woocommerce-Price-amount amount"><bdi>{amount}</bdi></span>'
