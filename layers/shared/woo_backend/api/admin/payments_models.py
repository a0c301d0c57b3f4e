"""The admin API's payments answers and requests (``api.admin.payments``): a payment as the admin sees it (every
step, its reason and resolution; never the token), a retry's outcome, daily counts and drift records."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from woo_backend.api.balance import Money, shown_steps
from woo_backend.domain.balance import DriftRecord, Payment, PaymentStatus, StepName
from woo_backend.domain.money import money
from woo_backend.services.admin_payments import DayCounts, RetryResult


class ResolutionAdmin(BaseModel):
    note: str
    by: str = Field(description="the X-Admin-User who resolved it")
    at: str


class StepAdmin(BaseModel):
    status: str = Field(description="pending | running | retry | done")
    attempts: int
    started_at: str | None
    done_at: str | None
    next_attempt_at: str | None
    last_error: str | None


class PaymentAdmin(BaseModel):
    """A payment as the shop's admin sees it; its Topomer token is never shown."""

    payment_id: str
    order_id: int
    user_id: str
    amount: Money
    currency: str | None
    status: PaymentStatus
    created_at: str
    hold_expires_at: str
    captured_at: str | None
    closed_at: str | None
    reason: str | None = Field(description="why the capture stopped for a person (<code>: <explanation>)")
    steps: dict[StepName, StepAdmin] = Field(
        description="the capture steps in order (debit, expire_token, record_order), and hold_order when the order"
        " did not match the payment"
    )
    resolution: ResolutionAdmin | None = Field(description="how a person settled it (status resolved)")

    @classmethod
    def of(cls, payment: Payment) -> PaymentAdmin:
        return cls(
            payment_id=payment.payment_id,
            order_id=payment.order_id,
            user_id=payment.user_id,
            amount=money(payment.amount),
            currency=payment.currency,
            status=payment.status,
            created_at=payment.created_at,
            hold_expires_at=payment.hold_expires_at,
            captured_at=payment.captured_at,
            closed_at=payment.closed_at,
            reason=payment.reason,
            steps={
                name: StepAdmin.model_validate(payment.step(name).model_dump(mode="json"))
                for name in shown_steps(payment)
            },
            resolution=ResolutionAdmin.model_validate(payment.resolution.model_dump()) if payment.resolution else None,
        )


class PaymentPage(BaseModel):
    """One page of payments, newest first; ``next_cursor`` is null on the last page."""

    items: list[PaymentAdmin]
    next_cursor: str | None


class RetryAnswer(BaseModel):
    outcome: Literal["captured", "still_pending", "needs_attention", "nothing_to_do"] = Field(
        description="captured: done; still_pending: the sync goes on; needs_attention: a person must act (message);"
        " nothing_to_do: an authorized payment, captured when its order is paid"
    )
    message: str = Field(description="what happened and what to do, in plain words")
    payment: PaymentAdmin

    @classmethod
    def of(cls, result: RetryResult) -> RetryAnswer:
        return cls(outcome=result.outcome, message=result.message, payment=PaymentAdmin.of(result.payment))


class ResolveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: StrictStr = Field(min_length=1, max_length=500, description="how it was settled, for the audit trail")


class DayRow(BaseModel):
    day: str = Field(description="a UTC day, YYYY-MM-DD")
    counts: dict[PaymentStatus, int] = Field(description="payments created that day, by their status now")


class DailyAnswer(BaseModel):
    days: list[DayRow] = Field(description="oldest first, one row per day, zeros included")

    @classmethod
    def of(cls, rows: list[DayCounts]) -> DailyAnswer:
        return cls(days=[DayRow.model_validate({"day": row.day, "counts": row.counts}) for row in rows])


class DriftItem(BaseModel):
    run_id: str
    user_id: str
    expected: Money | None = Field(description="the balance this service expected; null when it expected none")
    seen: Money = Field(description="Topomer's balance as the run saw it")
    difference: Money = Field(description="seen - expected")
    at: str

    @classmethod
    def of(cls, record: DriftRecord) -> DriftItem:
        return cls(
            run_id=record.run_id,
            user_id=record.user_id,
            expected=money(record.expected) if record.expected is not None else None,
            seen=money(record.seen),
            difference=money(record.difference),
            at=record.at,
        )


class DriftPage(BaseModel):
    """One page of drift records, newest first."""

    items: list[DriftItem]
    next_cursor: str | None
