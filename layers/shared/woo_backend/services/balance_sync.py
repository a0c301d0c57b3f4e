"""WooCommerce's orders and the scheduled balance sync.

``OrderEvents`` applies an order to its payment (paid: capture; cancelled or failed: void); the order
webhook and the sync's poll both use it, since WooCommerce never redelivers a webhook that failed.

``BalanceSync`` is one scheduled run: retry pending captures, retry stopped payments' order holds, expire
old holds, poll orders, reconcile balances (``balance_reconcile``). Two runs at once are safe: captures,
hold retries and reconciliation take the user's lease, and every write is conditional, so a run that loses
a race leaves the payment to the winner or to the next run.
"""

from __future__ import annotations

from datetime import datetime

from woo_backend.clock import Clock, iso
from woo_backend.domain.balance import Payment, PaymentStatus
from woo_backend.domain.balance_rules import OrderEvent, due, next_step, order_event
from woo_backend.observability import logger, metrics
from woo_backend.services.balance import BalanceService
from woo_backend.services.balance_ports import OrdersApi, PaymentRecords
from woo_backend.services.balance_reconcile import Reconciliation
from woo_backend.services.capture import CaptureRunner
from woo_backend.services.order_hold import OrderHold
from woo_backend.services.order_poll import SyncCursorStore, poll_orders
from woo_backend.woocommerce import Order


class OrderEvents:
    """What an order's status means for its Topomer payment, applied (idempotently)."""

    def __init__(self, service: BalanceService, payments: PaymentRecords) -> None:
        self.service = service
        self.payments = payments

    def apply(self, order: Order) -> str:
        """The outcome: the payment's status after it, or why nothing was done."""
        event = order_event(order.payment_method, order.status)
        if event is OrderEvent.IGNORE:
            return "ignored"
        payment_id = self.payments.payment_id_for_order(order.id)
        if payment_id is None:
            logger.warning("Topomer order without a payment", extra={"order_id": order.id})
            metrics.add_metric(name="OrderWithoutPayment", unit="Count", value=1)
            return "no_payment"
        payment = self.service.payment(payment_id, None)
        if event is OrderEvent.CAPTURE:
            if payment.status in (PaymentStatus.VOIDED, PaymentStatus.EXPIRED):
                # Paid in the shop, but the hold is gone: a person must settle it.
                logger.error("paid order whose hold was released", extra={"order_id": order.id})
                metrics.add_metric(name="PaidOrderWithoutHold", unit="Count", value=1)
                return f"not_captured_{payment.status.value}"
            if payment.status is PaymentStatus.NEEDS_ATTENTION:
                return "needs_attention"
            if payment.status is PaymentStatus.RESOLVED:
                return "resolved"  # a person settled it by hand (admin console): nothing to capture
            return self.service.capture(payment_id, None, order).status.value
        if payment.status is PaymentStatus.AUTHORIZED:
            return self.service.void(payment_id, None).status.value
        return f"not_voided_{payment.status.value}"


class BalanceSync:
    """One scheduled run over the payments."""

    def __init__(
        self,
        payments: PaymentRecords,
        captures: CaptureRunner,
        order_hold: OrderHold,
        order_events: OrderEvents,
        reconciliation: Reconciliation,
        orders: OrdersApi,
        cursors: SyncCursorStore,
        clock: Clock,
    ) -> None:
        self.payments = payments
        self.captures = captures
        self.order_hold = order_hold
        self.order_events = order_events
        self.reconciliation = reconciliation
        self.orders = orders
        self.cursors = cursors
        self.clock = clock

    def run(self, run_id: str) -> dict[str, int]:
        """One run: retry pending captures, expire old holds, poll orders, reconcile balances."""
        counts: dict[str, int] = {}

        def count(outcome: str, n: int = 1) -> None:
            counts[outcome] = counts.get(outcome, 0) + n

        for payment in self.payments.open_payments(PaymentStatus.CAPTURE_PENDING):
            count(f"retry_{self.retry_capture(payment)}")
        for payment in self.payments.open_payments(PaymentStatus.NEEDS_ATTENTION):
            if (held := self.order_hold.retry(payment)) is not None:
                count(f"hold_order_{held}")
        for payment in self.payments.open_payments(PaymentStatus.AUTHORIZED):
            if self.expire_hold(payment):
                count("hold_expired")
        for outcome, n in poll_orders(self.orders, self.cursors, self.order_events.apply, self.clock()).items():
            count(f"order_{outcome}", n)
        count("drift", self.reconciliation.run(run_id))
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
        released = self.payments.release(payment, PaymentStatus.EXPIRED, now, only_before=iso(now))
        if released:
            metrics.add_metric(name="HoldExpired", unit="Count", value=1)
            logger.info("hold expired", extra={"payment": payment.payment_id, "order_id": payment.order_id})
        return released
