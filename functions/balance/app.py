"""Balance function: Topomer balance, payments (authorize, capture, void), the order webhook, shoppers."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.utilities.idempotency import idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer

from woo_backend.api import create_resolver, http_entrypoint
from woo_backend.api.balance import (
    AuthorizationAnswer,
    AuthorizationRecord,
    AuthorizeCommand,
    AuthorizeRequest,
    BalanceAnswer,
    IdempotencyKey,
    IdempotencyKeyReused,
    MissingIdempotencyKey,
    PaymentAnswer,
    PaymentId,
    RequestInProgress,
    ShopperBalanceAnswer,
    ShopperId,
    ShopperToken,
    TopomerToken,
    answered_with,
)
from woo_backend.api.openapi import (
    BODY,
    SHOPPER_TOKEN,
    TOPOMER_TOKEN,
    WEBHOOK_SIGNATURE,
    errors,
    ok,
    security,
)
from woo_backend.api.webhooks import IgnoredWebhook, WebhookAnswer
from woo_backend.api.webhooks import order_webhook as handle_order_webhook
from woo_backend.bootstrap.balance import api as balance_api
from woo_backend.domain.balance import MissingShopperToken, MissingToken, PaymentStatus
from woo_backend.domain.balance_rules import check_capturable, check_currency, parse_payment_amount
from woo_backend.observability import logger

wired = balance_api()
service = wired.service
app = create_resolver()
app.configure_openapi(title="woo-backend balance", version="1.0.0")
# Reading the token at Topomer: refused (401), expired (410), Topomer down (503) or answering nonsense (502).
TOKEN_ERRORS = (401, 410, 502, 503)


def _token(token: str | None) -> str:
    if not token:
        raise MissingToken("send the customer's Topomer token in X-Topomer-Token")
    return token


# The idempotency records' keys name this function's module and name: moving or renaming it orphans them.
@idempotent_function(  # type: ignore[untyped-decorator]  # Powertools leaves it untyped
    data_keyword_argument="command",
    persistence_store=wired.idempotency,
    config=wired.idempotency_config,
    output_serializer=PydanticSerializer(model=AuthorizationRecord),
)
def authorize_once(command: AuthorizeCommand) -> AuthorizationRecord:
    authorization = service.authorize(command.token, command.order_id, parse_payment_amount(command.amount))
    return AuthorizationRecord.of(authorization)


# ------------------------------------------------------------------ routes
@app.get("/balance/v1/balance", security=security(TOPOMER_TOKEN), responses={**ok(), **errors(*TOKEN_ERRORS)})
def balance(token: TopomerToken = None) -> BalanceAnswer:
    return BalanceAnswer.of(service.balance(_token(token)))


@app.post(
    "/balance/v1/payments",
    responses={
        201: answered_with(AuthorizationAnswer, "a new hold"),
        200: answered_with(AuthorizationAnswer, "the order's existing payment, given back"),
        **errors(
            *BODY,
            402,
            (404, "order_not_found"),
            (409, "order_already_paid, order_not_payable, order_has_payment, payment_in_progress, request_in_progress"),
            (422, "amount_mismatch, currency_mismatch, idempotency_key_reused"),
            *TOKEN_ERRORS,
        ),
    },
    security=security(TOPOMER_TOKEN),
)
def authorize(request: AuthorizeRequest, idempotency_key: IdempotencyKey = None) -> Response[AuthorizationAnswer]:
    if idempotency_key is None:
        raise MissingIdempotencyKey("send an Idempotency-Key header with every payment")
    amount = str(parse_payment_amount(request.amount))  # a bad amount is refused before any key is claimed
    # So is another currency: the one accepted is the configured one, so it takes no part in the key's payload.
    check_currency(request.currency, wired.settings.currency)
    logger.append_keys(order_id=request.order_id)
    wired.idempotency_config.register_lambda_context(app.lambda_context)
    command = AuthorizeCommand(
        idempotency_key=idempotency_key, token=request.token, order_id=request.order_id, amount=amount
    )
    try:
        record: AuthorizationRecord = authorize_once(command=command)
    except IdempotencyValidationError:
        raise IdempotencyKeyReused("this Idempotency-Key was used with another request") from None
    except IdempotencyAlreadyInProgressError:
        raise RequestInProgress("a request with this Idempotency-Key is still running") from None
    status = 201 if record.created else 200
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=record.answer())


@app.get(
    "/balance/v1/payments/<payment_id>",
    security=security(TOPOMER_TOKEN),
    responses={**ok(), **errors(400, (404, "payment_not_found (or another customer's)"), *TOKEN_ERRORS)},
)
def get_payment(payment_id: PaymentId, token: TopomerToken = None) -> PaymentAnswer:
    return PaymentAnswer.of(service.payment(payment_id, _token(token)))


@app.post(
    "/balance/v1/payments/<payment_id>/capture",
    responses={
        200: answered_with(PaymentAnswer, "captured"),
        202: answered_with(PaymentAnswer, "under way: the sync finishes it"),
        **errors(
            400,
            (404, "payment_not_found"),
            (409, "payment_not_capturable, payment_needs_attention (the message gives the reason)"),
            *TOKEN_ERRORS,
        ),
    },
    security=security(TOPOMER_TOKEN),
)
def capture(payment_id: PaymentId, token: TopomerToken = None) -> Response[PaymentAnswer]:
    payment = service.capture(payment_id, _token(token))
    if payment.status is PaymentStatus.NEEDS_ATTENTION:
        check_capturable(payment)  # 409 payment_needs_attention, with the reason
    status = 200 if payment.status is PaymentStatus.CAPTURED else 202
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=PaymentAnswer.of(payment))


@app.post(
    "/balance/v1/payments/<payment_id>/void",
    security=security(TOPOMER_TOKEN),
    responses={**ok(), **errors(400, (404, "payment_not_found"), (409, "payment_not_voidable"), *TOKEN_ERRORS)},
)
def void(payment_id: PaymentId, token: TopomerToken = None) -> PaymentAnswer:
    return PaymentAnswer.of(service.void(payment_id, _token(token)))


@app.post(
    "/balance/webhooks/order",
    security=security(WEBHOOK_SIGNATURE),
    responses={
        **ok("applied, or ignored (a topic or order this function does not act on)"),
        **errors(*BODY, 401, 502, 503),
    },
)
def order_webhook() -> WebhookAnswer | IgnoredWebhook:
    return handle_order_webhook(app, wired.webhook, wired.order_events.apply)


@app.get(
    "/balance/v1/shoppers/<shopper_id>/balance",
    security=security(SHOPPER_TOKEN),
    responses={
        **ok(),
        **errors(
            400,
            (401, "missing_shopper_token, invalid_shopper_token"),
            (404, "route_not_found: a shopper id no route takes"),
            502,
            503,
        ),
    },
)
def shopper_balance(shopper_id: ShopperId, shopper_token: ShopperToken = None) -> ShopperBalanceAnswer:
    if not shopper_token:
        raise MissingShopperToken("send the shopper's token in X-Shopper-Token")
    return ShopperBalanceAnswer.of(shopper_id, service.shopper_balance(shopper_id, shopper_token))


lambda_handler = http_entrypoint(app)
