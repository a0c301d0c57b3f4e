"""A capture stopped because the payment no longer matches its order: no money moves, a person decides.

Before any money moves the order must still be what was authorized (same currency, same total). On a
mismatch the payment becomes ``needs_attention`` with the reason, and one more recorded step,
``hold_order``, puts the order on hold with one note for the shop. The step is recorded like a capture
step (marked before it runs and after it succeeds, retried by the sync with backoff), and each half of it
is looked up first, so a retry neither undoes nor duplicates anything.
"""

from __future__ import annotations

import secrets

from woo_backend.clock import Clock, iso
from woo_backend.domain.balance import Payment, StatusChanged, Step, StepName, StepStatus
from woo_backend.domain.balance_rules import (
    ORDER_GONE,
    capture_mismatch,
    due,
    mismatch_note,
    note_marker,
    order_needs_hold,
    retry_delay,
)
from woo_backend.errors import UpstreamError, UpstreamInvalidResponse, UpstreamNotFound
from woo_backend.observability import logger, metrics
from woo_backend.services.balance_ports import LEASE_TTL, Leases, OrdersApi, PaymentRecords, reload
from woo_backend.settings import BalanceSettings
from woo_backend.woocommerce import Order


def step_error(exc: UpstreamError) -> str:
    """A failed step's ``last_error``: the failure's code and message, bounded."""
    return f"{exc.code}: {exc.message}"[:300]


class OrderHold:
    """Checks a capture's order, stops a mismatched payment and runs (or retries) its ``hold_order`` step."""

    def __init__(
        self, payments: PaymentRecords, leases: Leases, orders: OrdersApi, settings: BalanceSettings, clock: Clock
    ) -> None:
        self.payments = payments
        self.leases = leases
        self.orders = orders
        self.settings = settings
        self.clock = clock

    def check(self, payment: Payment, order: Order | None) -> tuple[Order | None, Payment | None]:
        """The order to capture against (the webhook's body, the polled one, or read now), or the payment
        as it ends up when the capture must not go on (stopped for a person).

        A failure to read the order other than "not found" is raised: the capture records it as its debit's.
        """
        if order is None or order.id != payment.order_id:
            try:
                order = self.orders.get_order(payment.order_id)
            except UpstreamNotFound:
                return None, self.stop(payment, ORDER_GONE, hold=False)
        reason = capture_mismatch(
            amount=payment.amount,
            currency=payment.currency or self.settings.currency,
            total=order.total,
            order_currency=order.currency,
        )
        if reason is None:
            return order, None
        return order, self.stop(payment, reason, hold=True)

    def stop(self, payment: Payment, reason: str, *, hold: bool) -> Payment:
        """No money moves: ``needs_attention`` with the reason, then the order is put on hold with a note."""
        try:
            payment = self.payments.stop_capture(payment.payment_id, reason, Step() if hold else None, self.clock())
        except StatusChanged:
            return reload(self.payments, payment.payment_id)
        metrics.add_metric(name="CaptureNeedsAttention", unit="Count", value=1)
        logger.error(
            "capture stopped: the payment does not match its order",
            extra={"payment": payment.payment_id, "order_id": payment.order_id, "reason": reason},
        )
        return self.run(payment) if hold else payment

    def run(self, payment: Payment) -> Payment:
        """The ``hold_order`` step: the order on hold and one note for the shop, recorded like a capture step."""
        now = self.clock()
        started = Step(
            status=StepStatus.RUNNING, attempts=payment.step(StepName.HOLD_ORDER).attempts + 1, started_at=iso(now)
        )
        try:
            payment = self.payments.record_step(payment.payment_id, StepName.HOLD_ORDER, started)
            self._put_on_hold_with_note(payment)
            done = started.model_copy(update={"status": StepStatus.DONE, "done_at": iso(self.clock())})
            return self.payments.record_step(payment.payment_id, StepName.HOLD_ORDER, done)
        except StatusChanged:
            return reload(self.payments, payment.payment_id)
        except UpstreamError as exc:
            logger.warning(
                "putting the order on hold failed; the sync retries it",
                extra={"payment": payment.payment_id, "order_id": payment.order_id, "code": exc.code},
            )
            delay = retry_delay(started.attempts, self.settings.capture_retry_base_seconds)
            failed = started.model_copy(
                update={
                    "status": StepStatus.RETRY,
                    "last_error": step_error(exc),
                    "next_attempt_at": iso(self.clock() + delay),
                }
            )
            try:
                return self.payments.record_step(payment.payment_id, StepName.HOLD_ORDER, failed)
            except StatusChanged:
                return reload(self.payments, payment.payment_id)

    def _put_on_hold_with_note(self, payment: Payment) -> None:
        """Each half is looked up first, so a retry after a lost answer neither undoes nor duplicates anything."""
        try:
            order = self.orders.get_order(payment.order_id)
        except UpstreamNotFound:
            logger.warning("the order to put on hold is gone from the shop", extra={"order_id": payment.order_id})
            return
        if order_needs_hold(order.status):
            held = self.orders.update_order(order.id, {"status": "on-hold"})
            if held.status != "on-hold":
                raise UpstreamInvalidResponse("woocommerce", f"the order is {held.status} after it was put on hold")
        marker = note_marker(payment.payment_id)
        if not any(marker in note.note for note in self.orders.order_notes(order.id)):
            self.orders.add_order_note(order.id, mismatch_note(payment.payment_id, payment.reason or ""))

    def retry(self, payment: Payment) -> str | None:
        """Run a stopped payment's unfinished ``hold_order`` step when it is due; ``None`` when it has none."""
        step = payment.steps.get(StepName.HOLD_ORDER)
        if step is None or step.status is StepStatus.DONE:
            return None
        if not due(step, self.clock()):
            return "not_due"
        owner = f"hold-{secrets.token_hex(8)}"
        # The user's lease: no other run writes this order's note at the same time.
        if not self.leases.acquire_lease(payment.user_id, owner, self.clock(), LEASE_TTL):
            return "busy"
        try:
            payment = reload(self.payments, payment.payment_id)
            if payment.step(StepName.HOLD_ORDER).status is StepStatus.DONE:
                return StepStatus.DONE.value
            return self.run(payment).step(StepName.HOLD_ORDER).status.value
        finally:
            self.leases.release_lease(payment.user_id, owner)
