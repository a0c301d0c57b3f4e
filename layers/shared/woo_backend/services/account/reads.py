"""The read actions: orders, subscriptions, the customer, and what a subscription can switch to (intervals,
products, priced delivery methods). Each returns WooCommerce's JSON or a domain result, unshaped."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from woo_backend.domain.account.exchange import exchange_intervals, exchange_products
from woo_backend.domain.account.orders import with_subscriptions
from woo_backend.domain.account.params import ListParams, NoParams, SubscriptionParams
from woo_backend.domain.account.results import Delivery, OrderWithSubscriptions, Page
from woo_backend.domain.account.shipping import (
    DeliveryOption,
    ShippingZone,
    delivery_options,
    matching_zone,
    shipping_destination,
)
from woo_backend.services.account.ports import Json
from woo_backend.services.account.registry import action

if TYPE_CHECKING:
    from woo_backend.services.account.service import AccountService

SHIPPING_CACHE_SECONDS = 300.0


@action("get_orders", ListParams, "The customer's orders, with items, order and item meta, and their subscriptions.")
def get_orders(
    service: AccountService, uid: int, params: ListParams
) -> OrderWithSubscriptions | Page[OrderWithSubscriptions]:
    if params.single is not None:
        order = service.order(uid, params.single)
        return with_subscriptions(order, service.subscriptions_of(uid))
    orders = service.page("/orders", uid, params)
    subscriptions = service.subscriptions_of(uid) if orders.items else []
    return Page(
        items=tuple(with_subscriptions(o, subscriptions) for o in orders.items),
        total=orders.total,
        offset=orders.offset,
        pagesize=orders.pagesize,
    )


@action("get_subscriptions", ListParams, "The customer's subscriptions, paged and ordered as get_orders.")
def get_subscriptions(service: AccountService, uid: int, params: ListParams) -> Json | Page[Json]:
    if params.single is not None:
        return service.subscription(uid, params.single)
    return service.page("/subscriptions", uid, params)


@action("get_user_info", NoParams, "The customer's account with all their meta.")
def get_user_info(service: AccountService, uid: int, params: NoParams) -> Json:
    return service.read(f"/customers/{uid}", "customer")


def products_of(service: AccountService, subscription: Json) -> list[Json]:
    ids = sorted({int(i["product_id"]) for i in subscription.get("line_items", [])})
    if not ids:
        return []
    items, _, _ = service.shop.list_page("/products", {"include": ",".join(map(str, ids)), "per_page": 100})
    return items


@action("get_exchange_products", SubscriptionParams, "Subscription products the subscription can swap in.")
def get_exchange_products(service: AccountService, uid: int, params: SubscriptionParams) -> list[Mapping[str, Any]]:
    subscription = service.subscription(uid, params.subscription_id)
    held = sorted({int(i["product_id"]) for i in subscription.get("line_items", [])})
    query: Json = {"type": "subscription", "status": "publish", "per_page": 100}
    if held:
        query["exclude"] = ",".join(map(str, held))
    products, _, _ = service.shop.list_page("/products", query)
    return exchange_products(subscription, products)


@action("get_exchange_intervals", SubscriptionParams, "Intervals (like 4_week) the subscription can switch to.")
def get_exchange_intervals(service: AccountService, uid: int, params: SubscriptionParams) -> list[str]:
    subscription = service.subscription(uid, params.subscription_id)
    return exchange_intervals(subscription, products_of(service, subscription))


def shipping_zones(service: AccountService) -> list[ShippingZone]:
    """The shop's shipping zones with their locations and method instances (where the prices are), kept a few
    minutes per container: they change with the shop's settings, not with each request."""
    now = time.monotonic()
    cached = service.zones
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
        cached = service.zones = (zones, now + SHIPPING_CACHE_SECONDS)
    return cached[0]


def delivery_options_of(service: AccountService, subscription: Json) -> list[DeliveryOption]:
    zone = matching_zone(shipping_zones(service), *shipping_destination(subscription))
    return delivery_options(zone, subscription) if zone is not None else []


@action(
    "get_subscription_delivery",
    SubscriptionParams,
    "Delivery methods for the subscription's shipping address, priced by the shop's matching shipping zone.",
)
def get_subscription_delivery(service: AccountService, uid: int, params: SubscriptionParams) -> Delivery:
    subscription = service.subscription(uid, params.subscription_id)
    options = delivery_options_of(service, subscription)
    return Delivery(options=tuple(options), currency=str(subscription.get("currency", "")))
