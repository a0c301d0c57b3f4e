"""Balance function: Topomer balance, payments (authorize, capture, void), the order webhook, shoppers."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Path
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from woo_backend.api import create_resolver, error_response, http_entrypoint, json_response
from woo_backend.aws import dynamodb_client
from woo_backend.domain.balance import (
    Authorization,
    MissingToken,
    PaymentStatus,
    check_capturable,
    check_currency,
    parse_amount,
)
from woo_backend.observability import logger
from woo_backend.services.balance import BalanceService
from woo_backend.settings import WebhookSettings, env
from woo_backend.webhook import order_webhook as handle_order_webhook

webhook_settings = WebhookSettings.from_env()
service = BalanceService.from_env()
idempotency_config = IdempotencyConfig(
    event_key_jmespath="idempotency_key",
    # The same key with another body is refused rather than answered with the first body's result.
    payload_validation_jmespath="[token, order_id, amount]",
    raise_on_no_idempotency_key=True,
    expires_after_seconds=24 * 3600,
)
idempotency_store = DynamoDBPersistenceLayer(table_name=env("IDEMPOTENCY_TABLE"), boto3_client=dynamodb_client())
app = create_resolver()

TopomerToken = Annotated[str | None, Header(alias="X-Topomer-Token", max_length=512)]
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$")
]
PaymentId = Annotated[str, Path(pattern=r"^pay_[0-9a-f]{24}$")]


class AuthorizeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: StrictStr = Field(min_length=1, max_length=512)
    order_id: StrictInt = Field(gt=0)
    amount: StrictStr | StrictInt = Field(
        description='the order\'s total exactly: a decimal string with at most two decimals, e.g. "12.50"'
    )
    currency: StrictStr | None = Field(
        default=None,
        pattern=r"^[A-Z]{3}$",
        description="ISO 4217; optional, and when sent it must be the one Topomer balances are in (BALANCE_CURRENCY)",
    )


class AuthorizeCommand(BaseModel):
    idempotency_key: str
    token: str
    order_id: int
    amount: str


def _token(token: str | None) -> str:
    if not token:
        raise MissingToken("send the customer's Topomer token in X-Topomer-Token")
    return token


@idempotent_function(  # type: ignore[untyped-decorator]  # Powertools leaves it untyped
    data_keyword_argument="command",
    persistence_store=idempotency_store,
    config=idempotency_config,
    output_serializer=PydanticSerializer(model=Authorization),
)
def authorize_once(command: AuthorizeCommand) -> Authorization:
    return service.authorize(command.token, command.order_id, parse_amount(command.amount))


# ------------------------------------------------------------------ routes
@app.get("/balance/v1/balance")
def balance(token: TopomerToken = None) -> Response[str]:
    return json_response(200, service.balance(_token(token)))


@app.post("/balance/v1/payments")
def authorize(request: AuthorizeRequest, idempotency_key: IdempotencyKey = None) -> Response[str]:
    if idempotency_key is None:
        return error_response(400, "missing_idempotency_key", "send an Idempotency-Key header with every payment")
    amount = str(parse_amount(request.amount))  # a bad amount is refused before any key is claimed
    # So is another currency: the one accepted is the configured one, so it takes no part in the key's payload.
    check_currency(request.currency, service.settings.currency)
    logger.append_keys(order_id=request.order_id)
    idempotency_config.register_lambda_context(app.lambda_context)
    command = AuthorizeCommand(
        idempotency_key=idempotency_key, token=request.token, order_id=request.order_id, amount=amount
    )
    try:
        result = authorize_once(command=command)
    except IdempotencyValidationError:
        return error_response(422, "idempotency_key_reused", "this Idempotency-Key was used with another request")
    except IdempotencyAlreadyInProgressError:
        return error_response(409, "request_in_progress", "a request with this Idempotency-Key is still running")
    return json_response(201 if result.created else 200, result.model_dump(mode="json", exclude={"created"}))


@app.get("/balance/v1/payments/<payment_id>")
def get_payment(payment_id: PaymentId, token: TopomerToken = None) -> Response[str]:
    return json_response(200, service.payment(payment_id, _token(token)).public())


@app.post("/balance/v1/payments/<payment_id>/capture")
def capture(payment_id: PaymentId, token: TopomerToken = None) -> Response[str]:
    payment = service.capture(payment_id, _token(token))
    if payment.status is PaymentStatus.NEEDS_ATTENTION:
        check_capturable(payment)  # 409 payment_needs_attention, with the reason
    return json_response(200 if payment.status is PaymentStatus.CAPTURED else 202, payment.public())


@app.post("/balance/v1/payments/<payment_id>/void")
def void(payment_id: PaymentId, token: TopomerToken = None) -> Response[str]:
    return json_response(200, service.void(payment_id, _token(token)).public())


@app.post("/balance/webhooks/order")
def order_webhook() -> Response[str]:
    return handle_order_webhook(app, webhook_settings, service.apply_order)


@app.get("/balance/v1/shoppers/<shopper_id>/balance")
def shopper_balance(
    shopper_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$")],
    shopper_token: Annotated[str | None, Header(alias="X-Shopper-Token", max_length=512)] = None,
) -> Response[str]:
    if not shopper_token:
        return error_response(401, "missing_shopper_token", "send the shopper's token in X-Shopper-Token")
    return json_response(200, service.shopper_balance(shopper_id, shopper_token))


lambda_handler = http_entrypoint(app)
