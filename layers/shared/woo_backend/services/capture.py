"""The capture of a balance payment: its recorded steps, run under the user's lease.

Topomer takes absolute balances, so captures of one user are serialized by a lease in DynamoDB (a
conditional write with an expiry). Under it the steps not done yet run in order, each recorded before
and after it runs: ``debit`` (the arithmetic, balance before and balance written, is recorded before
the call and checked against Topomer's balance on any retry, so the debit lands exactly once),
``expire_token`` (confirmed by reading it back) and ``record_order`` (sent once, or parked for a person).
Before any money moves the order must still be what was authorized; on a mismatch the payment stops
(``needs_attention``) and ``hold_order`` puts the order on hold with one note for the shop (``order_hold``). A failed
step is retried by the sync with backoff; after a bounded number of failures: ``needs_attention``.
"""

from __future__ import annotations

import secrets
import time
from decimal import Decimal

from woo_backend.backoff import sleep_backoff
from woo_backend.clock import Clock, iso
from woo_backend.domain.balance import DebitInFlight, Payment, PaymentStatus, StatusChanged, Step, StepName, StepStatus
from woo_backend.domain.balance_rules import DebitDecision, debit_unstarted, next_step, plan_debit, retry_delay
from woo_backend.errors import ErrorKind, UpstreamError, UpstreamNotFound
from woo_backend.http import UpstreamOutcomeUnknown
from woo_backend.observability import logger, metrics
from woo_backend.services.balance_ports import LEASE_TTL, Leases, OrdersApi, PaymentRecords, TopomerApi, reload
from woo_backend.services.order_hold import OrderHold, step_error
from woo_backend.settings import BalanceSettings
from woo_backend.topomer import TopomerOrder, TopomerOrderItem
from woo_backend.woocommerce import Order

LEASE_WAIT_SECONDS = 5.0

# The start of a parked order report's ``last_error``: its fate at Topomer is unknown and a person decides.
ORDER_REPORT_UNKNOWN = "order_report_unknown"


class DebitBlocked(UpstreamError):
    """Another debit of the same customer must finish first; retried like an upstream failure."""

    kind = ErrorKind.UNAVAILABLE
    code = "debit_blocked"

    def __init__(self, message: str) -> None:
        super().__init__("topomer", message)


class WriteNotLanded(UpstreamError):
    """Topomer took a write (2xx) but reading back shows it not applied (yet); the step is run again later."""

    kind = ErrorKind.UNAVAILABLE
    code = "write_not_landed"

    def __init__(self, message: str) -> None:
        super().__init__("topomer", message)


