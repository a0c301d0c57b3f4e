"""The scheduled balance sync: retry pending captures, expire old holds, poll orders, reconcile balances.

Two runs at once are safe: captures, hold retries and reconciliation take the user's lease, and every
write is conditional, so a run that loses a race leaves the payment to the winner or to the next run.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from woo_backend.domain.balance import Payment, PaymentStatus, drift, due, next_step
from woo_backend.errors import UpstreamError, UpstreamNotFound
from woo_backend.observability import logger, metrics
from woo_backend.services.balance_ports import Clock, OrdersApi, TopomerApi, iso
from woo_backend.services.capture import LEASE_TTL, CaptureRunner
from woo_backend.services.order_poll import poll_orders
from woo_backend.store.balance import PaymentsStore
from woo_backend.woocommerce import Order

RECONCILE_CURSOR = "RECONCILE"
RECONCILE_OVERLAP = timedelta(minutes=1)


class BalanceSync:
    """One scheduled run over the payments store; ``apply_order`` is the service's handling of an order.

    The store, the clients and the clock are the capture runner's: one set of wiring, not two to keep equal.
    """

    def __init__(self, captures: CaptureRunner, apply_order: Callable[[Order], str]) -> None:
        self.captures = captures
        self.apply_order = apply_order
        self.store: PaymentsStore = captures.store
        self.topomer: TopomerApi = captures.topomer
        self.orders: OrdersApi = captures.orders
        self.clock: Clock = captures.clock

    def run(self, run_id: str) -> dict[str, int]:
        """One run: retry pending captures, expire old holds, poll orders, reconcile balances."""
        counts: dict[str, int] = {}

        def count(outcome: str, n: int = 1) -> None:
            counts[outcome] = counts.get(outcome, 0) + n

        for payment in self.store.open_payments(PaymentStatus.CAPTURE_PENDING):
            count(f"retry_{self.retry_capture(payment)}")
        for payment in self.store.open_payments(PaymentStatus.NEEDS_ATTENTION):
            if (held := self.captures.retry_order_hold(payment)) is not None:
                count(f"hold_order_{held}")
        for payment in self.store.open_payments(PaymentStatus.AUTHORIZED):
            if self.expire_hold(payment):
                count("hold_expired")
        for outcome, n in poll_orders(self.orders, self.store.cursors, self.apply_order, self.clock()).items():
            count(f"order_{outcome}", n)
        count("drift", self.reconcile(run_id))
        return counts

    def retry_capture(self, payment: Payment) -> str:
        name = next_step(payment)
        if name is not None and not due(payment.step(name), self.clock()):
            return "not_due"
        return self.captures.run(payment, None, wait=0).status.value

    def expire_hold(self, payment: Payment) -> bool:
        now = self.clock()
        if datetime.fromisoformat(payment.hold_expires_at) >= now:
            return False
        released = self.store.release(payment, PaymentStatus.EXPIRED, now, only_before=iso(now))
        if released:
            metrics.add_metric(name="HoldExpired", unit="Count", value=1)
            logger.info("hold expired", extra={"payment": payment.payment_id, "order_id": payment.order_id})
        return released

    def reconcile(self, run_id: str) -> int:
        """Compare Topomer's balance of each recently active user with the one expected; count drifts."""
        now = self.clock()
        cursor = self.store.cursors.get(RECONCILE_CURSOR) or ""
        since = iso(datetime.fromisoformat(cursor) - RECONCILE_OVERLAP) if cursor else ""
        drifts = 0
        newest, skipped = cursor, False
        for user_id, last_activity in self.store.users_active_since(since):
            owner = f"reconcile-{run_id}"
            if not self.store.acquire_lease(user_id, owner, now, LEASE_TTL):
                skipped = True  # a capture is moving this balance right now: the next run looks again
                continue
            try:
                holds, token = self.store.get_holds(user_id), self.store.user_token(user_id)
                if holds is None or token is None:
                    continue
                try:
                    actual = self.topomer.get_user_by_token(token).balance
                except UpstreamNotFound as exc:
                    # Topomer refuses the user's last token: no later run can read it either, so the user is
                    # reported and passed, not left to hold the cursor back for good.
                    logger.warning(
                        "reconciliation cannot read a user: Topomer refuses its token",
                        extra={"user_id": user_id, "code": exc.code},
                    )
                    newest = max(newest, last_activity)
                    continue
                except UpstreamError as exc:
                    logger.warning("reconciliation skipped a user", extra={"user_id": user_id, "code": exc.code})
                    skipped = True
                    continue
                difference = drift(holds.expected_balance, actual)
                if difference != 0 and self.store.record_drift(user_id, run_id, holds.expected_balance, actual, now):
                    drifts += 1
                    metrics.add_metric(name="BalanceDrift", unit="Count", value=1)
                    logger.warning(
                        "Topomer balance differs from the expected one",
                        extra={"user_id": user_id, "expected": str(holds.expected_balance), "actual": str(actual)},
                    )
                newest = max(newest, last_activity)
            finally:
                self.store.release_lease(user_id, owner)
        if newest and newest != cursor and not skipped:
            self.store.cursors.advance(RECONCILE_CURSOR, newest)
        return drifts
