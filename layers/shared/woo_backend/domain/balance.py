"""Topomer balance payments: the vocabulary (statuses, steps, the payment, its failures), free of AWS and HTTP.

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

The rules over these models are in ``domain.balance_rules``; how the API shows them is in ``api.balance``.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from woo_backend.errors import Conflict, DomainError, ErrorKind, NotFound, Unauthorized, Unprocessable


class PaymentStatus(StrEnum):
    AUTHORIZED = "authorized"
    CAPTURE_PENDING = "capture_pending"
    CAPTURED = "captured"
    VOIDED = "voided"
    EXPIRED = "expired"
    NEEDS_ATTENTION = "needs_attention"
    RESOLVED = "resolved"  # a person settled it by hand (admin console); no money moved by this service


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
class InvalidToken(Unauthorized):
    code = "invalid_token"


class MissingToken(Unauthorized):
    code = "missing_token"


class InvalidShopperToken(Unauthorized):
    code = "invalid_shopper_token"


class MissingShopperToken(Unauthorized):
    code = "missing_shopper_token"


class TokenExpired(DomainError):
    kind = ErrorKind.GONE
    code = "token_expired"


class InsufficientBalance(DomainError):
    kind = ErrorKind.PAYMENT_REQUIRED
    code = "insufficient_balance"


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


class UnknownPayment(NotFound):
    """The admin console's lookup of a payment id that does not exist."""

    code = "unknown_payment"


class PaymentNotRetryable(Conflict):
    code = "not_retryable"


class PaymentNotResolvable(Conflict):
    code = "not_resolvable"


class OrderNotFound(NotFound):
    code = "order_not_found"


class PaymentInProgress(Conflict):
    """Another request is authorizing this order right now and has not finished: retry to get its payment."""

    code = "payment_in_progress"


class OrderAlreadyPaid(Conflict):
    code = "order_already_paid"


class OrderNotPayable(Conflict):
    code = "order_not_payable"


class AmountMismatch(Unprocessable):
    code = "amount_mismatch"


class CurrencyMismatch(Unprocessable):
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


class Resolution(BaseModel):
    """How a person settled a payment that needed attention (``resolved``): their note, who, when."""

    model_config = ConfigDict(frozen=True)

    note: str
    by: str
    at: str


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
    # Its hold is a reservation on the user's holds item, under its order (``store.holds``): every payment
    # authorized since holds are single updates. Older ones were held by a version-checked transaction.
    reserved: bool = False
    resolution: Resolution | None = None

    def step(self, name: StepName) -> Step:
        return self.steps.get(name, Step())


class UserHolds(BaseModel):
    """This service's view of one Topomer user: the sum of open holds and the balance it expects."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    held: Decimal = Decimal(0)
    version: int = 0
    expected_balance: Decimal | None = None
    debits: int = 0  # holds ended by a debit at Topomer, counted (an authorization's reservation checks it)


class DriftRecord(BaseModel):
    """One reconciliation run's finding for one user: Topomer showed ``seen`` where ``expected`` was."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    user_id: str
    expected: Decimal | None
    seen: Decimal
    difference: Decimal
    at: str


class Authorization(BaseModel):
    """A payment's hold as an authorization left it, and what the customer may still spend."""

    model_config = ConfigDict(frozen=True)

    payment_id: str
    order_id: int
    status: PaymentStatus
    amount: Decimal
    available_after: Decimal
    currency: str | None = None
    created: bool = True  # False: the order's existing payment, given back


class CustomerBalance(BaseModel):
    """A Topomer user's balance as this service sees it: Topomer's figure and what open holds leave."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    email: str | None
    balance: Decimal
    available: Decimal
    expired: bool


# ------------------------------------------------------------------ the stores' optimistic checks
# Raised by the stores (a condition refused the write), handled by the services: not answers of the API.
class OrderHasPaymentRecord(Exception):
    """The order already has a payment: its id."""

    def __init__(self, payment_id: str) -> None:
        super().__init__("order already has a payment")
        self.payment_id = payment_id


class HoldRefused(Exception):
    """The balance cannot take this hold beside the others; ``current`` is the holds the refusal saw."""

    def __init__(self, current: UserHolds | None) -> None:
        super().__init__("the hold does not fit")
        self.current = current


class OrderReserved(Exception):
    """Another payment holds money for this order on the user's holds item: its id."""

    def __init__(self, payment_id: str) -> None:
        super().__init__("the order has another payment's reservation")
        self.payment_id = payment_id


class DebitsMoved(Exception):
    """A capture's debit ended a hold after the authorization read the balance: read both again."""

    def __init__(self, current: UserHolds | None) -> None:
        super().__init__("a debit finished since the balance was read")
        self.current = current


class DebitInFlight(Exception):
    """Another payment's debit of this user is recorded as started and not finished."""

    def __init__(self, payment_id: str) -> None:
        super().__init__("another debit is in flight")
        self.payment_id = payment_id


class StatusChanged(Exception):
    """The payment was not in the status the write expected."""
