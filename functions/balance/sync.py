"""Scheduled balance sync (EventBridge Scheduler, every 5 minutes; on demand locally).

One run retries every capture step waiting for a retry, expires holds of orders never paid, applies
the orders modified since the last run (WooCommerce does not redeliver failed webhooks) and reconciles
the balances of recently active users. Safe to run twice at once (leases, conditional writes,
forward-only cursors) and to stop halfway (every step is recorded before and after it runs).
"""

from __future__ import annotations

from woo_backend.bootstrap.balance import sync as balance_sync
from woo_backend.scheduled import scheduled_entrypoint

wired = balance_sync()

lambda_handler = scheduled_entrypoint("BalanceSync", wired.sync.run, watch=wired.watch, watched=True)
