"""Balance payments: upstream and DynamoDB round trips per authorize and per capture, through the real
handler in process, against the embedded DynamoDB and the Topomer and WooCommerce simulators over HTTP;
the warm latency of an authorize as a ratio to one bare Topomer ``get-by-token`` call in the same run; and
authorizations of one user from many callers at once (each its own container, as Lambda runs them) against
one caller in the same run: throughput, p99 and the statuses (no 503: DynamoDB serializes the holds)."""

from __future__ import annotations

import itertools
import json
import os
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from bench.events import http_event
from bench.run import Row, ratio
from bench.support import AllRoundTrips, load_handler, median_ms, simulated_upstreams
from local.simulators.topomer import TopomerSimulator
from local.simulators.woocommerce import WooCommerceSimulator

LATENCY_RUNS = 60
CALLERS = 8  # the local runtime's LOCAL_MAX_CONCURRENCY: containers of one function at once
HOT_AUTHORIZES = 120


def rows() -> list[Row]:
    with simulated_upstreams() as (topomer_sim, woo_sim):
        return _measure(topomer_sim, woo_sim) + _contention(topomer_sim, woo_sim)


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
            note="idempotency claim, order read, payment, hold (one UpdateItem), order link, idempotency record",
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


# ------------------------------------------------------------------ one user's holds from many callers
Handler = Callable[[dict[str, Any]], dict[str, Any]]


def _bound(module: Any, context: Any) -> Handler:
    return lambda event: dict(module.lambda_handler(event, context))


def _contention(topomer_sim: TopomerSimulator, woo_sim: WooCommerceSimulator) -> list[Row]:
    containers = [load_handler("BalanceFunction") for _ in range(CALLERS)]
    handlers = [_bound(module, context) for module, context in containers]
    orders = itertools.count(80000)
    users = itertools.count(910)

    def user(balance: int) -> str:
        user_id = next(users)
        token = f"tpm_hot_{user_id}"
        topomer_sim.users[token] = {"id": user_id, "token": token, "email": "", "solde": balance, "expired": False}
        return token

    def event(token: str, amount: str) -> dict[str, Any]:
        order_id = next(orders)
        with woo_sim.lock:
            line = {"product_id": 12, "quantity": 1, "total": amount, "subtotal": amount}
            woo_sim.new_order({"id": order_id, "payment_method": "topomer", "line_items": [line]})
        body = {"token": token, "order_id": order_id, "amount": amount}
        key = {"Idempotency-Key": f"hot-{order_id}"}
        return http_event("POST", "/balance/v1/payments", "/balance/v1/payments", {}, body, key)

    def run(callers: int, token: str, amount: str, count: int) -> tuple[float, float, Counter[int]]:
        """(authorizations per second, p99 ms, statuses) of ``count`` authorizations from ``callers`` at once."""
        events = [event(token, amount) for _ in range(count)]
        latencies: list[float] = []
        answered: list[int] = []  # list.append is atomic: the callers share it

        def caller(index: int) -> None:
            for one in events[index::callers]:
                started = time.perf_counter()
                answered.append(handlers[index](one)["statusCode"])
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=callers) as pool:
            list(pool.map(caller, range(callers)))
        elapsed = time.perf_counter() - started
        latencies.sort()
        return count / elapsed, latencies[int(0.99 * (len(latencies) - 1))] * 1000, Counter(answered)

    for handler in handlers:  # warm every container (its Topomer access token, its imports)
        handler(event(user(10**6), "1.00"))
    one_rps, one_p99, one_statuses = run(1, user(10**6), "1.00", HOT_AUTHORIZES // 2)
    hot_rps, hot_p99, hot_statuses = run(CALLERS, user(10**6), "1.00", HOT_AUTHORIZES)
    _, _, short_statuses = run(CALLERS, user(100), "7.00", 20)

    def shown(statuses: Counter[int]) -> str:
        shown = {**statuses, 503: statuses[503]}  # 503 always named, even at 0
        return ", ".join(f"{n} x {status}" for status, n in sorted(shown.items()))

    baseline = f"{one_rps:.1f}/s, p99 {one_p99:.0f} ms"
    return [
        Row(
            "balance: authorize one user, 1 caller (baseline)",
            baseline,
            "",
            "1.00x",
            f"{HOT_AUTHORIZES // 2} holds in a row: {shown(one_statuses)}",
        ),
        Row(
            f"balance: authorize one user, {CALLERS} callers at once",
            f"{hot_rps:.1f}/s, p99 {hot_p99:.0f} ms",
            baseline,
            f"{ratio(hot_rps, one_rps)} throughput, {ratio(hot_p99, one_p99)} p99",
            f"{HOT_AUTHORIZES} holds: {shown(hot_statuses)}",
        ),
        Row(
            "balance: 20 holds of 7.00 on a balance of 100.00",
            shown(short_statuses),
            "",
            "",
            f"{CALLERS} callers at once; 14 fit",
        ),
    ]
