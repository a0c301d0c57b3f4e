"""Each scheduled run recorded in AdminTable (``store.runs``, ``scheduled_entrypoint``) and the health counts
(``store.health_counts``), against moto's DynamoDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.lambdas import LambdaContext
from woo_backend.dynamo import to_item
from woo_backend.errors import UpstreamUnavailable
from woo_backend.scheduled import scheduled_entrypoint
from woo_backend.store.health_counts import HealthCounts
from woo_backend.store.runs import SyncRuns

CONTEXT: Any = LambdaContext("sync", 128, "arn:aws:lambda:us-east-1:000000000000:function:sync", "r", deadline=0.0)
T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def test_runs_keep_the_last_success_and_the_failure_streak(aws: Any) -> None:
    runs = SyncRuns("AdminTable", aws)
    runs.record("credits-sync", "2026-11-26T12:00:00", counts={"granted": 2}, duration_ms=40)
    runs.record("credits-sync", "2026-11-26T12:05:00", counts={}, duration_ms=7, error="upstream_unavailable: x")
    runs.record("credits-sync", "2026-11-26T12:10:00", counts={}, duration_ms=9, error="upstream_unavailable: y")
    runs.record("promo-sync", "2026-11-26T12:10:00", counts={"synced": 1}, duration_ms=3)
    found = runs.last_runs()
    credits = found["credits-sync"]
    assert (credits.at, credits.outcome, credits.counts, credits.error) == (
        "2026-11-26T12:10:00",
        "failed",
        {},
        "upstream_unavailable: y",
    )
    assert (credits.last_ok_at, credits.failures, credits.failing_since) == (
        "2026-11-26T12:00:00",
        2,
        "2026-11-26T12:05:00",
    )
    assert found["promo-sync"].counts == {"synced": 1}
    runs.record("credits-sync", "2026-11-26T12:15:00", counts={"granted": 0}, duration_ms=5)
    again = runs.last_runs()["credits-sync"]
    assert (again.outcome, again.last_ok_at, again.failures, again.failing_since, again.error) == (
        "ok",
        "2026-11-26T12:15:00",
        0,
        None,
        None,
    )


def test_the_entrypoint_records_an_ok_run_under_the_sync_key(aws: Any) -> None:
    runs, clock = SyncRuns("AdminTable", aws), Clock()
    handler = scheduled_entrypoint("CreditsSync", lambda _run: {"granted": 3}, runs=runs, clock=clock)
    assert handler({"scheduled_time": "2026-11-26T12:00:00Z"}, CONTEXT) == {"counts": {"granted": 3}}
    run = runs.last_runs()["credits-sync"]
    assert (run.at, run.outcome, run.counts, run.error) == (
        T0.isoformat(timespec="microseconds"),
        "ok",
        {"granted": 3},
        None,
    )
    assert run.duration_ms >= 0


def test_the_entrypoint_records_a_failed_run_and_still_fails(aws: Any) -> None:
    runs = SyncRuns("AdminTable", aws)

    def run(_run: str) -> dict[str, int]:
        raise UpstreamUnavailable("woocommerce", "answered 500")

    handler = scheduled_entrypoint("PromoSync", run, runs=runs, clock=Clock())
    with pytest.raises(UpstreamUnavailable):
        handler({"scheduled_time": "2026-11-26T12:00:00Z"}, CONTEXT)
    run_record = runs.last_runs()["promo-sync"]
    assert (run_record.outcome, run_record.error, run_record.failures) == (
        "failed",
        "upstream_unavailable: woocommerce: answered 500",
        1,
    )


def test_a_failure_to_record_never_fails_the_sync(aws: Any) -> None:
    runs = SyncRuns("NoSuchTable", aws)  # every write refused (ResourceNotFoundException)
    handler = scheduled_entrypoint("BalanceSync", lambda _run: {"captured": 1}, runs=runs, clock=Clock())
    assert handler({"scheduled_time": "2026-11-26T12:00:00Z"}, CONTEXT) == {"counts": {"captured": 1}}


def test_the_entrypoint_finds_the_runs_table_in_the_environment(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_TABLE", "AdminTable")
    handler = scheduled_entrypoint("CreditsSync", lambda _run: {"granted": 1})
    handler({}, CONTEXT)
    assert SyncRuns("AdminTable", aws).last_runs()["credits-sync"].counts == {"granted": 1}


def test_health_counts(aws: Any) -> None:
    def put(table: str, **item: Any) -> None:
        aws.put_item(TableName=table, Item=to_item(item))

    for i, status in enumerate(["needs_attention", "needs_attention", "capture_pending"]):
        put("PaymentsTable", pk=f"PAYMENT#{i}", sk="PAYMENT", gsi1pk=f"OPEN#{status}", gsi1sk=f"2026-11-2{i}")
    since = T0 - timedelta(hours=24)
    for i, hours_ago in enumerate([1, 23, 25]):
        moment = (T0 - timedelta(hours=hours_ago)).isoformat(timespec="microseconds")
        put("PaymentsTable", pk=f"USER#{i}", sk="DRIFT#run", gsi2pk="DRIFT", gsi2sk=f"{moment}#{i}")
    put("PromoTable", pk="SYNC", sk="PENDING#SPRING", code="SPRING", version=1)
    put("PromoTable", pk="SYNC", sk="ORDERS", position="x")
    counts = HealthCounts("PaymentsTable", "PromoTable", aws)
    assert [counts.open_payments(s) for s in ("needs_attention", "capture_pending", "authorized")] == [2, 1, 0]
    assert counts.drift_since(since.isoformat(timespec="microseconds")) == 2
    assert counts.promo_pending() == 1
