"""Polling WooCommerce for orders modified since the last run.

WooCommerce never redelivers a webhook that failed, so each feature that reacts to orders also lists
the orders modified since its last run and applies the same idempotent handling as its webhook.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from woo_backend.clock import WOO_DATE_FORMAT, woo_date
from woo_backend.errors import DomainError
from woo_backend.observability import logger
from woo_backend.woocommerce import Order

# Orders saved while the previous run was listing may carry an earlier modification time.
SYNC_OVERLAP = timedelta(minutes=5)
FIRST_SYNC_LOOKBACK = timedelta(days=30)
ORDERS_CURSOR = "ORDERS"


class ModifiedOrders(Protocol):
    """What the poll needs of WooCommerce."""

    def orders_modified_after(self, modified_after_gmt: str) -> Iterable[Order]: ...


class SyncCursorStore(Protocol):
    """Where the poll keeps how far it got (``store.cursors.SyncCursors``): forward-only positions by name."""

    def get(self, name: str) -> str | None: ...

    def advance(self, name: str, position: str) -> None: ...


def poll_orders(
    orders: ModifiedOrders, cursors: SyncCursorStore, apply: Callable[[Order], str], now: datetime
) -> dict[str, int]:
    """Apply every order modified since the cursor (with an overlap); counts of each outcome.

    The cursor stops before the first order that failed, so the next run tries it again.
    """
    cursor = cursors.get(ORDERS_CURSOR)
    since = (
        datetime.strptime(cursor, WOO_DATE_FORMAT).replace(tzinfo=UTC) - SYNC_OVERLAP
        if cursor
        else now - FIRST_SYNC_LOOKBACK
    )
    counts: dict[str, int] = {}
    newest: str | None = None
    failed = False
    for order in orders.orders_modified_after(woo_date(since)):
        try:
            outcome = apply(order)
        except DomainError as exc:
            logger.warning("sync could not apply an order", extra={"order_id": order.id, "code": exc.code})
            outcome, failed = "failed", True
        counts[outcome] = counts.get(outcome, 0) + 1
        if not failed and order.date_modified_gmt:
            newest = max(newest or "", order.date_modified_gmt)
    if newest:
        cursors.advance(ORDERS_CURSOR, newest)
    return counts
