"""Credits: DynamoDB round trips per read and per consume, and the warm in-process latency of a
consume (through the real handler) against the embedded DynamoDB, as a ratio to a bare ``UpdateItem``
on the same table in the same run."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3

from bench.run import Row, ratio
from bench.support import RUNS, RoundTrips, embedded_dynamodb, http_event, load_handler, median_ms


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