class CaptureRunner:
    """Runs a payment's capture steps under the user's lease (a mismatched order goes to ``OrderHold``)."""

    def __init__(
        self,
        payments: PaymentRecords,
        leases: Leases,
        topomer: TopomerApi,
        orders: OrdersApi,
        settings: BalanceSettings,
        clock: Clock,
        order_hold: OrderHold,
    ) -> None:
        self.payments = payments
        self.leases = leases
        self.topomer = topomer
        self.orders = orders
        self.settings = settings
        self.clock = clock
        self.order_hold = order_hold

    def run(self, payment: Payment, order: Order | None, wait: float) -> Payment:
        """Run the steps not done yet under the user's lease, waiting up to ``wait`` seconds for it; the
        payment as it ends up (still ``capture_pending`` when the lease stayed busy: the sync finishes it)."""
        owner = f"capture-{secrets.token_hex(8)}"
        deadline = time.monotonic() + wait
        attempt = 0
        while not self.leases.acquire_lease(payment.user_id, owner, self.clock(), LEASE_TTL):
            if time.monotonic() >= deadline:
                logger.info("capture waits for another capture of the same user", extra={"payment": payment.payment_id})
                return payment  # still capture_pending: the sync finishes it
            # Equal jitter (never under half the step): the poll must make progress while the lease is busy.
            sleep_backoff(attempt, base=0.02, cap=0.5, floor=0.5)
            attempt += 1
        try:
            payment = reload(self.payments, payment.payment_id)  # as it is now that the lease is ours
            if debit_unstarted(payment):
                # Before any money moves: the order must still be what was authorized.
                try:
                    order, stopped = self.order_hold.check(payment, order)
                except UpstreamError as exc:  # the order could not be read: the debit is retried later
                    return self._step_failed(payment, StepName.DEBIT, self._started(payment, StepName.DEBIT), exc)
                if stopped is not None:
                    return stopped
            return self._run_steps(payment, order)
        finally:
            self.leases.release_lease(payment.user_id, owner)

    def _started(self, payment: Payment, name: StepName) -> Step:
        """The step's next attempt, marked running now."""
        attempt = payment.step(name).attempts + 1
        return Step(status=StepStatus.RUNNING, attempts=attempt, started_at=iso(self.clock()))

    def _run_steps(self, payment: Payment, order: Order | None) -> Payment:
        while (name := next_step(payment)) is not None:
            if payment.status not in (PaymentStatus.CAPTURE_PENDING, PaymentStatus.NEEDS_ATTENTION):
                return payment
            started = self._started(payment, name)
            try:
                if name is StepName.DEBIT:
                    payment = self._debit(payment, started)
                    if payment.step(StepName.DEBIT).status is not StepStatus.DONE:
                        return payment  # drifted: needs a person
                    continue
                if name is StepName.EXPIRE_TOKEN:
                    payment = self._expire_token(payment, started)
                else:
                    payment = self._record_order(payment, order, started)
                    if payment.step(name).status is not StepStatus.DONE:
                        return payment  # parked: its fate at Topomer is unknown, a person decides
            except UpstreamError as exc:
                return self._step_failed(payment, name, started, exc)
            except StatusChanged:
                return reload(self.payments, payment.payment_id)
        try:
            payment = self.payments.finish_capture(payment.payment_id, self.clock())
        except StatusChanged:
            return reload(self.payments, payment.payment_id)
        metrics.add_metric(name="PaymentCaptured", unit="Count", value=1)
        logger.info("payment captured", extra={"payment": payment.payment_id, "order_id": payment.order_id})
        return payment

    def _debit(self, payment: Payment, started: Step) -> Payment:
        for _ in range(2):
            current = self.topomer.get_user_by_token(payment.token).balance
            decision, before, after = plan_debit(payment, current)
            if decision is DebitDecision.DRIFTED:
                return self._debit_drifted(payment, started, before, after)
            try:
                payment = self.payments.start_debit(payment, started, before, after)
            except DebitInFlight as other:
                # Finish the other payment's debit first (this run holds the user's lease), then look again.
                blocking = self.payments.get_payment(other.payment_id)
                if blocking is None or blocking.payment_id == payment.payment_id:
                    raise
                logger.info("finishing an earlier debit of the same user first", extra={"payment": other.payment_id})
                self._run_steps(blocking, None)
                continue
            # The recorded plan wins over this attempt's: the first attempt's arithmetic is the one applied.
            if payment.balance_before is not None and payment.balance_after is not None:
                before, after = payment.balance_before, payment.balance_after
            if decision is DebitDecision.SEND:
                self.topomer.update_balance(payment.token, payment.user_id, after)
                # A 2xx only says Topomer took the write. Whether it landed is read back and judged by the
                # same arithmetic as a retry: the balance written is done; the balance before is "not
                # applied" (the sync runs the step again, and sees a late landing as done); anything else is
                # a drift for a person.
                landed = self.topomer.get_user_by_token(payment.token).balance
                decision, _, _ = plan_debit(payment, landed)
                if decision is DebitDecision.DRIFTED:
                    return self._debit_drifted(payment, started, before, after)
                if decision is DebitDecision.SEND:
                    raise WriteNotLanded("update-solde was taken but Topomer still shows the balance before")
            done = started.model_copy(update={"status": StepStatus.DONE, "done_at": iso(self.clock())})
            return self.payments.finish_debit(payment, done, after, self.clock())
        raise DebitBlocked("an earlier debit of this customer is not finished yet")

    def _debit_drifted(self, payment: Payment, started: Step, before: Decimal, after: Decimal) -> Payment:
        metrics.add_metric(name="CaptureNeedsAttention", unit="Count", value=1)
        logger.error(
            "debit cannot be decided: Topomer's balance is neither the one before nor the one written",
            extra={"payment": payment.payment_id, "expected_before": str(before), "expected_after": str(after)},
        )
        failed = started.model_copy(
            update={"status": StepStatus.RETRY, "last_error": "balance_drifted: Topomer's balance moved"}
        )
        return self.payments.record_step(
            payment.payment_id, StepName.DEBIT, failed, status=PaymentStatus.NEEDS_ATTENTION
        )

    def _expire_token(self, payment: Payment, started: Step) -> Payment:
        payment = self.payments.record_step(payment.payment_id, StepName.EXPIRE_TOKEN, started)
        self.topomer.expire_token(payment.token)
        # A 2xx only says Topomer took it: the token is expired when get-by-token says so.
        if not self.topomer.get_user_by_token(payment.token).expired:
            raise WriteNotLanded("update-expired was taken but Topomer does not show the token expired")
        done = started.model_copy(update={"status": StepStatus.DONE, "done_at": iso(self.clock())})
        return self.payments.record_step(payment.payment_id, StepName.EXPIRE_TOKEN, done)

    def _record_order(self, payment: Payment, order: Order | None, started: Step) -> Payment:
        """Report the paid order to Topomer exactly once, or park it for a person.

        Topomer has no way to look an order up, and a server may keep every POST it receives (nothing
        written says it deduplicates). So the report is sent again only after a failure taken as "not
        kept" (connection refused, a 4xx, a 500/503, an assumption the README states: ``_step_failed``
        schedules the retry). When its
        fate is unknown (no answer once sent, a dropped connection, 502/504, or a run that stopped after
        marking the step running) the payment is parked as ``needs_attention`` and never resent on its
        own: a person checks Topomer, then marks the step ``done``, or sets it back to ``pending`` with the
        payment ``capture_pending`` and the sync sends it again. Nothing is lost (the payment stays open,
        counted by ``CaptureNeedsAttention``) and nothing is sent twice behind anyone's back. The
        ``Idempotency-Key`` (from the payment id) lets a server that honours it dedupe; nothing more is
        relied on.
        """
        previous = payment.step(StepName.RECORD_ORDER)
        if previous.status is StepStatus.RUNNING:
            return self._park_order_report(payment, started, "a run stopped after marking it sent")
        if (
            previous.status is StepStatus.RETRY
            and previous.last_error
            and previous.last_error.startswith(ORDER_REPORT_UNKNOWN)
        ):
            # Still parked: only the payment was set back by a person. Setting the step pending sends it.
            return self._park_order_report(payment, started, previous.last_error)
        record = self._order_record(payment, order)
        payment = self.payments.record_step(payment.payment_id, StepName.RECORD_ORDER, started)
        try:
            self.topomer.record_order(record, idempotency_key=f"woo-backend-order-{payment.payment_id}")
        except UpstreamOutcomeUnknown as exc:
            return self._park_order_report(payment, started, exc.message)
        done = started.model_copy(update={"status": StepStatus.DONE, "done_at": iso(self.clock())})
        return self.payments.record_step(payment.payment_id, StepName.RECORD_ORDER, done)

    def _park_order_report(self, payment: Payment, started: Step, why: str) -> Payment:
        metrics.add_metric(name="CaptureNeedsAttention", unit="Count", value=1)
        logger.error(
            "order report outcome unknown: parked for a person",
            extra={"payment": payment.payment_id, "order_id": payment.order_id},
        )
        message = why
        if not why.startswith(ORDER_REPORT_UNKNOWN):
            message = (
                f"{ORDER_REPORT_UNKNOWN}: {why}. Check Topomer for order {payment.order_id}, then mark this step"
                " done, or set it pending (payment capture_pending) to send it again"
            )
        parked = started.model_copy(update={"status": StepStatus.RETRY, "last_error": message[:300]})
        try:
            return self.payments.record_step(
                payment.payment_id, StepName.RECORD_ORDER, parked, status=PaymentStatus.NEEDS_ATTENTION
            )
        except StatusChanged:
            return reload(self.payments, payment.payment_id)

    def _order_record(self, payment: Payment, order: Order | None) -> TopomerOrder:
        if order is None or order.id != payment.order_id:
            try:
                order = self.orders.get_order(payment.order_id)
            except UpstreamNotFound:
                order = None  # an order deleted from the shop: report what the payment knows
        items = [
            TopomerOrderItem(product_id=li.product_id, name=li.name, quantity=li.quantity, total=li.total)
            for li in (order.line_items if order else [])
        ]
        return TopomerOrder(
            order_id=payment.order_id,
            customer={"user_id": payment.user_id, "woocommerce_customer_id": order.customer_id if order else None},
            items=items,
            total=payment.amount,
            payment_method="topomer",
        )

    def _step_failed(self, payment: Payment, name: StepName, started: Step, exc: UpstreamError) -> Payment:
        now = self.clock()
        give_up = started.attempts >= self.settings.capture_max_attempts
        failed = started.model_copy(
            update={
                "status": StepStatus.RETRY,
                "last_error": step_error(exc),
                "next_attempt_at": iso(now + retry_delay(started.attempts, self.settings.capture_retry_base_seconds)),
            }
        )
        status = PaymentStatus.NEEDS_ATTENTION if give_up else PaymentStatus.CAPTURE_PENDING
        logger.warning(
            "capture step failed",
            extra={"payment": payment.payment_id, "step": name.value, "attempt": started.attempts, "code": exc.code},
        )
        if give_up:
            metrics.add_metric(name="CaptureNeedsAttention", unit="Count", value=1)
        try:
            return self.payments.record_step(payment.payment_id, name, failed, status=status)
        except StatusChanged:
            return reload(self.payments, payment.payment_id)
