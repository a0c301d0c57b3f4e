"""The WooCommerce order webhook route body, shared by every function that reacts to orders."""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from pydantic import ValidationError

from woo_backend.api import error_response, json_response, raw_body
from woo_backend.observability import logger
from woo_backend.settings import WebhookSettings
from woo_backend.webhook_signature import is_webhook_ping, verify_webhook_signature
from woo_backend.woocommerce import Order

ORDER_TOPICS = ("order.created", "order.updated")


def order_webhook(
    app: APIGatewayHttpResolver, settings: WebhookSettings, apply: Callable[[Order], str]
) -> Response[str]:
    """Answer WooCommerce's ping, verify the signature over the raw body, then ``apply`` the order.

    Anything that is not a signed order changes nothing: 401 for a bad signature, 400 for a body that
    is not an order, 200 ``ignored`` for other topics (WooCommerce disables a webhook after repeated
    failures, so a topic we do not handle is acknowledged).
    """
    body = raw_body(app)
    headers = app.current_event.headers
    if is_webhook_ping(headers, body):
        return json_response(200, {"result": "pong"})
    if not verify_webhook_signature(body, headers.get("x-wc-webhook-signature"), settings.secret.get_secret_value()):
        return error_response(401, "invalid_signature", "X-WC-Webhook-Signature does not match the body")
    topic = headers.get("x-wc-webhook-topic", "")
    if topic and topic not in ORDER_TOPICS:
        return json_response(200, {"result": "ignored", "topic": topic})
    try:
        order = Order.model_validate_json(body)
    except ValidationError:
        return error_response(400, "invalid_payload", "the body is not a WooCommerce order")
    logger.append_keys(order_id=order.id)
    return json_response(200, {"result": apply(order)})
