"""Topomer balance payments: the rules, free of AWS and HTTP.

A payment is a hold on the customer's Topomer balance, placed at checkout (``authorized``) and turned
into a debit when the order is paid (``capture``). Topomer only knows absolute balances, so a capture is
three recorded steps run one after the other: ``debit`` (write the new balance), ``expire_token`` and
``record_order``. Each step is marked before it runs and after it succeeds; a step found marked but not
finished is run again, and the debit first checks Topomer's balance to tell "already applied" from
"never applied".

A payment is bound to its WooCommerce order: it is authorized only for an order that exists, is not
paid yet, is in the payment's currency and totals exactly the amount; and before the debit the order is
checked again. A mismatch stops the capture (``needs_attention`` with a ``reason``) and runs one more
recorded step, ``hold_order``: the order is put on hold with a note, so the shop sees it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from woo_backend.errors import Conflict, DomainError, ErrorKind, InvalidRequest, NotFound, Unauthorized

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("1000000")


class PaymentStatus(StrEnum):
    AUTHORIZED = "authorized"
    CAPTURE_PENDING = "capture_pending"
    CAPTURED = "captured"
    VOIDED = "voided"
    EXPIRED = "expired"
    NEEDS_ATTENTION = "needs_attention"


# Statuses a capture may (re)start from.
CAPTURABLE = frozenset({PaymentStatus.AUTHORIZED, PaymentStatus.CAPTURE_PENDING})


class StepName(StrEnum):
    DEBIT = "debit"
    EXPIRE_TOKEN = "expire_token"  # noqa: S105 (a step name, not a secret)
    RECORD_ORDER = "record_order"
    # Not a capture step: run instead of the capture when the order does not match the payment.
    HOLD_ORDER = "hold_order"


CAPTURE_STEPS: tuple[StepName, ...] = (StepName.DEBIT, StepName.EXPIRE_TOKEN, StepName.RECORD_ORDER)


class StepStatus(StrEnum):
    PENDING = "pending"  # not started
    RUNNING = "running"  # marked before the call; its outcome is unknown until it is marked done
    RETRY = "retry"  # failed; the sync runs it again after ``next_attempt_at``
    DONE = "done"


# ------------------------------------------------------------------ errors
class InvalidToken(DomainError):
    kind = ErrorKind.UNAUTHORIZED
    code = "invalid_token"


class MissingToken(Unauthorized):
    code = "missing_token"


class TokenExpired(DomainError):
    kind = ErrorKind.GONE
    code = "token_expired"


class InsufficientBalance(DomainError):
    kind = ErrorKind.PAYMENT_REQUIRED
    code = "insufficient_balance"


class InvalidAmount(InvalidRequest):
    code = "invalid_amount"


class PaymentNotFound(NotFound):
    code = "payment_not_found"


class OrderHasPayment(Conflict):
    code = "order_has_payment"


class PaymentNotVoidable(Conflict):
    code = "payment_not_voidable"


class PaymentNotCapturable(Conflict):
    code = "payment_not_capturable"


class PaymentNeedsAttention(PaymentNotCapturable):
    """The capture stopped and waits for a person (the payment's ``reason`` or steps say why)."""

    code = "payment_needs_attention"


class OrderNotFound(NotFound):
    code = "order_not_found"


class OrderAlreadyPaid(Conflict):
    code = "order_already_paid"


class OrderNotPayable(Conflict):
    code = "order_not_payable"


class AmountMismatch(DomainError):
    kind = ErrorKind.SEMANTIC
    code = "amount_mismatch"


class CurrencyMismatch(DomainError):
    kind = ErrorKind.SEMANTIC
    code = "currency_mismatch"


# ------------------------------------------------------------------ models
class Step(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: StepStatus = StepStatus.PENDING
    attempts: int = 0
    started_at: str | None = None
    done_at: str | None = None
    next_attempt_at: str | None = None
    last_error: str | None = None


class Payment(BaseModel):
    model_config = ConfigDict(frozen=True)

    payment_id: str
    order_id: int
    user_id: str
    amount: Decimal
    status: PaymentStatus
    token: str = Field(repr=False)  # needed for Topomer's calls; never logged nor returned
    token_hash: str
    created_at: str
    hold_expires_at: str
    steps: dict[StepName, Step]
    captured_at: str | None = None
    closed_at: str | None = None
    # The debit's arithmetic, recorded before the call: Topomer's balance then, and the one written.
    balance_before: Decimal | None = None
    balance_after: Decimal | None = None
    # Payments authorized before currencies were recorded have none: they are in the configured one.
    currency: str | None = None
    # Why the capture stopped for a person (``<code>: <explanation>``), when the order did not match.
    reason: str | None = None

    def step(self, name: StepName) -> Step:
        return self.steps.get(name, Step())

    def public(self) -> dict[str, Any]:
        """What the API shows: no token, amounts as exact strings."""
        return {
            "payment_id": self.payment_id,
            "order_id": self.order_id,
            "user_id": self.user_id,
            "amount": money(self.amount),
            **({"currency": self.currency} if self.currency else {}),
            "status": self.status.value,
            **({"reason": self.reason} if self.reason else {}),
            "created_at": self.created_at,
            "hold_expires_at": self.hold_expires_at,
            "captured_at": self.captured_at,
            "steps": {
                name.value: self.step(name).model_dump(mode="json", exclude_none=True)
                for name in (*CAPTURE_STEPS, StepName.HOLD_ORDER)
                if name in CAPTURE_STEPS or name in self.steps
            },
        }


class UserHolds(BaseModel):
    """This service's view of one Topomer user: the sum of open holds and the balance it expects."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    held: Decimal = Decimal(0)
    version: int = 0
    expected_balance: Decimal | None = None


class Authorization(BaseModel):
    model_config = ConfigDict(frozen=True)

    payment_id: str
    order_id: int
    status: PaymentStatus
    amount: str
    available_after: str
    currency: str | None = None  # absent from answers recorded before currencies were
    created: bool = True


# ------------------------------------------------------------------ rules
def money(value: Decimal) -> str:
    return str(value.quantize(CENT))


def parse_amount(raw: object) -> Decimal:
    """A positive amount with at most two decimals, given as a string or a JSON number (never a float)."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int, Decimal)):
        raise InvalidAmount('amount must be a decimal string such as "12.50"')
    try:
        amount = Decimal(str(raw).strip())
    except InvalidOperation:
        raise InvalidAmount('amount must be a decimal string such as "12.50"') from None
    if not amount.is_finite() or amount <= 0:
        raise InvalidAmount("amount must be greater than zero")
    if amount != amount.quantize(CENT):
        raise InvalidAmount("amount has more than two decimals")
    if amount > MAX_AMOUNT:
        raise InvalidAmount(f"amount is above {MAX_AMOUNT}")
    return amount.quantize(CENT)


def available(balance: Decimal, held: Decimal) -> Decimal:
    """What the customer may still spend here; never shown below zero."""
    return max(Decimal(0), balance - held)


def check_can_hold(balance: Decimal, expired: bool, held: Decimal, amount: Decimal) -> Decimal:
    """The total held once ``amount`` is added; refuses an expired token or a short balance."""
    if expired:
        raise TokenExpired("this Topomer token has expired")
    if balance - held < amount:
        raise InsufficientBalance(f"available balance {money(available(balance, held))} is less than {money(amount)}")
    return held + amount


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


def drift(expected: Decimal | None, actual: Decimal) -> Decimal:
    """Topomer's balance minus the one this service expects (zero when nothing is expected yet)."""
    return Decimal(0) if expected is None else actual - expected
