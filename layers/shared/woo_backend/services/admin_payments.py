"""The admin console's payments: lists by status, daily counts, drift, and what a person does to one payment.

- retry: the payment's pending capture steps run now, by the sync's own code (``CaptureRunner.run`` under the
  user's lease, so never beside the sync). A payment that needs attention because its attempts ran out goes
  back to ``capture_pending`` first, exactly where the sync retries it from (its order is checked again before
  a debit that never started). One stopped because its order does not match (``reason``) or whose order report
  is parked is never captured by a retry: the answer says why and what to do.
- resolve: a person settled a ``needs_attention`` payment by hand. ``resolved`` with their note, its hold given
  back in this service's books (no Topomer call; a hold its debit already ended is not given back twice).
- void: the customer API's void, without the customer's token.
Every write is recorded in the audit trail (never the token).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from woo_backend.backoff import sleep_backoff
from woo_backend.clock import Clock, iso
from woo_backend.domain.balance import (
    DriftRecord,
    Payment,
    PaymentNotResolvable,
    PaymentNotRetryable,
    PaymentStatus,
    Resolution,
    StatusChanged,
    StepName,
    StepStatus,
    UnknownPayment,
)
from woo_backend.domain.balance_rules import next_step
from woo_backend.errors import Busy
from woo_backend.services.audit_ports import AuditLog
from woo_backend.services.balance import BalanceService
from woo_backend.services.balance_ports import LEASE_TTL, Leases, PaymentRecords
from woo_backend.services.capture import LEASE_WAIT_SECONDS, ORDER_REPORT_UNKNOWN, CaptureRunner
from woo_backend.services.order_hold import OrderHold

CLOSED = frozenset({PaymentStatus.CAPTURED, PaymentStatus.VOIDED, PaymentStatus.EXPIRED, PaymentStatus.RESOLVED})


class PaymentListing(Protocol):
    """The console's reads (``store.payment_lists.PaymentLists``)."""

    def payments(self, status: PaymentStatus, limit: int, cursor: str | None) -> tuple[list[Payment], str | None]: ...

    def created_since(self, status: PaymentStatus, since: str) -> list[str]: ...

    def drift(self, limit: int, cursor: str | None) -> tuple[list[DriftRecord], str | None]: ...


class Resolutions(PaymentRecords, Protocol):
    """``store.payments.PaymentsStore`` with the resolution write."""

    def resolve(
        self, payment: Payment, resolution: Resolution, now: datetime, *, give_back: bool, end_debit: bool
    ) -> Payment: ...


class DebitsInFlight(Protocol):
    def debit_in_flight(self, user_id: str) -> str | None: ...


@dataclass(frozen=True)
class RetryResult:
    outcome: str  # captured | still_pending | needs_attention | nothing_to_do
    message: str
    payment: Payment


@dataclass(frozen=True)
class DayCounts:
    day: str
    counts: dict[str, int]


# ------------------------------------------------------------------ what a payment needing attention waits for
def parked_report(payment: Payment) -> bool:
    """Its order report's fate at Topomer is unknown: never resent without a person checking Topomer."""
    step = payment.step(StepName.RECORD_ORDER)
    return step.status is StepStatus.RETRY and (step.last_error or "").startswith(ORDER_REPORT_UNKNOWN)


def mismatch_message(payment: Payment) -> str:
    hold = payment.steps.get(StepName.HOLD_ORDER)
    if hold is None:
        held = ""
    elif hold.status is StepStatus.DONE:
        held = " The order was put on hold with a note."
    else:
        held = f" Putting the order on hold has not worked yet ({hold.last_error or 'not run yet'}); it is retried."
    return (
        f"The capture was stopped because the order no longer matches the payment ({payment.reason}). Nothing was "
        f"taken from the customer's Topomer balance, and a retry cannot capture it.{held} Check the order with the "
        "customer, settle it by hand, then resolve this payment with a note (its hold is given back)."
    )


def parked_message(payment: Payment) -> str:
    return (
        f"The money was taken, but Topomer's answer to the report of order {payment.order_id} was lost, so it is "
        f"not sent again on its own (Topomer may already have it). Check Topomer for order {payment.order_id}: if "
        "it is not there, record it there by hand; then resolve this payment with a note."
    )


