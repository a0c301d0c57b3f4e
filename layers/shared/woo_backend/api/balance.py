"""The balance API's requests and answers: what ``functions/balance/app.py`` takes and returns.

The answers are built from the service's domain objects here, so the OpenAPI document shows their shapes;
amounts are exact strings with two decimals, and a payment's token never leaves the service.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from aws_lambda_powertools.event_handler import content_types
from aws_lambda_powertools.event_handler.openapi.params import Header, Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from woo_backend.api.amounts import DecimalString
from woo_backend.domain.balance import (
    CAPTURE_STEPS,
    Authorization,
    CustomerBalance,
    Payment,
    PaymentStatus,
    StepName,
    StepStatus,
)
from woo_backend.domain.money import money
from woo_backend.errors import Conflict, InvalidRequest, Unprocessable

Money = Annotated[str, Field(description="an exact amount with two decimals", examples=["12.50"])]


def _absent(value: object) -> bool:
    return value is None


def answered_with(model: type[BaseModel], description: str) -> OpenAPIResponse:
    """An OpenAPI success response answering ``model`` (for routes with more than one success status)."""
    return {"description": description, "content": {content_types.APPLICATION_JSON: {"model": model}}}


# ------------------------------------------------------------------ errors of the HTTP edge
class MissingIdempotencyKey(InvalidRequest):
    code = "missing_idempotency_key"


class IdempotencyKeyReused(Unprocessable):
    code = "idempotency_key_reused"


class RequestInProgress(Conflict):
    code = "request_in_progress"


# ------------------------------------------------------------------ requests
TopomerToken = Annotated[str | None, Header(alias="X-Topomer-Token", max_length=512)]
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$")
]
PaymentId = Annotated[str, Path(pattern=r"^pay_[0-9a-f]{24}$")]
# Topomer's ids: letters, digits, "_", "." and "-", from a letter or digit (never "." or "..": the id is a segment of
# Topomer's URL, percent-encoded by the client as well).
ShopperId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
ShopperToken = Annotated[str | None, Header(alias="X-Shopper-Token", max_length=512)]


class AuthorizeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: StrictStr = Field(min_length=1, max_length=512)
    order_id: StrictInt = Field(gt=0)
    amount: DecimalString = Field(
        description="the order's total exactly: a decimal string of ASCII digits with at most two decimals, e.g. "
        '"12.50"; no JSON number, sign, exponent or spaces'
    )
    currency: StrictStr | None = Field(
        default=None,
        pattern=r"^[A-Z]{3}$",
        description="ISO 4217; optional, and when sent it must be the one Topomer balances are in (BALANCE_CURRENCY)",
    )


class AuthorizeCommand(BaseModel):
    """What the idempotency layer keys and checks an authorization by (``[token, order_id, amount]``)."""

    idempotency_key: str
    token: str
    order_id: int
    amount: str


# ------------------------------------------------------------------ answers
class BalanceAnswer(BaseModel):
    user_id: str
    email: str | None
    balance: Money
    available: Money = Field(description="the balance less this service's open holds, never below zero")
    expired: bool

    @classmethod
    def of(cls, balance: CustomerBalance) -> BalanceAnswer:
        return cls(
            user_id=balance.user_id,
            email=balance.email,
            balance=money(balance.balance),
            available=money(balance.available),
            expired=balance.expired,
        )


class ShopperBalanceAnswer(BaseModel):
    shopper_id: str
    balance: Money

    @classmethod
    def of(cls, shopper_id: str, balance: Decimal) -> ShopperBalanceAnswer:
        return cls(shopper_id=shopper_id, balance=money(balance))


class AuthorizationAnswer(BaseModel):
    """201 for a new hold; 200 for the order's existing payment given back."""

    payment_id: str
    order_id: int
    status: PaymentStatus
    amount: Money
    available_after: Money
    currency: str | None = Field(default=None, description="null in answers recorded before currencies were")


class AuthorizationRecord(AuthorizationAnswer):
    """The answer as the idempotency layer stores it, with whether the hold was new (201) or not (200)."""

    created: bool = True

    @classmethod
    def of(cls, authorization: Authorization) -> AuthorizationRecord:
        return cls(
            payment_id=authorization.payment_id,
            order_id=authorization.order_id,
            status=authorization.status,
            amount=money(authorization.amount),
            available_after=money(authorization.available_after),
            currency=authorization.currency,
            created=authorization.created,
        )

    def answer(self) -> AuthorizationAnswer:
        return AuthorizationAnswer.model_validate(self.model_dump(exclude={"created"}))


def shown_steps(payment: Payment) -> tuple[StepName, ...]:
    """The steps a payment's views show: the capture steps in order, and hold_order when the order did not match."""
    return (*CAPTURE_STEPS, *([StepName.HOLD_ORDER] if StepName.HOLD_ORDER in payment.steps else []))


class StepAnswer(BaseModel):
    status: StepStatus
    attempts: int
    started_at: str | None = Field(default=None, exclude_if=_absent)
    done_at: str | None = Field(default=None, exclude_if=_absent)
    next_attempt_at: str | None = Field(default=None, exclude_if=_absent)
    last_error: str | None = Field(default=None, exclude_if=_absent)


class PaymentAnswer(BaseModel):
    """A payment as its payer sees it: no token, amounts as exact strings."""

    payment_id: str
    order_id: int
    user_id: str
    amount: Money
    currency: str | None = Field(default=None, exclude_if=lambda value: not value)
    status: PaymentStatus
    reason: str | None = Field(
        default=None,
        exclude_if=lambda value: not value,
        description="why the capture stopped for a person (<code>: <explanation>)",
    )
    created_at: str
    hold_expires_at: str
    captured_at: str | None
    steps: dict[StepName, StepAnswer] = Field(
        description="the capture steps in order, and hold_order when the order did not match the payment"
    )

    @classmethod
    def of(cls, payment: Payment) -> PaymentAnswer:
        return cls(
            payment_id=payment.payment_id,
            order_id=payment.order_id,
            user_id=payment.user_id,
            amount=money(payment.amount),
            currency=payment.currency,
            status=payment.status,
            reason=payment.reason,
            created_at=payment.created_at,
            hold_expires_at=payment.hold_expires_at,
            captured_at=payment.captured_at,
            steps={name: StepAnswer.model_validate(payment.step(name).model_dump()) for name in shown_steps(payment)},
        )
