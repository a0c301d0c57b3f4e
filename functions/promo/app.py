"""Promo function: price intervals, automatic codes by cart total, and the admin's codes."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query

from woo_backend.api import create_resolver, http_entrypoint
from woo_backend.api.admin import admin_user
from woo_backend.api.openapi import ADMIN, BODY, answered_with, errors, ok, security
from woo_backend.api.promo import (
    AutoQuoteRequest,
    CodeCreateRequest,
    CodeList,
    CodePatchRequest,
    CodePath,
    CodeView,
    EligibleQuote,
    IntervalsAnswer,
    QuoteAnswer,
    quote_answer,
)
from woo_backend.auth import require_bearer
from woo_backend.bootstrap import promo as bootstrap
from woo_backend.clock import utcnow
from woo_backend.domain.promo import parse_total
from woo_backend.observability import logger

promo = bootstrap.api()
app = create_resolver(guards=[("/promo/v1/codes", lambda headers: require_bearer(headers, promo.admin.api_key))])
app.configure_openapi(title="woo-backend promo", version="1.0.0")
ADMIN_ONLY = security(ADMIN)
# WooCommerce and Topomer follow the record: either may refuse (502) or be down (503).
UPSTREAM = (502, 503)


# ------------------------------------------------------------------ intervals and automatic codes
@app.get("/promo/v1/intervals", responses={**ok("the intervals, or the last good copy (stale)"), **errors(*UPSTREAM)})
def intervals() -> IntervalsAnswer:
    return IntervalsAnswer.of(*promo.quotes.intervals())


@app.post(
    "/promo/v1/auto",
    responses={
        200: {"description": "The cart's code, or not eligible"},
        201: answered_with(EligibleQuote, "A code drawn now"),
        **errors(*BODY, *UPSTREAM),
    },
)
def auto_quote(request: AutoQuoteRequest) -> Response[QuoteAnswer]:
    total = parse_total(request.cart_total)
    quote = promo.quotes.quote(request.cart_id, total, str(request.email) if request.email else None)
    return Response(
        status_code=201 if quote.created else 200,
        content_type=content_types.APPLICATION_JSON,
        body=quote_answer(quote),
    )


# ------------------------------------------------------------------ admin codes
def acting_admin() -> str:
    """Who is acting (``X-Admin-User``), checked before the change: a bad header changes nothing (400)."""
    return admin_user(app.current_event.headers)


def audited(who: str, action: str, before: CodeView | None, after: CodeView) -> CodeView:
    """Record the change in the admin's audit trail; best effort: the change is made, and a failure to record it
    (logged) must not tell the admin it failed (a retried create would be a 409)."""
    try:
        promo.audit.record(
            who,
            action,
            after.code,
            utcnow(),
            before=before.model_dump(mode="json") if before else None,
            after=after.model_dump(mode="json"),
        )
    except Exception:  # DynamoDB or a permission: the write stands
        logger.warning(
            "could not record the audit entry", extra={"action": action, "target": after.code}, exc_info=True
        )
    return after


@app.post(
    "/promo/v1/codes",
    security=ADMIN_ONLY,
    responses={**ok("The new code", 201), **errors(*BODY, 401, (409, "duplicate_code"), *UPSTREAM)},
)
def create_code(request: CodeCreateRequest) -> Response[CodeView]:
    who = acting_admin()
    code = promo.codes.create(
        request.code,
        request.percentage,
        promo_type=request.type,
        active=request.active,
        expires_at=request.expires_at,
        usage_limit=request.usage_limit,
    )
    view = audited(who, "promo.create", None, CodeView.of(code))
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=view)


@app.get(
    "/promo/v1/codes", security=ADMIN_ONLY, responses={**ok(), **errors((400, "invalid limit, cursor or filter"), 401)}
)
def list_codes(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    promo_type: Annotated[Literal["manual", "auto"] | None, Query(alias="type")] = None,
    active: Annotated[bool | None, Query()] = None,
) -> CodeList:
    return CodeList.of(*promo.codes.list(limit, cursor, promo_type, active))


@app.get("/promo/v1/codes/<code>", security=ADMIN_ONLY, responses={**ok(), **errors(400, 401, (404, "unknown_code"))})
def get_code(code: CodePath) -> CodeView:
    return CodeView.of(promo.codes.get(code))


@app.patch(
    "/promo/v1/codes/<code>",
    security=ADMIN_ONLY,
    responses={**ok(), **errors(*BODY, 401, (404, "unknown_code"), 409, *UPSTREAM)},
)
def patch_code(code: CodePath, request: CodePatchRequest) -> CodeView:
    who = acting_admin()
    before = CodeView.of(promo.codes.get(code))
    changed = promo.codes.update(
        code,
        percentage=request.percentage,
        active=request.active,
        expires_at=request.expires_at,
        usage_limit=request.usage_limit,
    )
    return audited(who, "promo.update", before, CodeView.of(changed))


@app.delete(
    "/promo/v1/codes/<code>",
    security=ADMIN_ONLY,
    responses={**ok("deactivated"), **errors(400, 401, (404, "unknown_code"), 409, *UPSTREAM)},
)
def delete_code(code: CodePath) -> CodeView:
    """Deactivates: the record stays (and the coupon is drafted and expired in WooCommerce)."""
    who = acting_admin()
    before = CodeView.of(promo.codes.get(code))
    return audited(who, "promo.deactivate", before, CodeView.of(promo.codes.deactivate(code)))


lambda_handler = http_entrypoint(app)
