"""What balance payments need of Topomer and WooCommerce, and the clock they share.

The service facade (``balance``), the capture steps (``capture``) and the scheduled sync
(``balance_sync``) all take these, so each can be given the real clients or the test fakes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from woo_backend.topomer import ShopperBalance, TopomerOrder, TopomerUser
from woo_backend.woocommerce import Order, OrderNote

Clock = Callable[[], datetime]


class TopomerApi(Protocol):
    """What payments need of Topomer."""

    def get_user_by_token(self, token: str) -> TopomerUser: ...

    def update_balance(self, token: str, user_id: int | str, new_balance: Decimal) -> None: ...

    def expire_token(self, token: str) -> None: ...

    def record_order(self, order: TopomerOrder, idempotency_key: str) -> None: ...

    def shopper_balance(self, shopper_id: str, shopper_token: str) -> ShopperBalance: ...


class OrdersApi(Protocol):
    """What payments need of WooCommerce."""

    def get_order(self, order_id: int) -> Order: ...

    def orders_modified_after(self, modified_after_gmt: str) -> Iterable[Order]: ...

    def update_order(self, order_id: int, data: Mapping[str, Any]) -> Order: ...

    def order_notes(self, order_id: int) -> list[OrderNote]: ...

    def add_order_note(self, order_id: int, note: str) -> OrderNote: ...


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """The form every recorded time takes (compared as strings in DynamoDB conditions)."""
    return moment.isoformat(timespec="microseconds")
