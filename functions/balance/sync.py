"""Scheduled balance sync (EventBridge Scheduler, every 5 minutes; on demand locally).

One run retries every capture step waiting for a retry, expires holds of orders never paid, applies
the orders modified since the last run (WooCommerce does not redeliver failed webhooks) and reconciles
the balances of recently active users. Safe to run twice at once (leases, conditional writes,
forward-only cursors) and to stop halfway (every step is recorded before and after it runs).
"""

from __future__ import annotations

from woo_backend.bootstrap.common import webhook_watch
from woo_backend.scheduled import scheduled_entrypoint
from woo_backend.services.balance import BalanceService
from woo_backend.services.webhooks import BALANCE_WEBHOOK_PATH

service = BalanceService.from_env()

lambda_handler = scheduled_entrypoint(
    "BalanceSync", lambda run: service.sync(run), watch=webhook_watch([BALANCE_WEBHOOK_PATH]), watched=True
)