def retry_message(outcome: str, before: Payment, after: Payment) -> str:
    """What a retry did, in plain words, from the payment before and after it."""
    if outcome == "captured":
        return "The capture finished: the payment is captured."
    if outcome == "nothing_to_do":
        return f"Nothing to run: the payment is {after.status.value}."
    if after.reason:
        return mismatch_message(after)
    if parked_report(after):
        return parked_message(after)
    name = next_step(after)
    if name is None or after.steps == before.steps:
        return (
            "Another run is working on this customer's payments right now; the balance sync finishes this one, "
            "or retry in a minute."
        )
    step = after.step(name)
    error = step.last_error or "no error recorded"
    if error.startswith("balance_drifted"):
        return (
            "Topomer's balance for this customer was moved outside this service, so the debit cannot be decided "
            "(the balance is neither the one before it nor the one after it). Check the customer's balance at "
            "Topomer, settle it by hand, then resolve this payment with a note."
        )
    if outcome == "still_pending":
        return f"The {name.value} step failed again ({error}); the balance sync retries it."
    return (
        f"The {name.value} step failed again ({error}) after {step.attempts} attempts. Check that Topomer and "
        "WooCommerce are reachable, then retry; or, if you settled it by hand, resolve it with a note."
    )


def outcome_of(payment: Payment) -> str:
    if payment.status is PaymentStatus.CAPTURED:
        return "captured"
    if payment.status is PaymentStatus.CAPTURE_PENDING:
        return "still_pending"
    if payment.status is PaymentStatus.NEEDS_ATTENTION:
        return "needs_attention"
    return "nothing_to_do"


def snapshot(payment: Payment) -> dict[str, Any]:
    """What the audit trail keeps of a payment (never its token)."""
    shown: dict[str, Any] = {"status": payment.status.value, "amount": str(payment.amount)}
    if payment.reason:
        shown["reason"] = payment.reason
    return shown


