"""Account actions: WooCommerce round trips per action (reads fetch a page in one request, never page
by page), through the real handler in process against the WooCommerce simulator over HTTP; and the warm
latency of ``get_orders`` as a ratio to one bare ``GET /orders`` on the simulator in the same run."""

from __future__ import annotations

import os
from datetime import date, timedelta
from typing import Any

import boto3
import httpx

from bench.events import http_event
from bench.run import Row, ratio
from bench.support import AllRoundTrips, embedded_dynamodb, load_handler, median_ms
from local.simulators.woocommerce import CONSUMER_KEY, CONSUMER_SECRET, PREFIX, WooCommerceSimulator

LATENCY_RUNS = 100
SECRET = "bench-account-secret"
NOTES = {
    "get_orders": "a page of orders + the customer's subscriptions, one request each",
    "get_orders (single)": "the order (ownership) + its subscriptions",
    "get_subscription_delivery": "subscription + shipping zones, each zone's locations and methods (cached 5 minutes)",
    "set_subscription_delivery": "subscription (ownership) + update (its answer confirms); zones from the cache",
    "set_subscription_status": "subscription + update sent once (its answer confirms the status); "
    "an on-hold cancel reads its orders first, a refusal the subscription and its notes after",
    "set_next_delivery_date": "subscription + update + read back (the date must be there)",
    "set_order_info": "order (ownership) + update + its subscriptions for the answer",
    "set_new_interval": "subscription + its products (allowed intervals) + update",
    "send_mail": "customer's address for the merchant; the hourly quota in DynamoDB; SES besides",
}


def rows() -> list[Row]:
    woo_sim = WooCommerceSimulator(local_mode=True)  # Basic auth over plain HTTP, on this machine only
    server = woo_sim.serve()
    try:
        with embedded_dynamodb() as endpoint:
            os.environ.update(
                {
                    "WOOCOMMERCE_URL": f"http://127.0.0.1:{server.server_port}",
                    "AWS_ENDPOINT_URL_SES": endpoint,
                    "ACCOUNT_SIGNING_SECRET": SECRET,
                    "MERCHANT_EMAIL": "shop-admin@example.com",
                    "MAIL_SENDER": "no-reply@example.com",
                    "MAIL_RATE_LIMIT_PER_HOUR": "1000000",
                }
            )
            boto3.client("ses", endpoint_url=endpoint).verify_email_identity(EmailAddress="no-reply@example.com")
            return _measure(os.environ["WOOCOMMERCE_URL"])
    finally:
        server.shutdown()


def _measure(woo_url: str) -> list[Row]:
    from woo_backend.auth import mint_account_credentials
    from woo_backend.aws import dynamodb_client

    module, context = load_handler("AccountFunction")
    trips = AllRoundTrips(dynamodb_client(), WooCommerce=module.service.shop)

    def call(action: str, **params: Any) -> dict[str, Any]:
        body = {**mint_account_credentials(1, 1, SECRET), "action": action, **params}
        answer: dict[str, Any] = module.lambda_handler(
            http_event("POST", "/account/v1", "/account/v1", {}, body), context
        )
        assert answer["statusCode"] == 200, answer
        return answer

    day = (date.today() + timedelta(days=10)).isoformat()
    plan: list[tuple[str, dict[str, Any]]] = [
        ("get_orders", {}),
        ("get_orders", {"single": 45}),
        ("get_subscriptions", {}),
        ("get_user_info", {}),
        ("get_exchange_products", {"subscription_id": 501}),
        ("get_exchange_intervals", {"subscription_id": 501}),
        ("get_subscription_delivery", {"subscription_id": 501}),
        ("set_user_info", {"meta": {"nickname": "al"}}),
        ("set_subscription_status", {"subscription_id": 501, "new_status": "on-hold"}),
        ("set_next_delivery_date", {"subscription_id": 501, "new_date": day}),
        ("set_new_interval", {"subscription_id": 501, "new_interval": "2_month"}),
        ("set_order_info", {"order_id": 45, "info": {"gift": "yes"}}),
        ("set_subscription_info", {"subscription_id": 501, "info": {"door": "12"}}),
        ("set_subscription_delivery", {"subscription_id": 501, "method_id": "local_pickup"}),
        ("send_mail", {"from": "a@example.com", "topic": "t", "content": "c"}),
        ("describe", {}),
    ]
    rows = []
    for action, params in plan:
        counted = trips.of(lambda: call(action, **params))  # noqa: B023 - called at once, in this iteration
        label = action + (" (single)" if "single" in params else "")
        rows.append(Row(f"account: round trips per {label}", counted, note=NOTES.get(label, "")))

    handler_ms = median_ms(lambda: call("get_orders"), LATENCY_RUNS)
    with httpx.Client(auth=(CONSUMER_KEY, CONSUMER_SECRET)) as bare:
        bare_ms = median_ms(lambda: bare.get(f"{woo_url}{PREFIX}/orders", params={"customer": 1}), LATENCY_RUNS)
    bare_label = f"{bare_ms:.2f} ms"
    rows += [
        Row(
            "account: bare GET /orders on the simulator (baseline)",
            bare_label,
            "",
            "1.00x",
            f"median of {LATENCY_RUNS}",
        ),
        Row(
            "account: get_orders, handler in process (warm)",
            f"{handler_ms:.2f} ms",
            bare_label,
            ratio(handler_ms, bare_ms),
            "orders + their subscriptions: 2 requests",
        ),
    ]
    return rows
