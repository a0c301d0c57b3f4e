"""What the credits service needs of the world: WooCommerce's orders and products, and the ledger store.

``woo_backend.woocommerce.WooCommerceClient`` and ``woo_backend.store.credits.CreditsStore`` fulfil them
(``bootstrap.credits`` wires them); tests hand in fakes.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from woo_backend.domain.credits import ConsumeAmount, ConsumeResult, CreditAccount, LedgerEntry, Replayed
from woo_backend.services.order_poll import ModifiedOrders, SyncCursorStore
from woo_backend.woocommerce import Order, Product


class OrderSource(ModifiedOrders, Protocol):
    """What the service needs of WooCommerce: the poll's listing, products' credits, completing an order."""

    def get_products(self, product_ids: list[int]) -> list[Product]: ...

    def update_order(self, order_id: int, data: dict[str, str]) -> Order: ...


class CreditsLedger(Protocol):
    """The ledger: one state per order, append-only entries, idempotency records and the sync cursor.

    Every money move is one conditional write of the order's state, applied by the store to the state as it
    is (no version read before): ``consume`` raises ``domain.credits.ConsumeRefused`` (with the state the
    write found) when the order is unknown, not completed or short of credits, and ``domain.credits.Replayed``
    when its idempotency key was used before on the order.
    """

    @property
    def cursors(self) -> SyncCursorStore: ...

    def get_account(self, order_key: str) -> CreditAccount | None: ...

    def ledger(
        self, order_key: str, limit: int, cursor: str | None, now: datetime
    ) -> tuple[list[LedgerEntry], str | None]:
        """Entries newest first and the cursor of the next page (``InvalidCursor`` for a forged one)."""
        ...

    def consume(
        self,
        order_key: str,
        amount: ConsumeAmount,
        transaction_id: str,
        now: datetime,
        idempotency_key: str | None = None,
        fingerprint: str | None = None,
    ) -> ConsumeResult: ...

    def adjust(
        self, order_key: str, amount: int, reason: str, transaction_id: str, now: datetime, key: str, fingerprint: str
    ) -> ConsumeResult:
        """An admin adjustment (signed ``amount``), guarded as a keyed consume; ``consumed`` is ``-amount``."""
        ...

    def idempotency_record(self, order_key: str, key: str) -> Replayed | None: ...

    def grant(
        self, order_key: str, order_id: int, credits: int, modified: str, transaction_id: str, now: datetime
    ) -> bool: ...

    def revoke(self, order_key: str, status: str, modified: str, transaction_id: str, now: datetime) -> int | None:
        """Credits revoked (the account closed), or ``None`` when it was not granted or already closed."""
        ...

    def track_status(
        self, order_key: str, order_id: int, status: str, modified: str, close: bool, now: datetime
    ) -> bool: ...


class CreditsReports(Protocol):
    """The admin console's lists: accounts by order status (newest first) and ledger moves by UTC day."""

    def accounts(self, status: str, limit: int, cursor: str | None) -> tuple[list[CreditAccount], str | None]: ...

    def days_moves(self, days: list[date]) -> dict[date, list[tuple[str, int]]]:
        """Each day's ledger moves: (type, signed amount)."""
        ...
