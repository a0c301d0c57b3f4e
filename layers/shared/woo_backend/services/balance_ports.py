"""What balance payments need of their stores, of Topomer and WooCommerce, and what they share: the clock,
the lease's length (``LEASE_TTL``) and the trusted read of a payment (``reload``).

The service (``balance``), the capture steps (``capture``, ``order_hold``), the order events and sync
(``balance_sync``) and the reconciliation (``balance_reconcile``) take these, so each can be given the real
stores and clients (``bootstrap.balance``) or test fakes. The stores' refused writes (``StatusChanged``,
``HoldRefused``, ``OrderReserved``, ``DebitInFlight``, ``OrderHasPaymentRecord``) are in ``domain.balance``,
beside the models.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from woo_backend.domain.balance import Payment, PaymentNotFound, PaymentStatus, Step, StepName, UserHolds
from woo_backend.topomer import ShopperBalance, TopomerOrder, TopomerUser
from woo_backend.woocommerce import Order, OrderNote


# ------------------------------------------------------------------ stores
class PaymentRecords(Protocol):
    """Payments, their order links and their steps (``store.payments.PaymentsStore``)."""

    def get_payment(self, payment_id: str) -> Payment | None: ...

    def payment_id_for_order(self, order_id: int) -> str | None: ...

    def open_payments(self, status: PaymentStatus) -> list[Payment]: ...

    def record_payment(self, payment: Payment) -> None: ...

    def link_order(self, payment: Payment) -> None: ...

    def discard(self, payment_id: str) -> None: ...

    def set_status(
        self,
        payment_id: str,
        status: PaymentStatus,
        allowed_from: tuple[PaymentStatus, ...],
        now: datetime,
        *,
        token_hash: str | None = None,
    ) -> Payment: ...

    def record_step(
        self, payment_id: str, name: StepName, step: Step, *, status: PaymentStatus | None = None
    ) -> Payment: ...

    def stop_capture(self, payment_id: str, reason: str, hold_step: Step | None, now: datetime) -> Payment: ...

    def start_debit(self, payment: Payment, step: Step, before: Decimal, after: Decimal) -> Payment: ...

    def finish_debit(self, payment: Payment, step: Step, balance_after: Decimal, now: datetime) -> Payment: ...

    def finish_capture(self, payment_id: str, now: datetime) -> Payment: ...

    def release(
        self, payment: Payment, status: PaymentStatus, now: datetime, *, only_before: str | None = None
    ) -> bool: ...


class HoldRecords(Protocol):
    """Each user's holds, expected balance and drift records (``store.holds.HoldsStore``)."""

    def get_holds(self, user_id: str) -> UserHolds | None: ...

    def reserve(self, payment: Payment, limit: Decimal, balance_seen: Decimal, *, debits: int) -> Decimal: ...

    def release_reservation(self, payment: Payment, now: datetime) -> bool: ...

    def user_token(self, user_id: str) -> str | None: ...

    def users_active_since(self, since: str) -> list[tuple[str, str]]: ...

    def record_drift(
        self, user_id: str, run_id: str, expected: Decimal | None, actual: Decimal, now: datetime
    ) -> bool: ...


# How long a lease is taken for: longer than any capture (the function times out at 15 s).
LEASE_TTL = timedelta(seconds=60)


class Leases(Protocol):
    """The per-user lease serializing whatever moves a balance (``store.leases.LeaseStore``)."""

    def acquire_lease(self, user_id: str, owner: str, now: datetime, ttl: timedelta) -> bool: ...

    def release_lease(self, user_id: str, owner: str) -> None: ...


def reload(payments: PaymentRecords, payment_id: str) -> Payment:
    """The payment as it is now (a trusted read: no token check); ``PaymentNotFound`` when there is none."""
    payment = payments.get_payment(payment_id)
    if payment is None:
        raise PaymentNotFound("no payment with this id for this token")
    return payment


# ------------------------------------------------------------------ upstreams
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
