"""Scheduled credits sync (EventBridge Scheduler, every 5 minutes).

WooCommerce never redelivers a failed webhook, so this run lists the orders modified since the last
one and applies the same idempotent grant/revoke as the webhook. Safe to run twice at once (grants
are conditional, the cursor only moves forward) and to stop halfway (the cursor moves at the end).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from woo_backend.observability import logger, metrics
from woo_backend.services.credits import CreditsService
from woo_backend.settings import CreditsSettings, WooCommerceSettings
from woo_backend.store.credits import CreditsStore
from woo_backend.woocommerce import WooCommerceClient

settings = CreditsSettings.from_env()
service = CreditsService(
    CreditsStore(settings.table), WooCommerceClient(WooCommerceSettings.from_env()), meta_key=settings.meta_key
)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(scheduled_time=event.get("scheduled_time"))
    counts = service.sync_orders()
    for outcome, count in counts.items():
        metrics.add_metric(name=f"SyncOrders_{outcome}", unit="Count", value=count)
    logger.info("credits sync done", extra={"counts": counts})
    return {"counts": counts}
