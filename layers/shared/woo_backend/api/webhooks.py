"""The WooCommerce order webhook route, shared by every function that reacts to orders: its answers and the
route body."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from pydantic import BaseModel, ValidationError

from woo_backend.api.bodies import raw_body
from woo_backend.errors import InvalidRequest, Unauthorized
from woo_backend.observability import logger
from woo_backend.services.webhooks import WEBHOOK_TOPICS
from woo_backend.settings import WebhookSettings
from woo_backend.webhook_signature import is_webhook_ping, verify_webhook_signature
from woo_backend.woocommerce import Order


class InvalidWebhookSignature(Unauthorized):
    code = "invalid_signature"


class InvalidWebhookPayload(InvalidRequest):
    code = "invalid_payload"


class WebhookAnswer(BaseModel):
    """What became of the delivery: ``pong`` for WooCommerce's ping, else what the order changed (e.g.
    ``granted``, ``captured``, ``unchanged``)."""

    result: str


class IgnoredWebhook(BaseModel):
    """A topic this route does not handle, acknowledged so that WooCommerce keeps the webhook on."""

    result: Literal["ignored"] = "ignored"
    topic: str


def order_webhook(
    app: APIGatewayHttpResolver, settings: WebhookSettings, apply: Callable[[Order], str]
) -> WebhookAnswer | IgnoredWebhook:
    """Answer WooCommerce's ping, verify the signature over the raw body, then ``apply`` the order.

    Anything that is not a signed order changes nothing: 401 for a bad signature, 400 for a body that
    is not an order, 200 ``ignored`` for other topics (WooCommerce disables a webhook after repeated
    failures, so a topic we do not handle is acknowledged).
    """
    body = raw_body(app)
    headers = app.current_event.headers
    if is_webhook_ping(headers, body):
        return WebhookAnswer(result="pong")
    if not verify_webhook_signature(body, headers.get("x-wc-webhook-signature"), settings.secret.get_secret_value()):
        raise InvalidWebhookSignature("X-WC-Webhook-Signature does not match the body")
    topic = headers.get("x-wc-webhook-topic", "")
    if topic and topic not in WEBHOOK_TOPICS:
        return IgnoredWebhook(topic=topic)
    try:
        order = Order.model_validate_json(body)
    except ValidationError:
        raise InvalidWebhookPayload("the body is not a WooCommerce order") from None
    logger.append_keys(order_id=order.id)
    return WebhookAnswer(result=apply(order))
