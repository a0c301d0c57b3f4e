"""Promo quotes: upstream and DynamoDB round trips per automatic quote, cold and cached, through the real
handler in process against the embedded DynamoDB and the simulators over HTTP; and the warm latency of a
repeated quote as a ratio to one bare ``GetItem`` on the promo table in the same run."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from typing import Any

from bench.run import Row, ratio
from bench.support import RoundTrips, http_event, load_handler, median_ms, simulated_upstreams

LATENCY_RUNS = 100


def rows() -> list[Row]:
    with simulated_upstreams():
        return _measure()


def _measure() -> list[Row]:
    from woo_backend.dynamo import dynamodb_client

    module, context = load_handler("PromoFunction")
    client = dynamodb_client()
    dynamo = RoundTrips(client)
    topomer, woo = module.service.topomer, module.service.shop
    carts = itertools.count()

    def call(event: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = module.lambda_handler(event, context)
        assert answer["statusCode"] < 300, answer
        return answer

    def quote_event(cart: str, total: str = "120.00") -> dict[str, Any]:
        body = {"cart_id": cart, "cart_total": total, "currency": "EUR"}
        return http_event("POST", "/promo/v1/auto", "/promo/v1/auto", {}, body, {})

    def trips(action: Callable[[], object]) -> tuple[int, int, int]:
        before = (dynamo.count, topomer.round_trips, woo.round_trips)
        action()
        return dynamo.count - before[0], topomer.round_trips - before[1], woo.round_trips - before[2]

    cold = trips(lambda: call(quote_event("cart-cold")))  # intervals from Topomer (+ its access token)
    new_cart = trips(lambda: call(quote_event(f"cart-{next(carts)}")))  # intervals cached in memory
    repeat = trips(lambda: call(quote_event("cart-cold")))  # same cart, same interval: the same code
    ineligible = trips(lambda: call(quote_event(f"cart-{next(carts)}", "10.00")))
    moved = trips(lambda: call(quote_event("cart-cold", "300.00")))

    repeat_ms = median_ms(lambda: call(quote_event("cart-cold", "300.00")), LATENCY_RUNS)
    table = os.environ["PROMO_TABLE"]
    bare_ms = median_ms(
        lambda: client.get_item(TableName=table, Key={"pk": {"S": "CART#cart-cold"}, "sk": {"S": "AUTO"}}),
        LATENCY_RUNS,
    )

    def fmt(counts: tuple[int, int, int]) -> str:
        return f"DynamoDB {counts[0]}, Topomer {counts[1]}, WooCommerce {counts[2]}"

    bare = f"{bare_ms:.2f} ms"
    return [
        Row(
            "promo: round trips per auto quote (cold container)",
            fmt(cold),
            note="intervals fetched (+ access token) and saved as last good copy; code pushed to both sides",
        ),
        Row("promo: round trips per auto quote (new cart, cached)", fmt(new_cart), note="intervals from memory"),
        Row("promo: round trips per repeated quote (same cart)", fmt(repeat), note="cart pointer + code read"),
        Row("promo: round trips per quote with no interval", fmt(ineligible)),
        Row("promo: round trips per quote whose total moved", fmt(moved), note="old coupon disabled, new one made"),
        Row("promo: bare GetItem on the promo table (baseline)", bare, "", "1.00x", f"median of {LATENCY_RUNS}"),
        Row(
            "promo: repeated quote, handler in process (warm)",
            f"{repeat_ms:.2f} ms",
            bare,
            ratio(repeat_ms, bare_ms),
            f"median of {LATENCY_RUNS}",
        ),
    ]
