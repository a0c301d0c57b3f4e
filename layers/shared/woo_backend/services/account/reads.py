"""The read actions: orders, subscriptions, the customer, and what a subscription can switch to (intervals,
products, priced delivery methods)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from woo_backend.domain.account.exchange import exchange_intervals, exchange_products
from woo_backend.domain.account.params import ListParams, NoParams, SubscriptionParams
from woo_backend.domain.account.shape import shape_customer, shape_order, shape_subscription
from woo_backend.domain.account.shipping import (
    DeliveryOption,
    ShippingZone,
    delivery_methods,
    delivery_options,
    matching_zone,
    shipping_destination,
)
from woo_backend.services.account.registry import EMPTY, Json, action

if TYPE_CHECKING:
    from woo_backend.services.account.service import AccountService

SHIPPING_CACHE_SECONDS = 300.0


@action("get_orders", ListParams, "The customer's orders, with items, order and item meta, and their subscriptions.")
def get_orders(service: AccountService, uid: int, params: ListParams) -> Json:
    if params.single is not None:
        order = service.order(uid, params.single)
        return shape_order(order, service._subscriptions_of(uid))
    orders, total = service._list("/orders", uid, params)
    subscriptions = service._subscriptions_of(uid) if orders else []
    return service._page("orders", [shape_order(o, subscriptions) for o in orders], total, params)


@action("get_subscriptions", ListParams, "The customer's subscriptions, paged and ordered as get_orders.")
def get_subscriptions(service: AccountService, uid: int, params: ListParams) -> Json:
    if params.single is not None:
        return shape_subscription(service.subscription(uid, params.single))
    items, total = service._list("/subscriptions", uid, params)
    return service._page("subscriptions", [shape_subscription(s) for s in items], total, params)


@action("get_user_info", NoParams, "The customer's account with all their meta.")
def get_user_info(service: AccountService, uid: int, params: NoParams) -> Json:
    return shape_customer(service._get(f"/customers/{uid}", "customer"))


def products_of(service: AccountService, subscription: Json) -> list[Json]:
    ids = sorted({int(i["product_id"]) for i in subscription.get("line_items", [])})
    if not ids:
        return []
    items, _, _ = service.shop.list_page("/products", {"include": ",".join(map(str, ids)), "per_page": 100})
    return items


@action("get_exchange_products", SubscriptionParams, "Subscription products the subscription can swap in.")
def get_exchange_products(service: AccountService, uid: int, params: SubscriptionParams) -> Any:
    subscription = service.subscription(uid, params.subscription_id)
    held = sorted({int(i["product_id"]) for i in subscription.get("line_items", [])})
    query: Json = {"type": "subscription", "status": "publish", "per_page": 100}
    if held:
        query["exclude"] = ",".join(map(str, held))
    products, _, _ = service.shop.list_page("/products", query)
    return exchange_products(subscription, products) or EMPTY


@action("get_exchange_intervals", SubscriptionParams, "Intervals (like 4_week) the subscription can switch to.")
def get_exchange_intervals(service: AccountService, uid: int, params: SubscriptionParams) -> Any:
    subscription = service.subscription(uid, params.subscription_id)
    return exchange_intervals(subscription, products_of(service, subscription)) or EMPTY


def _shipping_zones(service: AccountService) -> list[ShippingZone]:
    """The shop's shipping zones with their locations and method instances (where the prices are), kept a few
    minutes per container: they change with the shop's settings, not with each request."""
    now = time.monotonic()
    cached = service._zones
    if cached is None or cached[1] <= now:
        listed, _, _ = service.shop.list_page("/shipping/zones")
        zones = []
        for raw in listed:
            zone_id = int(raw["id"])
            # Zone 0 ("the rest of the world") has no locations: WooCommerce cannot store any for it.
            locations = [] if zone_id == 0 else service.shop.list_page(f"/shipping/zones/{zone_id}/locations")[0]
            methods, _, _ = service.shop.list_page(f"/shipping/zones/{zone_id}/methods")
            zones.append(
                ShippingZone(
                    id=zone_id, order=int(raw.get("order") or 0), locations=tuple(locations), methods=tuple(methods)
                )
            )
        cached = service._zones = (zones, now + SHIPPING_CACHE_SECONDS)
    return cached[0]


def delivery_options_of(service: AccountService, subscription: Json) -> list[DeliveryOption]:
    zone = matching_zone(_shipping_zones(service), *shipping_destination(subscription))
    return delivery_options(zone, subscription) if zone is not None else []


@action(
    "get_subscription_delivery",
    SubscriptionParams,
    "Delivery methods for the subscription's shipping address, priced by the shop's matching shipping zone.",
)
def get_subscription_delivery(service: AccountService, uid: int, params: SubscriptionParams) -> Any:
    subscription = service.subscription(uid, params.subscription_id)
    options = delivery_options_of(service, subscription)
    return delivery_methods(options, str(subscription.get("currency", ""))) or EMPTY
