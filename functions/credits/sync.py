"""Scheduled credits sync (EventBridge Scheduler, every 5 minutes).

WooCommerce never redelivers a failed webhook, so this run lists the orders modified since the last
one and applies the same idempotent grant/revoke as the webhook. Safe to run twice at once (grants
are conditional, the cursor only moves forward) and to stop halfway (the cursor moves at the end).
"""

from __future__ import annotations

from woo_backend.bootstrap import credits
from woo_backend.scheduled import scheduled_entrypoint

wired = credits.sync()

lambda_handler = scheduled_entrypoint(
    "CreditsSync", lambda _run: wired.service.sync_orders(), watch=wired.watch, watched=True
)
