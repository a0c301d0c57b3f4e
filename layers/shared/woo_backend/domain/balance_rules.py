"""Topomer balance payments: the rules (amounts, holds, the debit's arithmetic, steps, the payment's order).

Pure functions over the models of ``domain.balance``: no AWS, no HTTP, no clock of their own.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from woo_backend.domain.balance import (
    CAPTURABLE,
    CAPTURE_STEPS,
    AmountMismatch,
    CurrencyMismatch,
    InsufficientBalance,
    OrderAlreadyPaid,
    OrderNotPayable,
    Payment,
    PaymentNeedsAttention,
    PaymentNotCapturable,
    PaymentNotVoidable,
    PaymentStatus,
    Step,
    StepName,
    StepStatus,
    TokenExpired,
)
from woo_backend.domain.money import InvalidAmount, money, parse_decimal

# The largest payment taken: far above any order here, low enough that no typo moves a fortune.
MAX_PAYMENT = Decimal("1000000")


def parse_payment_amount(raw: object) -> Decimal:
    """A payment's amount as sent: a decimal string ("12.50"; the README documents no JSON number), positive,
    two decimals at most."""
    return parse_decimal(raw, field="amount", maximum=MAX_PAYMENT, error=InvalidAmount)


# ------------------------------------------------------------------ holds
def available(balance: Decimal, held: Decimal) -> Decimal:
    """What the customer may still spend here; never shown below zero."""
    return max(Decimal(0), balance - held)


def hold_limit(balance: Decimal, expired: bool, amount: Decimal) -> Decimal:
    """The most the user's other holds may total for a hold of ``amount`` to fit (the reservation's condition:
    DynamoDB's conditions cannot add, so ``held + amount <= balance`` is written ``held <= balance - amount``)."""
    if expired:
        raise TokenExpired("this Topomer token has expired")
    if amount > balance:
        raise InsufficientBalance(f"the balance {money(available(balance, Decimal(0)))} is less than {money(amount)}")
    return balance - amount


def check_can_hold(balance: Decimal, expired: bool, held: Decimal, amount: Decimal) -> Decimal:
    """The total held once ``amount`` is added; refuses an expired token or a short balance."""
    if expired:
        raise TokenExpired("this Topomer token has expired")
    if balance - held < amount:
        raise InsufficientBalance(f"available balance {money(available(balance, held))} is less than {money(amount)}")
    return held + amount


# ------------------------------------------------------------------ the debit and the capture steps
class DebitDecision(StrEnum):
    SEND = "send"  # Topomer still shows the balance before: write the new one
    ALREADY_APPLIED = "already_applied"  # Topomer shows the balance we wrote: the last attempt landed
    DRIFTED = "drifted"  # Topomer shows neither: someone else moved the balance; a person must look


def plan_debit(payment: Payment, current_balance: Decimal) -> tuple[DebitDecision, Decimal, Decimal]:
    """Decide the debit from Topomer's balance now: (decision, balance before, balance to write).

    The first attempt records ``before = current`` and ``after = current - amount``. A later attempt
    compares the current balance with both, so the debit is applied exactly once.
    """
    if payment.balance_before is None or payment.balance_after is None:
        target = current_balance - payment.amount
        if target < 0:
            return DebitDecision.DRIFTED, current_balance, target
        return DebitDecision.SEND, current_balance, target
    if current_balance == payment.balance_after:
        return DebitDecision.ALREADY_APPLIED, payment.balance_before, payment.balance_after
    if current_balance == payment.balance_before:
        return DebitDecision.SEND, payment.balance_before, payment.balance_after
    return DebitDecision.DRIFTED, payment.balance_before, payment.balance_after


def debit_unstarted(payment: Payment) -> bool:
    """A capture under way whose debit was never recorded as started: checking its order may still stop it."""
    return (
        payment.status is PaymentStatus.CAPTURE_PENDING
        and payment.balance_before is None
        and payment.step(StepName.DEBIT).status is not StepStatus.DONE
    )


def next_step(payment: Payment) -> StepName | None:
    for name in CAPTURE_STEPS:
        if payment.step(name).status is not StepStatus.DONE:
            return name
    return None


def retry_delay(failures: int, base_seconds: Decimal, cap: timedelta = timedelta(hours=1)) -> timedelta:
    """Exponential backoff between sync attempts: base, 2 x base, 4 x base ... capped."""
    seconds = base_seconds * (2 ** max(0, failures - 1))
    return min(cap, timedelta(seconds=float(seconds)))


def due(step: Step, now: datetime) -> bool:
    return step.next_attempt_at is None or datetime.fromisoformat(step.next_attempt_at) <= now


