"""Scheduled promo sync (EventBridge Scheduler)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from woo_backend.observability import logger


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.info("sync run", extra={"scheduled_time": event.get("scheduled_time")})
    return {"ok": True}
