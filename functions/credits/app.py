"""Credits function: the native credits API, the Dotix-compatible API and the order webhook."""

from __future__ import annotations

import functools
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from woo_backend.api import create_resolver, http_entrypoint
from woo_backend.api.bodies import request_body
from woo_backend.api.credits import (
    DOTIX_RESPONSES,
    AccountAnswer,
    ConsumeAnswer,
    ConsumeRequest,
    DotixBalance,
    DotixConsumed,
    DotixError,
    IdempotencyKey,
    OrderKey,
    TransactionsPage,
    dotix_error,
    dotix_num,
)
from woo_backend.api.openapi import (
    API_KEY,
    BODY,
    WEBHOOK_SIGNATURE,
    ErrorAnswer,
    answered_with,
    errors,
    ok,
    security,
)
from woo_backend.api.webhooks import IgnoredWebhook, WebhookAnswer
from woo_backend.api.webhooks import order_webhook as handle_order_webhook
from woo_backend.auth import require_api_key
from woo_backend.bootstrap import credits
from woo_backend.domain.credits import check_dotix_readable, parse_consume_amount
from woo_backend.domain.money import InvalidAmount
from woo_backend.observability import logger, mask_key

wired = credits.api()
service = wired.service

# Dotix's URL on a WordPress site is /wp-json/dotix/v1/...: served too, so an app changes only its host.
DOTIX_PREFIXES = ("/dotix/v1/", "/wp-json/dotix/v1/")
DOTIX_PATHS = tuple(f"{prefix}order/<order_key>" for prefix in DOTIX_PREFIXES)

app = create_resolver(
    error_shapes=[
        (prefix, functools.partial(dotix_error, error_status=wired.settings.dotix_error_status))
        for prefix in DOTIX_PREFIXES
    ],
    # The keys are read at each request (``settings.api_keys``): a rotated CREDITS_API_KEYS takes effect.
    guards=[
        (prefix, lambda headers: require_api_key(headers, allowed=wired.settings.api_keys))
        for prefix in ("/credits/v1/", *DOTIX_PREFIXES)
    ],
)
app.configure_openapi(title="woo-backend credits", version="1.0.0")
# By default (DOTIX_ERROR_STATUS=200) a Dotix refusal is a 200 too, as WordPress serves it.
DOTIX_WHY = DOTIX_RESPONSES[200]["description"]
# A request Powertools itself refuses (a header that fails validation, a path segment it cannot route) is answered
# in the native shape.
DOTIX_READ = {
    **DOTIX_RESPONSES,
    **errors(502, model=DotixError),
    **errors(
        (400, "lack_of_param (with DOTIX_ERROR_STATUS=4xx); a header that fails validation: the native shape"),
        (404, "wrong_hash (with DOTIX_ERROR_STATUS=4xx); a path segment no route takes: the native shape"),
        model=DotixError | ErrorAnswer,
    ),
    200: answered_with(DotixBalance | DotixError, DOTIX_WHY),
}
DOTIX_CONSUME = {
    **DOTIX_READ,
    **errors(
        (413, "body_too_large"),
        (415, "unsupported_content_type"),
        model=DotixError | ErrorAnswer,
    ),
    **errors((422, "idempotency_key_reused (with DOTIX_ERROR_STATUS=4xx)"), model=DotixError),
    200: answered_with(DotixConsumed | DotixError, DOTIX_WHY),
}


# ------------------------------------------------------------------ native API
@app.get(
    "/credits/v1/orders/<order_key>", security=security(API_KEY), responses={**ok(), **errors(400, 401, 404, 502, 503)}
)
def get_order(order_key: OrderKey) -> AccountAnswer:
    logger.append_keys(order=mask_key(order_key))
    return AccountAnswer.model_validate(service.account(order_key))


@app.post(
    "/credits/v1/orders/<order_key>/consume",
    security=security(API_KEY),
    responses={
        **ok("the credits consumed and the balance after"),
        **errors(
            *BODY,
            401,
            (404, "unknown_order"),
            (409, "order_not_completed, insufficient_credits, or a concurrent change"),
            (422, "idempotency_key_reused: this Idempotency-Key was spent on another amount"),
            502,
            503,
        ),
    },
)
def consume(order_key: OrderKey, request: ConsumeRequest, idempotency_key: IdempotencyKey = None) -> ConsumeAnswer:
    logger.append_keys(order=mask_key(order_key))
    return ConsumeAnswer.model_validate(
        service.consume(order_key, parse_consume_amount(request.amount), idempotency_key)
    )


@app.get(
    "/credits/v1/orders/<order_key>/transactions",
    security=security(API_KEY),
    responses={**ok(), **errors((400, "invalid limit or cursor"), 401, 404, 502, 503)},
)
def transactions(
    order_key: OrderKey,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> TransactionsPage:
    logger.append_keys(order=mask_key(order_key))
    return TransactionsPage.of(*service.transactions(order_key, limit, cursor))


# ------------------------------------------------------------------ Dotix-compatible API
@app.get(DOTIX_PATHS[0], security=security(API_KEY), responses=DOTIX_READ)
@app.get(DOTIX_PATHS[1], security=security(API_KEY), responses=DOTIX_READ)
def dotix_balance(order_key: OrderKey) -> DotixBalance:
    logger.append_keys(order=mask_key(order_key))
    return DotixBalance.of(check_dotix_readable(service.account(order_key)))


@app.post(DOTIX_PATHS[0], security=security(API_KEY), responses=DOTIX_CONSUME)
@app.post(DOTIX_PATHS[1], security=security(API_KEY), responses=DOTIX_CONSUME)
def dotix_consume(order_key: OrderKey, idempotency_key: IdempotencyKey = None) -> DotixConsumed:
    logger.append_keys(order=mask_key(order_key))
    num = dotix_num(request_body(app), app.current_event.query_string_parameters)
    if num is None or num == "":
        raise InvalidAmount("num is required")
    return DotixConsumed.of(service.consume(order_key, parse_consume_amount(num), idempotency_key))


# ------------------------------------------------------------------ webhook
@app.post(
    "/credits/webhooks/order",
    security=security(WEBHOOK_SIGNATURE),
    responses={
        **ok("applied, or ignored (a topic or order this function does not act on)"),
        **errors(*BODY, 401, 502, 503),
    },
)
def order_webhook() -> WebhookAnswer | IgnoredWebhook:
    return handle_order_webhook(app, wired.webhook, service.apply_order)


lambda_handler = http_entrypoint(app)
