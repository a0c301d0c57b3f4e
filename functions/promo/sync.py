"""Scheduled promo sync (EventBridge Scheduler, every 5 minutes; on demand locally).

Pushes every code whose WooCommerce coupon or Topomer promo is behind its record. Safe to run twice at
once (each side's progress only moves forward) and to stop halfway (the work list is in DynamoDB).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from woo_backend.observability import logger, metrics
from woo_backend.services.promo import PromoService

service = PromoService.from_env()


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(scheduled_time=event.get("scheduled_time"))
    counts = service.sync_pending()
    for outcome, count in counts.items():
        metrics.add_metric(name=f"PromoSync_{outcome}", unit="Count", value=count)
    logger.info("promo sync done", extra={"counts": counts})
    return {"counts": counts}
