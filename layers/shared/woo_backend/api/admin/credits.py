"""The admin API's credits routes: accounts by status, one account and its ledger, adjustments, and the credits
granted and consumed per day (``services.admin_credits``)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from woo_backend.api.admin import Cursor, Limit, admin_user, new_router
from woo_backend.api.credits import AccountAnswer, IdempotencyKey, OrderKey
from woo_backend.api.openapi import ADMIN, BODY, answered_with, errors, ok, security
from woo_backend.bootstrap import admin as bootstrap
from woo_backend.domain.credits import (
    COMPLETED,
    MAX_CREDITS,
    MAX_REASON,
    AdjustmentResult,
    CreditAccount,
    DayTotals,
    LedgerEntry,
    MoveType,
    parse_adjustment,
    parse_reason,
)
from woo_backend.observability import logger, mask_key

router = new_router()

# A WooCommerce order status: a slug (the shop's own statuses too).
Status = Annotated[str, Query(pattern=r"^[a-z0-9_-]{1,40}$", description="the order status; default completed")]
Days = Annotated[int, Query(ge=1, le=90, description="how many UTC days, today included")]


class AccountAdmin(AccountAnswer):
    """One order's credits as the admin sees them (the app backends' view and more).
    ``granted - consumed - revoked + adjusted == balance``."""

    revoked: int
    adjusted: int = Field(description="the signed sum of the admin's adjustments")
    granted_at: str | None
    closed_at: str | None = Field(description="when a refund or cancellation closed the account")

    @classmethod
    def of(cls, account: CreditAccount) -> AccountAdmin:
        return cls.model_validate(account)


class AccountList(BaseModel):
    """One page of accounts, most recently modified first; ``next_cursor`` is null on the last page."""

    items: list[AccountAdmin]
    next_cursor: str | None


class LedgerLine(BaseModel):
    """One ledger entry, as the admin sees it (with an adjustment's reason)."""

    model_config = ConfigDict(from_attributes=True)

    transaction_id: str
    type: MoveType
    amount: int = Field(description="signed: a grant is positive, a consume or revoke negative; an adjustment either")
    balance_after: int
    created_at: str
    idempotency_key: str | None
    reason: str | None = Field(description="an adjustment's reason; null for the other moves")


class OrderLedger(BaseModel):
    """An account and a page of its ledger, newest first; ``next_cursor`` fetches the next page."""

    account: AccountAdmin
    ledger: list[LedgerLine]
    next_cursor: str | None

    @classmethod
    def of(cls, account: CreditAccount, entries: list[LedgerEntry], next_cursor: str | None) -> OrderLedger:
        return cls(
            account=AccountAdmin.of(account),
            ledger=[LedgerLine.model_validate(entry) for entry in entries],
            next_cursor=next_cursor,
        )


class AdjustmentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: StrictInt = Field(
        description="a whole number of credits, never 0: +N adds, -N takes (never below zero)",
        json_schema_extra={"minimum": -MAX_CREDITS, "maximum": MAX_CREDITS, "not": {"const": 0}},
    )
    reason: StrictStr = Field(
        description="why, for the ledger and the audit trail (trimmed)",
        json_schema_extra={"minLength": 1, "maxLength": MAX_REASON},
    )


class AdjustmentAnswer(BaseModel):
    """What the adjustment moved and the balance after it (a replay with the same key: the first answer)."""

    model_config = ConfigDict(from_attributes=True)

    order_key: str
    transaction_id: str
    amount: int
    balance: int

    @classmethod
    def of(cls, result: AdjustmentResult) -> AdjustmentAnswer:
        return cls.model_validate(result)


class DayRow(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    day: str = Field(description="a UTC day, yyyy-mm-dd")
    granted: int = Field(description="grants and positive adjustments")
    consumed: int = Field(description="consumes and negative adjustments, as a positive count")
    revoked: int


class DailyCredits(BaseModel):
    """Credits moved per UTC day, oldest first, a row for every day."""

    days: list[DayRow]

    @classmethod
    def of(cls, totals: list[DayTotals]) -> DailyCredits:
        return cls(days=[DayRow.model_validate(day) for day in totals])


@router.get(
    "/admin/v1/credits/orders",
    security=security(ADMIN),
    responses={**ok("accounts whose order has this status, most recently modified first"), **errors(400, 401)},
)
def accounts(status: Status = COMPLETED, limit: Limit = 20, cursor: Cursor = None) -> AccountList:
    found, next_cursor = bootstrap.credits().accounts(status, limit, cursor)
    return AccountList(items=[AccountAdmin.of(a) for a in found], next_cursor=next_cursor)


@router.get(
    "/admin/v1/credits/daily",
    security=security(ADMIN),
    responses={**ok("credits granted, consumed and revoked per UTC day, oldest first"), **errors(400, 401)},
)
def daily(days: Days = 30) -> DailyCredits:
    return DailyCredits.of(bootstrap.credits().daily(days))


@router.get(
    "/admin/v1/credits/orders/<order_key>",
    security=security(ADMIN),
    responses={**ok("the account and a page of its ledger"), **errors(400, 401, (404, "unknown_order"))},
)
def order(order_key: OrderKey, limit: Limit = 20, cursor: Cursor = None) -> OrderLedger:
    logger.append_keys(order=mask_key(order_key))
    return OrderLedger.of(*bootstrap.credits().order(order_key, limit, cursor))


@router.post(
    "/admin/v1/credits/orders/<order_key>/adjustments",
    security=security(ADMIN),
    responses={
        201: answered_with(AdjustmentAnswer, "applied: one adjustment entry in the ledger"),
        **ok("a replay: the same Idempotency-Key and body as an adjustment applied before; its first answer"),
        **errors(
            *BODY,
            401,
            (400, "validation_error, invalid_amount (0, beyond the bound), missing_idempotency_key"),
            (404, "unknown_order"),
            (409, "insufficient_credits (never below zero), order_not_completed"),
            (422, "idempotency_key_reused: the key was used with another body (as a consume's)"),
            503,
        ),
    },
)
def adjust(
    order_key: OrderKey, request: AdjustmentRequest, idempotency_key: IdempotencyKey = None
) -> Response[AdjustmentAnswer]:
    logger.append_keys(order=mask_key(order_key))
    who = admin_user(router.current_event.headers)
    amount, reason = parse_adjustment(request.amount), parse_reason(request.reason)
    result, replayed = bootstrap.credits().adjust(order_key, amount, reason, idempotency_key, who)
    return Response(
        status_code=200 if replayed else 201,
        content_type=content_types.APPLICATION_JSON,
        body=AdjustmentAnswer.of(result),
    )