def check_voidable(payment: Payment) -> None:
    if payment.status is PaymentStatus.AUTHORIZED:
        return
    if payment.status in (PaymentStatus.VOIDED, PaymentStatus.EXPIRED):
        return  # already released: voiding again changes nothing
    raise PaymentNotVoidable(f"payment is {payment.status.value}; only an authorized payment can be voided")


def check_capturable(payment: Payment) -> None:
    if payment.status in CAPTURABLE or payment.status is PaymentStatus.CAPTURED:
        return
    if payment.status is PaymentStatus.NEEDS_ATTENTION:
        why = payment.reason or (
            "a capture step failed too often, Topomer's balance moved, or the order report's fate at Topomer is"
            " unknown; see the payment's steps"
        )
        raise PaymentNeedsAttention(f"the capture was stopped for a person: {why}")
    raise PaymentNotCapturable(f"payment is {payment.status.value} and cannot be captured")


def drift(expected: Decimal | None, actual: Decimal) -> Decimal:
    """Topomer's balance minus the one this service expects (zero when nothing is expected yet)."""
    return Decimal(0) if expected is None else actual - expected


# ------------------------------------------------------------------ the payment's order
# WooCommerce: includes/wc-order-functions.php, wc_get_is_paid_statuses() (what WC_Order::is_paid() tests).
PAID_STATUSES = frozenset({"processing", "completed"})
# Orders that will not be paid any more (WooCommerce's ``valid_order_statuses_for_payment`` are pending and
# failed; on-hold is where a shop waits for a payment).
CLOSED_STATUSES = frozenset({"cancelled", "refunded", "trash"})
# Statuses a mismatched order is left in: already held, or already not going ahead.
NOT_HELD_STATUSES = frozenset({"on-hold", "failed"}) | CLOSED_STATUSES
ORDER_GONE = "order_not_found: WooCommerce no longer has this order"


def check_currency(requested: str | None, configured: str) -> str:
    """The payment's currency: the one Topomer balances are in; a request may only name that one."""
    if requested is not None and requested != configured:
        raise CurrencyMismatch(f"Topomer balances are in {configured}; a payment in {requested} is not possible")
    return configured


def check_order_payable(
    *,
    order_id: int,
    status: str,
    date_paid_gmt: str | None,
    total: Decimal,
    order_currency: str,
    amount: Decimal,
    currency: str,
) -> None:
    """Refuse an authorization for an order that is paid, closed, in another currency or of another total.

    Paid is WooCommerce's own meaning: a paid status (``is_paid()``), or a ``date_paid``, which WooCommerce
    sets once, when the order first reaches a paid status, and keeps (an order paid then put on hold is paid).
    """
    if status in PAID_STATUSES or date_paid_gmt:
        raise OrderAlreadyPaid(f"order {order_id} is already paid (status {status})")
    if status in CLOSED_STATUSES:
        raise OrderNotPayable(f"order {order_id} is {status} and cannot be paid")
    if order_currency.upper() != currency:
        raise CurrencyMismatch(f"order {order_id} is in {order_currency or 'no currency'}; payments are in {currency}")
    if total != amount:
        raise AmountMismatch(
            f"the amount must be the order's total: order {order_id} totals {money(total)} {currency},"
            f" not {money(amount)}"
        )


def capture_mismatch(*, amount: Decimal, currency: str, total: Decimal, order_currency: str) -> str | None:
    """Why a capture must not debit this order (``<code>: <explanation>``), or ``None`` when it matches."""
    if order_currency.upper() != currency:
        return f"currency_mismatch: the payment is in {currency}, the order in {order_currency or 'no currency'}"
    if total != amount:
        return (
            f"amount_mismatch: the payment is {money(amount)} {currency}, "
            f"the order totals {money(total)} {order_currency.upper()}"
        )
    return None


def order_needs_hold(status: str) -> bool:
    return status not in NOT_HELD_STATUSES


def note_marker(payment_id: str) -> str:
    """The words that identify this payment's note among the order's notes (written once)."""
    return f"Topomer payment {payment_id}"


def mismatch_note(payment_id: str, reason: str) -> str:
    return (
        f"{note_marker(payment_id)} was not captured ({reason}). Nothing was taken from the customer's "
        "Topomer balance and the order was put on hold. Check the order before fulfilling it; the payment "
        "needs a person to settle it."
    )


class OrderEvent(StrEnum):
    CAPTURE = "capture"
    VOID = "void"
    IGNORE = "ignore"


PAYMENT_METHOD = "topomer"


def order_event(payment_method: str, status: str) -> OrderEvent:
    """What a WooCommerce order's status means for its Topomer payment."""
    if payment_method != PAYMENT_METHOD:
        return OrderEvent.IGNORE
    if status in ("processing", "completed"):
        return OrderEvent.CAPTURE
    if status in ("cancelled", "failed"):
        return OrderEvent.VOID
    return OrderEvent.IGNORE
