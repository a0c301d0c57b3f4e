"""Scheduled balance sync (EventBridge Scheduler, every 5 minutes; on demand locally).

One run retries every capture step waiting for a retry, expires holds of orders never paid, applies
the orders modified since the last run (WooCommerce does not redeliver failed webhooks) and reconciles
the balances of recently active users. Safe to run twice at once (leases, conditional writes,
forward-only cursors) and to stop halfway (every step is recorded before and after it runs).
"""

from __future__ import annotations

import secrets
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from woo_backend.observability import logger, metrics
from woo_backend.services.balance import BalanceService

service = BalanceService.from_env()


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The scheduled time names the run (a retried delivery of one run records a drift once).
    run_id = str(event.get("scheduled_time") or f"manual-{secrets.token_hex(6)}")
    logger.append_keys(run_id=run_id)
    counts = service.sync(run_id)
    for outcome, count in counts.items():
        metrics.add_metric(name=f"BalanceSync_{outcome}", unit="Count", value=count)
    logger.info("balance sync done", extra={"counts": counts})
    return {"counts": counts}
