"""What the account actions find, before the edge shapes it into answers: WooCommerce's JSON as read or saved,
grouped the way the actions need it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from woo_backend.domain.account.shipping import DeliveryOption

Json = Mapping[str, Any]


@dataclass(frozen=True)
class Page[T]:
    """One page of the customer's objects; ``total`` counts them all (WooCommerce's ``X-WP-Total``)."""

    items: tuple[T, ...]
    total: int
    offset: int
    pagesize: int


@dataclass(frozen=True)
class OrderWithSubscriptions:
    """An order and the customer's subscriptions it started, renewed, resubscribed or switched."""

    order: Json
    subscriptions: tuple[Json, ...]


@dataclass(frozen=True)
class Delivery:
    """The priced delivery methods of the zone a subscription ships to, and the subscription's currency."""

    options: tuple[DeliveryOption, ...]
    currency: str
