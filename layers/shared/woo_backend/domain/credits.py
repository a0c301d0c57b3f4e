"""Store-credit rules: what an order grants, when, and what a consume may take. No AWS, no HTTP."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from woo_backend.domain.money import InvalidAmount, parse_count
from woo_backend.errors import Conflict, DomainError, ErrorKind, InvalidRequest, NotFound, ValidationFailed

# Gateways that set an order to "processing" before the money arrives (Dotix: Bank Wire, Cheque, COD).
UNPAID_GATEWAYS = frozenset({"bacs", "cheque", "cod"})
COMPLETED = "completed"
REVOKING_STATUSES = frozenset({"refunded", "cancelled"})
# Dotix shows the balance of a paid order only.
DOTIX_READABLE_STATUSES = frozenset({"processing", "completed"})
MAX_CREDITS = 1_000_000_000  # a consume above this is a client mistake, not a big purchase

ConsumeAmount = int | Literal["max"]


class UnknownOrder(NotFound):
    code = "unknown_order"


class OrderNotCompleted(Conflict):
    code = "order_not_completed"


class InsufficientCredits(Conflict):
    code = "insufficient_credits"


class IdempotencyKeyReused(DomainError):
    kind = ErrorKind.SEMANTIC
    code = "idempotency_key_reused"


class MissingIdempotencyKey(InvalidRequest):
    code = "missing_idempotency_key"


class OrderAction(StrEnum):
    GRANT = "grant"
    REVOKE = "revoke"
    TRACK = "track"


class CreditAccount(BaseModel):
    """The credits of one order: what was granted, consumed and revoked, and what is left."""

    model_config = ConfigDict(frozen=True)

    order_key: str
    order_id: int
    status: str
    granted: int = 0
    consumed: int = 0
    revoked: int = 0
    adjusted: int = 0  # the signed sum of admin adjustments: granted - consumed - revoked + adjusted == balance
    balance: int = 0
    version: int = 0  # the number of money moves: the sequence number of the latest ledger entry
    granted_at: str | None = None
    closed_at: str | None = None


MoveType = Literal["grant", "consume", "revoke", "adjustment"]
MAX_REASON = 200


class LedgerEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    transaction_id: str
    type: MoveType
    amount: int  # signed: grants positive, consumes and revokes negative
    balance_after: int
    created_at: str
    idempotency_key: str | None = None
    reason: str | None = None  # an adjustment's, as the admin gave it


class ConsumeResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    order_id: int
    consumed: int
    balance: int
    transaction_id: str


class AdjustmentResult(BaseModel):
    """What an admin adjustment moved and the balance after it."""

    model_config = ConfigDict(frozen=True)

    order_key: str
    transaction_id: str
    amount: int
    balance: int

    @classmethod
    def of(cls, order_key: str, result: ConsumeResult) -> AdjustmentResult:
        """From the move's result as the store answers every move (a consume's shape: ``consumed`` is minus
        the signed amount, so a positive adjustment "consumes" a negative number)."""
        return cls(
            order_key=order_key, transaction_id=result.transaction_id, amount=-result.consumed, balance=result.balance
        )


class ConsumeRefused(Exception):
    """The account's condition refused a move; ``current`` is the state at that moment (``None``: no such order).

    Raised by the store, decided by the service through ``plan_consume`` (the refusal's reason).
    """

    def __init__(self, current: CreditAccount | None) -> None:
        super().__init__("account condition refused the move")
        self.current = current


class Replayed(Exception):
    """The idempotency key was used before: the first request's fingerprint and result (``None`` if expired)."""

    def __init__(self, fingerprint: str, result: ConsumeResult | None) -> None:
        super().__init__("idempotency key replayed")
        self.fingerprint = fingerprint
        self.result = result


# ------------------------------------------------------------------ amounts
def parse_consume_amount(raw: object) -> ConsumeAmount:
    """A positive whole number of credits (a JSON integer or a string of ASCII digits) or exactly ``max``
    (Dotix's fixed string); anything else ("MAX", "max ", " 7") is refused."""
    if raw == "max":
        return "max"
    try:
        return parse_count(raw, field="amount", maximum=MAX_CREDITS)
    except InvalidAmount as exc:
        if exc.message.endswith("positive whole number"):  # not a number at all: the word is an answer too
            raise InvalidAmount(f'{exc.message} or "max"') from None
        raise


def request_fingerprint(amount: ConsumeAmount) -> str:
    """What an idempotency key is bound to: the normalised request."""
    return hashlib.sha256(json.dumps({"amount": amount}).encode()).hexdigest()


def plan_consume(account: CreditAccount | None, amount: ConsumeAmount) -> int:
    """How many credits a consume takes from ``account``, or the reason it cannot."""
    if account is None:
        raise UnknownOrder("no order has this key")
    if account.status != COMPLETED:
        raise OrderNotCompleted(f"the order is {account.status}; credits are usable once it is completed")
    wanted = account.balance if amount == "max" else amount
    if wanted > account.balance:
        raise InsufficientCredits(f"{wanted} credits asked, {account.balance} left")
    return wanted


# ------------------------------------------------------------------ admin adjustments
def parse_adjustment(amount: int) -> int:
    """A signed whole number of credits, never 0, at most ``MAX_CREDITS`` either way (the JSON type is checked
    by the request model)."""
    if amount == 0:
        raise InvalidAmount("amount must not be 0: +N adds credits, -N takes them")
    if abs(amount) > MAX_CREDITS:
        raise InvalidAmount(f"amount must be between -{MAX_CREDITS} and {MAX_CREDITS}")
    return amount


def parse_reason(raw: str) -> str:
    """Why the admin adjusts: 1 to ``MAX_REASON`` characters once trimmed, no control characters."""
    reason = raw.strip()
    if not 1 <= len(reason) <= MAX_REASON:
        raise ValidationFailed(f"reason: 1 to {MAX_REASON} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in reason):
        raise ValidationFailed("reason: no control characters")
    return reason


def adjustment_fingerprint(amount: int, reason: str) -> str:
    """What an adjustment's idempotency key is bound to (its type too: a consume's key is never an adjustment's)."""
    return hashlib.sha256(json.dumps({"type": "adjustment", "amount": amount, "reason": reason}).encode()).hexdigest()


def plan_adjustment(account: CreditAccount | None, amount: int) -> None:
    """The reason an adjustment of ``amount`` cannot apply to ``account``, if any: only a completed, open
    account is adjusted, and never below zero."""
    if account is None:
        raise UnknownOrder("no order has this key")
    if account.status != COMPLETED or account.closed_at is not None:
        raise OrderNotCompleted(f"the order is {account.status}; only a completed order's credits are adjusted")
    if amount < 0 and -amount > account.balance:
        raise InsufficientCredits(f"{-amount} credits to take, {account.balance} left: never below zero")


class DayTotals(BaseModel):
    """The credits moved on one UTC day, each a count of credits (never negative)."""

    model_config = ConfigDict(frozen=True)

    day: str
    granted: int = Field(0, description="grants and positive adjustments")
    consumed: int = Field(0, description="consumes and negative adjustments")
    revoked: int = 0


def day_totals(day: str, moves: Iterable[tuple[str, int]]) -> DayTotals:
    """Sum one day's ledger moves (type, signed amount) into what was granted, consumed and revoked."""
    granted = consumed = revoked = 0
    for move, amount in moves:
        if move == "grant" or (move == "adjustment" and amount > 0):
            granted += amount
        elif move == "revoke":
            revoked -= amount
        else:  # a consume, or an adjustment taking credits
            consumed -= amount
    return DayTotals(day=day, granted=granted, consumed=consumed, revoked=revoked)


def check_dotix_readable(account: CreditAccount) -> CreditAccount:
    """``account`` if the Dotix API may show it (a paid order), else the refusal Dotix gives (wrong_status)."""
    if account.status not in DOTIX_READABLE_STATUSES:
        raise OrderNotCompleted("not paid")
    return account


# ------------------------------------------------------------------ orders
def parse_credits_meta(value: Any) -> int:
    """The credits per unit carried by a product's meta: a whole, non-negative number; anything else is 0."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return 0


def credits_for_order(line_items: list[tuple[int, int]], credits_per_product: Mapping[int, int]) -> int:
    """Sum of credits x quantity over ``(product_id, quantity)`` pairs."""
    return sum(credits_per_product.get(product_id, 0) * max(quantity, 0) for product_id, quantity in line_items)


def is_credits_only(line_items: list[tuple[int, int]], credits_per_product: Mapping[int, int]) -> bool:
    return bool(line_items) and all(credits_per_product.get(product_id, 0) > 0 for product_id, _ in line_items)


def should_autocomplete(
    status: str, payment_method: str, line_items: list[tuple[int, int]], credits_per_product: Mapping[int, int]
) -> bool:
    """Dotix: a paid order of credits only goes straight to completed (processing means paid except for
    gateways that set processing before the money arrives)."""
    return (
        status == "processing"
        and payment_method not in UNPAID_GATEWAYS
        and is_credits_only(line_items, credits_per_product)
    )


def order_action(status: str) -> OrderAction:
    if status == COMPLETED:
        return OrderAction.GRANT
    if status in REVOKING_STATUSES:
        return OrderAction.REVOKE
    return OrderAction.TRACK


def ledger_sort_key(seq: int) -> str:
    """Ledger entries sort by the account's move number (zero-padded: string order is number order)."""
    return f"{seq:012d}"


def move_effect(move: MoveType, requested: int | None, before: int) -> tuple[int, int]:
    """A move's signed ledger amount and the balance after it, from the balance before it.

    ``requested`` is the credits asked (``None``: a consume of ``max``, or a revoke: all that is left; for a
    grant, the credits granted; for an adjustment, its signed amount, which the store's condition kept from
    taking the balance below zero). The store derives every ledger entry through this one rule.
    """
    if move == "grant":
        granted = requested or 0
        return granted, before + granted
    if move == "adjustment":
        if requested is None or requested == 0 or before + requested < 0:
            raise ValueError(f"an adjustment of {requested} cannot apply to a balance of {before}")
        return requested, before + requested
    taken = before if requested is None else requested
    return -taken, before - taken
