"""Credits function: the native credits API, the Dotix-compatible API and the order webhook."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from pydantic import BaseModel, StrictInt, StrictStr

from woo_backend.api import create_resolver, http_entrypoint, json_response, raw_body, status_of
from woo_backend.auth import require_api_key
from woo_backend.domain.credits import CreditAccount, InvalidAmount, OrderNotCompleted, parse_amount
from woo_backend.errors import DomainError
from woo_backend.observability import logger, mask_key
from woo_backend.services.credits import CreditsService
from woo_backend.settings import CreditsSettings, WebhookSettings, WooCommerceSettings
from woo_backend.store.credits import CreditsStore
from woo_backend.webhook import order_webhook as handle_order_webhook
from woo_backend.woocommerce import WooCommerceClient

settings = CreditsSettings.from_env()
webhook_settings = WebhookSettings.from_env()
service = CreditsService(
    CreditsStore(settings.table),
    WooCommerceClient(WooCommerceSettings.from_env()),
    meta_key=settings.meta_key,
)

# ------------------------------------------------------------------ Dotix-compatible errors
# Dotix answers {"_res": "err", "_msg": tag}; the one table from our error codes to its tags (any other code is
# its own tag). The status is the error kind's, as on the native API; DOTIX_ERROR_STATUS=4xx keeps it. By
# default (200) a refusal is answered with 200 as WordPress does: Dotix's REST callback returns an array, which
# WordPress serves as 200 whatever it holds. A refused API key stays 401 (WordPress answers a refused permission
# check with 401) and an upstream failure or a busy order stays 5xx (retry later).
DOTIX_TAGS = {
    "unknown_order": "wrong_hash",
    "order_not_completed": "wrong_status",
    "invalid_amount": "lack_of_param",
    "insufficient_credits": "lack_of_bal",
}
DOTIX_PREFIXES = ("/dotix/v1/", "/wp-json/dotix/v1/")


def dotix_error(exc: DomainError) -> tuple[int, dict[str, Any]]:
    status = status_of(exc)
    if settings.dotix_error_status == "200" and 400 <= status < 500 and status != 401:
        status = 200
    return status, {"_res": "err", "_msg": DOTIX_TAGS.get(exc.code, exc.code)}


def _api_key(headers: Mapping[str, str]) -> None:
    require_api_key(headers, settings.api_keys)


app = create_resolver(
    error_shapes=[(prefix, dotix_error) for prefix in DOTIX_PREFIXES],
    guards=[(prefix, _api_key) for prefix in ("/credits/v1/", *DOTIX_PREFIXES)],
)

IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$")
]


class ConsumeRequest(BaseModel):
    amount: StrictInt | StrictStr


ACCOUNT_FIELDS = {"order_key", "order_id", "status", "granted", "consumed", "balance"}


def _account_body(account: CreditAccount) -> dict[str, Any]:
    return account.model_dump(include=ACCOUNT_FIELDS)


# ------------------------------------------------------------------ native API
@app.get("/credits/v1/orders/<order_key>")
def get_order(order_key: str) -> Response[str]:
    logger.append_keys(order=mask_key(order_key))
    return json_response(200, _account_body(service.account(order_key)))


@app.post("/credits/v1/orders/<order_key>/consume")
def consume(order_key: str, request: ConsumeRequest, idempotency_key: IdempotencyKey = None) -> Response[str]:
    logger.append_keys(order=mask_key(order_key))
    amount = parse_amount(request.amount[0] if isinstance(request.amount, list) else request.amount)
    result = service.consume(order_key, amount, idempotency_key)
    return json_response(200, result.model_dump())


@app.get("/credits/v1/orders/<order_key>/transactions")
def transactions(
    order_key: str,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response[str]:
    logger.append_keys(order=mask_key(order_key))
    entries, next_cursor = service.transactions(order_key, limit, cursor)
    items = [
        {
            "transaction_id": e.transaction_id,
            "type": e.type,
            "amount": e.amount,
            "balance_after": e.balance_after,
            "time": e.created_at,
            "idempotency_key": e.idempotency_key,
        }
        for e in entries
    ]
    return json_response(200, {"items": items, "next_cursor": next_cursor})


# ------------------------------------------------------------------ Dotix-compatible API
DOTIX_READABLE_STATUSES = frozenset({"processing", "completed"})
# Dotix's URL on a WordPress site is /wp-json/dotix/v1/...: served too, so an app changes only its host.
DOTIX_PATHS = ("/dotix/v1/order/<order_key>", "/wp-json/dotix/v1/order/<order_key>")


def _dotix_num() -> Any:
    """``num`` from a form or JSON body, as Dotix's ``$_POST['num']`` (or the query string)."""
    content_type = app.current_event.headers.get("content-type", "")
    body = raw_body(app)
    if "application/json" in content_type:
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            data = {}
        return data.get("num") if isinstance(data, dict) else None
    if body:
        try:
            values = parse_qs(body.decode(), keep_blank_values=True)
        except UnicodeDecodeError:
            values = {}
        if values.get("num"):
            return values["num"][0]
    return (app.current_event.query_string_parameters or {}).get("num")


@app.get(DOTIX_PATHS[0])
@app.get(DOTIX_PATHS[1])
def dotix_balance(order_key: str) -> Response[str]:
    logger.append_keys(order=mask_key(order_key))
    account = service.account(order_key)
    if account.status not in DOTIX_READABLE_STATUSES:
        raise OrderNotCompleted("not paid")
    body = {"_res": "ok", "order_id": account.order_id, "status": account.status, "balance": str(account.balance)}
    return json_response(200, body)


@app.post(DOTIX_PATHS[0])
@app.post(DOTIX_PATHS[1])
def dotix_consume(order_key: str, idempotency_key: IdempotencyKey = None) -> Response[str]:
    logger.append_keys(order=mask_key(order_key))
    num = _dotix_num()
    if num is None or num == "":
        raise InvalidAmount("num is required")
    result = service.consume(order_key, parse_amount(num), idempotency_key)
    body = {"_res": "ok", "order_id": result.order_id, "consumed": str(result.consumed), "balance": str(result.balance)}
    return json_response(200, body)


# ------------------------------------------------------------------ webhook
@app.post("/credits/webhooks/order")
def order_webhook() -> Response[str]:
    return handle_order_webhook(app, webhook_settings, service.apply_order)


lambda_handler = http_entrypoint(app)
