"""Credits: DynamoDB round trips per read and per consume, and the warm in-process latency of a
consume (through the real handler) against the embedded DynamoDB, as a ratio to a bare ``UpdateItem``
on the same table in the same run."""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import boto3

from bench.run import Row, ratio
from local import template
from local.embedded_aws import serve_embedded_aws
from local.lambdas import LambdaContext
from local.run import LOCAL_DEFAULTS

RUNS = 300


class RoundTrips:
    """Counts DynamoDB requests through botocore's event system."""

    def __init__(self, client: Any) -> None:
        self.count = 0
        client.meta.events.register("before-send.dynamodb.*", self._seen)

    def _seen(self, **_: Any) -> None:
        self.count += 1

    def of(self, action: Callable[[], object]) -> int:
        before = self.count
        action()
        return self.count - before


@contextmanager
def embedded_dynamodb() -> Iterator[str]:
    server = serve_embedded_aws()
    endpoint = f"http://127.0.0.1:{server.server_port}"
    saved = dict(os.environ)
    os.environ.update(
        {
            **LOCAL_DEFAULTS,
            "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
            "CREDITS_TABLE": "CreditsTable",
            "WOOCOMMERCE_URL": "http://127.0.0.1:9",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
    )
    try:
        template.create_tables(boto3.client("dynamodb", endpoint_url=endpoint))
        yield endpoint
    finally:
        os.environ.clear()
        os.environ.update(saved)
        server.shutdown()


def _median_ms(action: Callable[[], object]) -> float:
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def _event(method: str, path: str, route: str, order_key: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": f"{method} {route}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "pathParameters": {"order_key": order_key},
        "requestContext": {"http": {"method": method, "path": path}, "requestId": "bench", "stage": "$default"},
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }


def rows() -> list[Row]:
    from woo_backend.services.credits import CreditsService
    from woo_backend.store.credits import CreditsStore

    with embedded_dynamodb():
        client = boto3.client("dynamodb")
        trips = RoundTrips(client)
        store = CreditsStore("CreditsTable", client)
        now = datetime.now(UTC)
        store.grant("wc_order_bench", 1, 10**9, "2026-01-01T00:00:00", "tx_grant", now)
        store.grant("wc_order_cold", 2, 10**9, "2026-01-01T00:00:00", "tx_grant2", now)

        warm = CreditsService(store, None)
        read = trips.of(lambda: warm.account("wc_order_bench"))
        consume_warm = trips.of(lambda: warm.consume("wc_order_bench", 1))
        consume_cold = trips.of(lambda: CreditsService(store, None).consume("wc_order_cold", 1))
        warm.consume("wc_order_bench", 1, "bench-key")
        replay = trips.of(lambda: warm.consume("wc_order_bench", 1, "bench-key"))
        stale = CreditsService(store, None)
        stale.account("wc_order_bench")
        warm.consume("wc_order_bench", 1)
        consume_stale = trips.of(lambda: stale.consume("wc_order_bench", 1))

        # The real handler, in process, warm.
        fn = template.functions()["CreditsFunction"]
        spec = importlib.util.spec_from_file_location("bench_credits_app", fn.module_path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # pydantic resolves the handler's annotations through it
        spec.loader.exec_module(module)
        context = LambdaContext("CreditsFunction", 512, "arn:bench", "bench", time.monotonic() + 900)
        route = "/credits/v1/orders/{order_key}/consume"
        event = _event("POST", "/credits/v1/orders/wc_order_bench/consume", route, "wc_order_bench", {"amount": 1})

        def handle() -> None:
            answer = module.lambda_handler(event, context)
            assert answer["statusCode"] == 200, answer

        handler_ms = _median_ms(handle)
        bare_ms = _median_ms(
            lambda: client.update_item(
                TableName="CreditsTable",
                Key={"pk": {"S": "BENCH"}, "sk": {"S": "BARE"}},
                UpdateExpression="ADD #b :one",
                ExpressionAttributeNames={"#b": "balance"},
                ExpressionAttributeValues={":one": {"N": "1"}},
            )
        )
    bare = f"{bare_ms:.2f} ms"
    return [
        Row("credits: DynamoDB round trips per read", str(read)),
        Row("credits: DynamoDB round trips per consume (warm)", str(consume_warm), note="one TransactWriteItems"),
        Row(
            "credits: DynamoDB round trips per consume (cold container)",
            str(consume_cold),
            note="GetItem + transaction",
        ),
        Row("credits: DynamoDB round trips per consume (state moved)", str(consume_stale), note="refused + retried"),
        Row("credits: DynamoDB round trips per idempotent replay", str(replay), note="refusal carries the record"),
        Row("credits: bare UpdateItem (baseline)", bare, "", "1.00x", f"median of {RUNS}"),
        Row(
            "credits: consume, handler in process (warm)",
            f"{handler_ms:.2f} ms",
            bare,
            ratio(handler_ms, bare_ms),
            f"median of {RUNS}",
        ),
    ]