class AdminPayments:
    def __init__(
        self,
        payments: Resolutions,
        lists: PaymentListing,
        holds: DebitsInFlight,
        leases: Leases,
        service: BalanceService,
        captures: CaptureRunner,
        order_hold: OrderHold,
        audit: AuditLog,
        clock: Clock,
    ) -> None:
        self.payments = payments
        self.lists = lists
        self.holds = holds
        self.leases = leases
        self.service = service
        self.captures = captures
        self.order_hold = order_hold
        self.audit = audit
        self.clock = clock

    # -------------------------------------------------------------- reads
    def get(self, payment_id: str) -> Payment:
        payment = self.payments.get_payment(payment_id)
        if payment is None:
            raise UnknownPayment(f"no payment {payment_id}")
        return payment

    def page(self, status: PaymentStatus, limit: int, cursor: str | None) -> tuple[list[Payment], str | None]:
        return self.lists.payments(status, limit, cursor)

    def drift(self, limit: int, cursor: str | None) -> tuple[list[DriftRecord], str | None]:
        return self.lists.drift(limit, cursor)

    def daily(self, days: int) -> list[DayCounts]:
        """Payments created per UTC day over the last ``days`` days (today included), per status, oldest first."""
        today = self.clock().date()
        first = today - timedelta(days=days - 1)
        table = {
            (first + timedelta(days=n)).isoformat(): dict.fromkeys((s.value for s in PaymentStatus), 0)
            for n in range(days)
        }
        for status in PaymentStatus:
            for created_at in self.lists.created_since(status, first.isoformat()):
                row = table.get(created_at[:10])  # stored in UTC: the date is its first ten characters
                if row is not None:
                    row[status.value] += 1
        return [DayCounts(day=day, counts=counts) for day, counts in table.items()]

    # -------------------------------------------------------------- writes
    def retry(self, payment_id: str, who: str) -> RetryResult:
        payment = self.get(payment_id)
        if payment.status in CLOSED:
            raise PaymentNotRetryable(f"the payment is {payment.status.value}: nothing is left to run")
        result = self._retry(payment)
        self.audit.record(
            who,
            "payment.retry",
            payment_id,
            self.clock(),
            before=snapshot(payment),
            after={**snapshot(result.payment), "outcome": result.outcome},
        )
        return result

    def _retry(self, payment: Payment) -> RetryResult:
        if payment.status is PaymentStatus.AUTHORIZED:
            message = "The payment is authorized and waits for its order to be paid; its capture starts then."
            return RetryResult("nothing_to_do", message, payment)
        if payment.status is PaymentStatus.NEEDS_ATTENTION and payment.reason:
            # Never captured: only its order's hold and note may still be pending (run now, not at its backoff).
            hold = payment.steps.get(StepName.HOLD_ORDER)
            if hold is not None and hold.status is not StepStatus.DONE:
                due_now = hold.model_copy(update={"next_attempt_at": None})
                self.order_hold.retry(
                    payment.model_copy(update={"steps": {**payment.steps, StepName.HOLD_ORDER: due_now}})
                )
                payment = self.get(payment.payment_id)
            return RetryResult("needs_attention", mismatch_message(payment), payment)
        if payment.status is PaymentStatus.NEEDS_ATTENTION and parked_report(payment):
            return RetryResult("needs_attention", parked_message(payment), payment)
        before = payment
        if payment.status is PaymentStatus.NEEDS_ATTENTION:
            # Back where the sync retries from; a failure now puts it back (its attempts are still counted).
            try:
                payment = self.payments.set_status(
                    payment.payment_id, PaymentStatus.CAPTURE_PENDING, (PaymentStatus.NEEDS_ATTENTION,), self.clock()
                )
            except StatusChanged:
                payment = self.get(payment.payment_id)
                return RetryResult(
                    outcome_of(payment), f"The payment changed meanwhile: it is {payment.status.value}.", payment
                )
        after = self.captures.run(payment, None, wait=LEASE_WAIT_SECONDS)
        outcome = outcome_of(after)
        return RetryResult(outcome, retry_message(outcome, before, after), after)

    def resolve(self, payment_id: str, note: str, who: str) -> Payment:
        payment = self.get(payment_id)
        if payment.status is not PaymentStatus.NEEDS_ATTENTION:
            raise PaymentNotResolvable(
                f"the payment is {payment.status.value}; only a payment that needs attention can be resolved"
            )
        owner = f"resolve-{secrets.token_hex(8)}"
        self._lease(payment.user_id, owner)  # no capture of this user runs meanwhile
        try:
            payment = self.get(payment_id)
            resolution = Resolution(note=note, by=who, at=iso(self.clock()))
            # A debit that finished already gave the hold back (``finish_debit``): never give it back twice.
            give_back = payment.step(StepName.DEBIT).status is not StepStatus.DONE
            end_debit = give_back and self.holds.debit_in_flight(payment.user_id) == payment.payment_id
            try:
                resolved = self.payments.resolve(
                    payment, resolution, self.clock(), give_back=give_back, end_debit=end_debit
                )
            except StatusChanged:
                now = self.get(payment_id)
                raise PaymentNotResolvable(
                    f"the payment is {now.status.value}; only a payment that needs attention can be resolved"
                ) from None
        finally:
            self.leases.release_lease(payment.user_id, owner)
        self.audit.record(
            who,
            "payment.resolve",
            payment_id,
            self.clock(),
            before=snapshot(payment),
            after={**snapshot(resolved), "hold_given_back": give_back},
            note=note,
        )
        return resolved

    def void(self, payment_id: str, who: str) -> Payment:
        before = self.get(payment_id)
        voided = self.service.void(payment_id, None)
        self.audit.record(
            who, "payment.void", payment_id, self.clock(), before=snapshot(before), after=snapshot(voided)
        )
        return voided

    def _lease(self, user_id: str, owner: str) -> None:
        deadline = time.monotonic() + LEASE_WAIT_SECONDS
        attempt = 0
        while not self.leases.acquire_lease(user_id, owner, self.clock(), LEASE_TTL):
            if time.monotonic() >= deadline:
                raise Busy("a capture of this customer is running; retry in a minute")
            sleep_backoff(attempt, base=0.02, cap=0.5, floor=0.5)
            attempt += 1
