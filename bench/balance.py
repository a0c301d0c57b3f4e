"""Balance payments: upstream and DynamoDB round trips per authorize and per capture, through the real
handler in process, against the embedded DynamoDB and the Topomer and WooCommerce simulators over HTTP;
and the warm latency of an authorize as a ratio to one bare Topomer ``get-by-token`` call in the same run."""

from __future__ import annotations

import itertools
import json
import os
from typing import Any

import httpx

from bench.run import Row, ratio
from bench.support import AllRoundTrips, http_event, load_handler, median_ms, simulated_upstreams
from local.simulators.topomer import TopomerSimulator
from local.simulators.woocommerce import WooCommerceSimulator

LATENCY_RUNS = 60


def rows() -> list[Row]:
    with simulated_upstreams() as (topomer_sim, woo_sim):
        return _measure(topomer_sim, woo_sim)


def _measure(topomer_sim: TopomerSimulator, woo_sim: WooCommerceSimulator) -> list[Row]:
    from woo_backend.aws import dynamodb_client

    module, context = load_handler("BalanceFunction")
    trips = AllRoundTrips(dynamodb_client(), Topomer=module.service.topomer, WooCommerce=module.service.orders)
    orders = itertools.count(70000)
    token = "tpm_bench"
    topomer_sim.users[token] = {"id": 900, "token": token, "email": "", "solde": 10**9, "expired": False}

    def call(event: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = module.lambda_handler(event, context)
        assert answer["statusCode"] < 300, answer
        return answer

    def authorize_event(order_id: int, key: str) -> dict[str, Any]:
        with woo_sim.lock:  # a payment is for an unpaid order of exactly its amount
            if order_id not in woo_sim.orders:
                line = {"product_id": 12, "quantity": 1, "total": "1.00", "subtotal": "1.00"}
                woo_sim.new_order({"id": order_id, "payment_method": "topomer", "line_items": [line]})
        body = {"token": token, "order_id": order_id, "amount": "1.00"}
        return http_event("POST", "/balance/v1/payments", "/balance/v1/payments", {}, body, {"Idempotency-Key": key})

    first_order = next(orders)
    cold = trips.of(lambda: call(authorize_event(first_order, "k-cold")))  # includes Topomer's access token
    warm_order = next(orders)
    authorize = trips.of(lambda: call(authorize_event(warm_order, "k-warm")))
    replay = trips.of(lambda: call(authorize_event(warm_order, "k-warm")))
    payment_id = json.loads(call(authorize_event(next(orders), "k-capture"))["body"])["payment_id"]
    route = "/balance/v1/payments/{payment_id}/capture"
    capture_event = http_event(
        "POST",
        f"/balance/v1/payments/{payment_id}/capture",
        route,
        {"payment_id": payment_id},
        None,
        {"X-Topomer-Token": token},
    )
    capture = trips.of(lambda: call(capture_event))
    topomer_sim.users[token]["expired"] = False  # the capture expired it; the bench keeps paying with it

    keys = itertools.count()
    authorize_ms = median_ms(lambda: call(authorize_event(next(orders), f"k{next(keys)}")), LATENCY_RUNS)
    base_url = os.environ["TOPOMER_URL"]
    with httpx.Client() as bare_client:
        access = bare_client.post(
            f"{base_url}/api/auth/token",
            json={"client_id": topomer_sim.client_id, "client_secret": topomer_sim.client_secret},
        ).json()["access_token"]
        bare_ms = median_ms(
            lambda: bare_client.get(
                f"{base_url}/api/plugin/users/get-by-token",
                params={"token": token},
                headers={"Authorization": f"Bearer {access}"},
            ),
            LATENCY_RUNS,
        )

    bare = f"{bare_ms:.2f} ms"
    return [
        Row("balance: round trips per authorize (cold container)", cold, note="+ Topomer access token"),
        Row(
            "balance: round trips per authorize (warm)",
            authorize,
            note="idempotency claim, order read, holds read, one transaction, idempotency record",
        ),
        Row("balance: round trips per authorize replay", replay, note="answered from the idempotency record"),
        Row(
            "balance: round trips per capture",
            capture,
            note="lease, steps recorded, balance read, 3 Topomer writes (2 read back), order read",
        ),
        Row("balance: bare Topomer get-by-token (baseline)", bare, "", "1.00x", f"median of {LATENCY_RUNS}"),
        Row(
            "balance: authorize, handler in process (warm)",
            f"{authorize_ms:.2f} ms",
            bare,
            ratio(authorize_ms, bare_ms),
            f"median of {LATENCY_RUNS}",
        ),
    ]
