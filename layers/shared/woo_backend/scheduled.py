"""The Lambda handler of a scheduled sync (EventBridge Scheduler): one run, its outcome counts logged
and emitted as metrics, named after the scheduled time that started it.

A sync that owns webhook routes (credits, balance) is given its watch over them (``bootstrap.common.webhook_watch``):
each of its runs first checks the shop's webhooks for those routes (``woo_backend.services.webhooks``), turns a
disabled or paused one back on and reports it, as the metric ``WebhookDisabled`` and a warning line; a missing one
is ``WebhookMissing``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from woo_backend.observability import logger, metrics
from woo_backend.services.webhooks import WebhookWatch


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
) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """``run(run_id)`` returns how many items ended each way; each count becomes ``<name>_<outcome>``.

    ``watch``: this sync's webhooks, checked first in each run (``bootstrap.common.webhook_watch``);
    ``watched``: the sync has webhooks, so a missing watch (``WEBHOOK_BASE_URL`` unset) is worth a warning.
    """
    if watched and watch is None:
        logger.warning("WEBHOOK_BASE_URL is not set: the shop's webhooks are not watched", extra={"sync": name})

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        current = run_id(event)
        logger.append_keys(run_id=current)
        webhooks = watch_webhooks(watch) if watch is not None else None
        counts = run(current)
        for outcome, count in counts.items():
            metrics.add_metric(name=f"{name}_{outcome}", unit="Count", value=count)
        logger.info(f"{name} done", extra={"counts": counts, "webhooks": webhooks})
        return {"counts": counts} if webhooks is None else {"counts": counts, "webhooks": webhooks}

    return handler
