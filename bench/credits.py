"""Credits: DynamoDB round trips per read and per consume, the warm in-process latency of a consume (through
the real handler) against a bare ``UpdateItem`` on the same table, and one hot order spent by many callers at
once against a single caller, all in the same run against the embedded DynamoDB (ratios, not absolutes)."""

from __future__ import annotations

import statistics
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import boto3

from bench.events import http_event
from bench.run import Row, ratio
from bench.support import RUNS, RoundTrips, embedded_dynamodb, load_handler, median_ms

HOT_CONSUMES = 240  # per measurement: enough for a p99
HOT_CALLERS = (8, 30)


def rows() -> list[Row]:
    from woo_backend.services.credits import CreditsService
    from woo_backend.store.credits import CreditsStore

    with embedded_dynamodb():
        client = boto3.client("dynamodb")
        trips = RoundTrips(client)
        store = CreditsStore("CreditsTable", client)
        now = datetime.now(UTC)
        store.grant("wc_order_bench", 1, 10**9, "2026-01-01T00:00:00", "tx_grant", now)

        service = CreditsService(store, None)
        read = trips.of(lambda: service.account("wc_order_bench"))
        consume = trips.of(lambda: service.consume("wc_order_bench", 1))
        keyed = trips.of(lambda: service.consume("wc_order_bench", 1, "bench-key"))
        replay = trips.of(lambda: service.consume("wc_order_bench", 1, "bench-key"))

        # The real handler, in process, warm.
        module, context = load_handler("CreditsFunction")
        route = "/credits/v1/orders/{order_key}/consume"
        event = http_event(
            "POST", "/credits/v1/orders/wc_order_bench/consume", route, {"order_key": "wc_order_bench"}, {"amount": 1}
        )

        def handle() -> None:
            answer = module.lambda_handler(event, context)
            assert answer["statusCode"] == 200, answer

        handler_ms = median_ms(handle)
        bare_ms = median_ms(
            lambda: client.update_item(
                TableName="CreditsTable",
                Key={"pk": {"S": "BENCH"}, "sk": {"S": "BARE"}},
                UpdateExpression="ADD #b :one",
                ExpressionAttributeNames={"#b": "balance"},
                ExpressionAttributeValues={":one": {"N": "1"}},
            )
        )
        hot = [_hot_order(store, CreditsService, callers) for callers in (1, *HOT_CALLERS)]
    bare = f"{bare_ms:.2f} ms"
    single = hot[0]
    result = [
        Row("credits: DynamoDB round trips per read", str(read)),
        Row("credits: DynamoDB round trips per consume", str(consume), note="one UpdateItem + the ledger write"),
        Row("credits: DynamoDB round trips per consume with a key", str(keyed), note="+ IDEM read (evicted keys)"),
        Row("credits: DynamoDB round trips per idempotent replay", str(replay), note="IDEM record read"),
        Row("credits: bare UpdateItem (baseline)", bare, "", "1.00x", f"median of {RUNS}"),
        Row(
            "credits: consume, handler in process (warm)",
            f"{handler_ms:.2f} ms",
            bare,
            ratio(handler_ms, bare_ms),
            f"median of {RUNS}",
        ),
        Row("credits: hot order, 1 caller (baseline)", f"{single.rps:.0f} req/s", "", "1.00x", single.note),
        Row("credits: hot order p99, 1 caller (baseline)", f"{single.p99_ms:.1f} ms", "", "1.00x"),
    ]
    for run in hot[1:]:
        result += [
            Row(
                f"credits: hot order, {run.callers} parallel callers",
                f"{run.rps:.0f} req/s",
                f"{single.rps:.0f} req/s",
                ratio(run.rps, single.rps),
                run.note,
            ),
            Row(
                f"credits: hot order p99, {run.callers} parallel callers",
                f"{run.p99_ms:.1f} ms",
                f"{single.p99_ms:.1f} ms",
                ratio(run.p99_ms, single.p99_ms),
            ),
        ]
    return result


class HotRun:
    def __init__(self, callers: int, seconds: float, latencies: list[float], outcomes: Counter[str]) -> None:
        self.callers = callers
        self.rps = len(latencies) / seconds
        self.p99_ms = statistics.quantiles(latencies, n=100)[98] * 1000
        busy = outcomes.get("busy", 0)
        # Callers and the embedded DynamoDB share one interpreter here: more callers cost CPU, not retries.
        self.note = f"{sum(outcomes.values())} consumes: {outcomes['ok']} ok, {busy} busy (503)"


def _hot_order(store: Any, service_class: Any, callers: int) -> HotRun:
    """``HOT_CONSUMES`` consumes of 1 credit on one order from ``callers`` threads, each its own container's
    service; every consume must land (0 busy) and the balance must be exact."""
    from woo_backend.errors import Busy

    order_key = f"wc_order_hot_{callers}"
    store.grant(order_key, 7, HOT_CONSUMES, "2026-01-01T00:00:00", f"tx_grant_{callers}", datetime.now(UTC))
    services = [service_class(store, None) for _ in range(callers)]
    outcomes: Counter[str] = Counter()
    latencies: list[float] = []

    def spend(index: int) -> None:
        started = time.perf_counter()
        try:
            services[index % callers].consume(order_key, 1)
            outcomes["ok"] += 1
        except Busy:
            outcomes["busy"] += 1
        latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=callers) as pool:
        list(pool.map(spend, range(HOT_CONSUMES)))
    seconds = time.perf_counter() - started
    account = store.get_account(order_key)
    assert outcomes == {"ok": HOT_CONSUMES}, outcomes
    assert account.balance == 0, account
    return HotRun(callers, seconds, latencies, outcomes)
