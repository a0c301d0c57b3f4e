"""The Lambda handler of a scheduled sync (EventBridge Scheduler): one run, its outcome counts logged
and emitted as metrics, named after the scheduled time that started it.

A sync that owns webhook routes (credits, balance) is given its watch over them (``bootstrap.common.webhook_watch``):
each of its runs first checks the shop's webhooks for those routes (``woo_backend.services.webhooks``), turns a
disabled or paused one back on and reports it, as the metric ``WebhookDisabled`` and a warning line; a missing one
is ``WebhookMissing``.

Every run is recorded as its sync's last run (``store.runs``, in ``ADMIN_TABLE``: time, outcome, counts, error words),
which the admin health page shows. Recording is best effort: a failure to record is logged, never the run's failure.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from aws_lambda_powertools.utilities.typing import LambdaContext

from woo_backend.clock import Clock, iso, utcnow
from woo_backend.domain.health import error_words, sync_key
from woo_backend.observability import logger, metrics
from woo_backend.services.webhooks import WebhookWatch


class RunRecorder(Protocol):
    """Where each run is recorded (``store.runs.SyncRuns``)."""

    def record(
        self, name: str, at: str, *, counts: dict[str, int], duration_ms: int, error: str | None = None
    ) -> None: ...


def runs_from_env() -> RunRecorder | None:
    """The runs store in ``ADMIN_TABLE``; ``None`` (runs not recorded) where it is not set."""
    table = os.environ.get("ADMIN_TABLE", "").strip()
    if not table:
        return None
    from woo_backend.aws import dynamodb_client
    from woo_backend.store.runs import SyncRuns

    return SyncRuns(table, dynamodb_client())


def record_run(
    runs: RunRecorder, name: str, started_at: datetime, started: float, counts: dict[str, int], error: str | None
) -> None:
    """Record one run; never raises: the sync's own work matters more than its record."""
    try:
        duration_ms = int((time.monotonic() - started) * 1000)
        runs.record(name, iso(started_at), counts=counts, duration_ms=duration_ms, error=error)
    except Exception:  # a failure here (DynamoDB, a permission) must never fail the sync
        logger.warning("could not record the sync run", extra={"sync": name}, exc_info=True)


def run_id(event: dict[str, Any]) -> str:
    """The scheduled time names the run (a retried delivery of one run is the same run)."""
    return str(event.get("scheduled_time") or f"manual-{secrets.token_hex(6)}")


def watch_webhooks(watch: WebhookWatch) -> dict[str, int]:
    """Check the webhooks, report what was off or missing. Never raises: the sync's own work comes first."""
    try:
        report = watch.check()
    except Exception:  # any failure here (WooCommerce down, a bug) must not stop the sync's own work
        logger.exception("webhook check failed; the next run tries again")
        metrics.add_metric(name="WebhookCheckFailed", unit="Count", value=1)
        return {"check_failed": 1}
    # Emitted on every run, zero included, so an alarm sees data rather than silence.
    metrics.add_metric(name="WebhookDisabled", unit="Count", value=len(report.reactivated) + len(report.still_off))
    metrics.add_metric(name="WebhookMissing", unit="Count", value=len(report.missing))
    for message, events in (
        ("webhook was off in WooCommerce; turned back on", report.reactivated),
        ("webhook is off in WooCommerce and did not turn back on", report.still_off),
    ):
        for event in events:
            logger.warning(
                message,
                extra={
                    "webhook_id": event.webhook_id,
                    "topic": event.topic,
                    "delivery_url": event.delivery_url,
                    "previous_status": event.previous_status,
                },
            )
    for want in report.missing:
        logger.warning(
            "webhook missing in WooCommerce; create it with `make setup-webhooks`",
            extra={"topic": want.topic, "delivery_url": want.delivery_url},
        )
    return report.counts()


def scheduled_entrypoint(
    name: str,
    run: Callable[[str], dict[str, int]],
    *,
    watch: WebhookWatch | None = None,
    watched: bool = False,
    runs: RunRecorder | None = None,
    clock: Clock = utcnow,
) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """``run(run_id)`` returns how many items ended each way; each count becomes ``<name>_<outcome>``.

    ``watch``: this sync's webhooks, checked first in each run (``bootstrap.common.webhook_watch``);
    ``watched``: the sync has webhooks, so a missing watch (``WEBHOOK_BASE_URL`` unset) is worth a warning;
    ``runs``: where each run is recorded, under ``sync_key(name)`` (default: ``ADMIN_TABLE``'s, if set).
    """
    if watched and watch is None:
        logger.warning("WEBHOOK_BASE_URL is not set: the shop's webhooks are not watched", extra={"sync": name})
    recorder = runs if runs is not None else runs_from_env()
    if recorder is None:
        logger.warning("ADMIN_TABLE is not set: this sync's runs are not recorded", extra={"sync": name})
    key = sync_key(name)

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        current = run_id(event)
        logger.append_keys(run_id=current)
        started_at, started = clock(), time.monotonic()
        try:
            webhooks = watch_webhooks(watch) if watch is not None else None
            counts = run(current)
        except Exception as exc:
            if recorder is not None:
                record_run(recorder, key, started_at, started, {}, error_words(exc))
            raise
        if recorder is not None:
            record_run(recorder, key, started_at, started, counts, None)
        for outcome, count in counts.items():
            metrics.add_metric(name=f"{name}_{outcome}", unit="Count", value=count)
        # One per finished run: the template's <Sync>NotSucceedingAlarm fires when none arrives for 3 periods.
        metrics.add_metric(name="SyncSucceeded", unit="Count", value=1)
        logger.info(f"{name} done", extra={"counts": counts, "webhooks": webhooks})
        return {"counts": counts} if webhooks is None else {"counts": counts, "webhooks": webhooks}

    return handler
