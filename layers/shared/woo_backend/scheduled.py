"""The Lambda handler of a scheduled sync (EventBridge Scheduler): one run, its outcome counts logged
and emitted as metrics, named after the scheduled time that started it."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from woo_backend.observability import logger, metrics


def run_id(event: dict[str, Any]) -> str:
    """The scheduled time names the run (a retried delivery of one run is the same run)."""
    return str(event.get("scheduled_time") or f"manual-{secrets.token_hex(6)}")


def scheduled_entrypoint(
    name: str, run: Callable[[str], dict[str, int]]
) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """``run(run_id)`` returns how many items ended each way; each count becomes ``<name>_<outcome>``."""

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        current = run_id(event)
        logger.append_keys(run_id=current)
        counts = run(current)
        for outcome, count in counts.items():
            metrics.add_metric(name=f"{name}_{outcome}", unit="Count", value=count)
        logger.info(f"{name} done", extra={"counts": counts})
        return {"counts": counts}

    return handler
