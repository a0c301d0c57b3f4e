"""Promo quotes: upstream and DynamoDB round trips per automatic quote, cold and cached, through the real
handler in process against the embedded DynamoDB and the simulators over HTTP; and the warm latency of a
repeated quote as a ratio to one bare ``GetItem`` on the promo table in the same run."""

from __future__ import annotations

import itertools
import os
from typing import Any

from bench.events import http_event
from bench.run import Row, ratio
from bench.support import AllRoundTrips, load_handler, median_ms, simulated_upstreams

LATENCY_RUNS = 100


def rows() -> list[Row]:
    with simulated_upstreams():
        return _measure()


def _measure() -> list[Row]:
    from woo_backend.aws import dynamodb_client
    from woo_backend.bootstrap import common

    module, context = load_handler("PromoFunction")
    client = dynamodb_client()
    # The handler's clients: bootstrap.promo.api() took the container's ones.
    trips = AllRoundTrips(client, Topomer=common.topomer(), WooCommerce=common.woocommerce())
    carts = itertools.count()

    def call(event: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = module.lambda_handler(event, context)
        assert answer["statusCode"] < 300, answer
        return answer

    def quote_event(cart: str, total: str = "120.00") -> dict[str, Any]:
        body = {"cart_id": cart, "cart_total": total, "currency": "EUR"}
        return http_event("POST", "/promo/v1/auto", "/promo/v1/auto", {}, body, {})

    cold = trips.of(lambda: call(quote_event("cart-cold")))  # intervals from Topomer (+ its access token)
    new_cart = trips.of(lambda: call(quote_event(f"cart-{next(carts)}")))  # intervals cached in memory
    repeat = trips.of(lambda: call(quote_event("cart-cold")))  # same cart, same interval: the same code
    ineligible = trips.of(lambda: call(quote_event(f"cart-{next(carts)}", "10.00")))
    moved = trips.of(lambda: call(quote_event("cart-cold", "300.00")))

    repeat_ms = median_ms(lambda: call(quote_event("cart-cold", "300.00")), LATENCY_RUNS)
    table = os.environ["PROMO_TABLE"]
    bare_ms = median_ms(
        lambda: client.get_item(TableName=table, Key={"pk": {"S": "CART#cart-cold"}, "sk": {"S": "AUTO"}}),
        LATENCY_RUNS,
    )

    bare = f"{bare_ms:.2f} ms"
    return [
        Row(
            "promo: round trips per auto quote (cold container)",
            cold,
            note="intervals fetched (+ access token) and saved as last good copy; code pushed to both sides",
        ),
        Row(
            "promo: round trips per auto quote (new cart, cached)",
            new_cart,
            note="intervals from memory; the Topomer create claimed first",
        ),
        Row("promo: round trips per repeated quote (same cart)", repeat, note="cart pointer + code read"),
        Row("promo: round trips per quote with no interval", ineligible),
        Row("promo: round trips per quote whose total moved", moved, note="old coupon disabled, new one made"),
        Row("promo: bare GetItem on the promo table (baseline)", bare, "", "1.00x", f"median of {LATENCY_RUNS}"),
        Row(
            "promo: repeated quote, handler in process (warm)",
            f"{repeat_ms:.2f} ms",
            bare,
            ratio(repeat_ms, bare_ms),
            f"median of {LATENCY_RUNS}",
        ),
    ]
