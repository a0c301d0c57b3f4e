"""The admin API's payments and drift routes (``services.admin_payments``): payments by status, one payment, daily
counts, retry / resolve / void, and the reconciliation's drift records.

``/admin/v1/payments/daily`` and ``/admin/v1/payments/{payment_id}`` do not collide: Powertools matches static
routes before dynamic ones (and "daily" is not a payment id's shape anyway).
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from woo_backend.api.admin import Cursor, Limit, admin_user, new_router
from woo_backend.api.admin.payments_models import (
    DailyAnswer,
    DriftItem,
    DriftPage,
    PaymentAdmin,
    PaymentPage,
    ResolveRequest,
    RetryAnswer,
)
from woo_backend.api.balance import PaymentId
from woo_backend.api.openapi import ADMIN, BODY, errors, ok, security
from woo_backend.bootstrap import admin as bootstrap
from woo_backend.domain.balance import PaymentStatus

router = new_router()
ADMIN_ONLY = security(ADMIN)

Status = Annotated[PaymentStatus, Query(description="the payments' status; default needs_attention")]
Days = Annotated[int, Query(ge=1, le=90, description="how many UTC days, today included")]
UNKNOWN = (404, "unknown_payment")
# A write may meet a capture of the same customer (503 busy) or an upstream down during a retry (the step records it).
BUSY = (503, "busy: a capture of this customer is running; retry in a minute")


def _who() -> str:
    return admin_user(router.current_event.headers)


@router.get(
    "/admin/v1/payments",
    security=ADMIN_ONLY,
    responses={**ok("payments in the status, newest first"), **errors((400, "invalid status, limit or cursor"), 401)},
)
def payments(status: Status = PaymentStatus.NEEDS_ATTENTION, limit: Limit = 20, cursor: Cursor = None) -> PaymentPage:
    items, next_cursor = bootstrap.payments().page(status, limit, cursor)
    return PaymentPage(items=[PaymentAdmin.of(p) for p in items], next_cursor=next_cursor)


@router.get(
    "/admin/v1/payments/daily",
    security=ADMIN_ONLY,
    responses={**ok("payments created per UTC day, by status; oldest first"), **errors((400, "invalid days"), 401)},
)
def payments_daily(days: Days = 30) -> DailyAnswer:
    return DailyAnswer.of(bootstrap.payments().daily(days))


@router.get(
    "/admin/v1/payments/<payment_id>",
    security=ADMIN_ONLY,
    responses={**ok("the payment"), **errors((400, "invalid payment id"), 401, UNKNOWN)},
)
def payment(payment_id: PaymentId) -> PaymentAdmin:
    return PaymentAdmin.of(bootstrap.payments().get(payment_id))


@router.post(
    "/admin/v1/payments/<payment_id>/retry",
    security=ADMIN_ONLY,
    responses={
        **ok("what the retry did: outcome, message and the payment"),
        **errors((400, "invalid payment id or X-Admin-User"), 401, UNKNOWN, (409, "not_retryable: it is closed"), BUSY),
    },
)
def retry(payment_id: PaymentId) -> RetryAnswer:
    return RetryAnswer.of(bootstrap.payments().retry(payment_id, _who()))


@router.post(
    "/admin/v1/payments/<payment_id>/resolve",
    security=ADMIN_ONLY,
    responses={
        **ok("the payment, resolved"),
        **errors(*BODY, 401, UNKNOWN, (409, "not_resolvable: only from needs_attention"), BUSY),
    },
)
def resolve(payment_id: PaymentId, request: ResolveRequest) -> PaymentAdmin:
    return PaymentAdmin.of(bootstrap.payments().resolve(payment_id, request.note, _who()))


@router.post(
    "/admin/v1/payments/<payment_id>/void",
    security=ADMIN_ONLY,
    responses={
        **ok("the payment, voided (an already voided or expired one as it is)"),
        **errors((400, "invalid payment id or X-Admin-User"), 401, UNKNOWN, (409, "payment_not_voidable"), BUSY),
    },
)
def void(payment_id: PaymentId) -> PaymentAdmin:
    return PaymentAdmin.of(bootstrap.payments().void(payment_id, _who()))


@router.get(
    "/admin/v1/drift",
    security=ADMIN_ONLY,
    responses={**ok("balances found off by the reconciliation, newest first"), **errors((400, "invalid_cursor"), 401)},
)
def drift(limit: Limit = 20, cursor: Cursor = None) -> DriftPage:
    items, next_cursor = bootstrap.payments().drift(limit, cursor)
    return DriftPage(items=[DriftItem.of(r) for r in items], next_cursor=next_cursor)
