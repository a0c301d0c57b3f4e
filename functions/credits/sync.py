"""Scheduled credits sync (EventBridge Scheduler, every 5 minutes).

WooCommerce never redelivers a failed webhook, so this run lists the orders modified since the last
one and applies the same idempotent grant/revoke as the webhook. Safe to run twice at once (grants
are conditional, the cursor only moves forward) and to stop halfway (the cursor moves at the end).
"""

from __future__ import annotations

from woo_backend.bootstrap.common import webhook_watch, woocommerce
from woo_backend.scheduled import scheduled_entrypoint
from woo_backend.services.credits import CreditsService
from woo_backend.services.webhooks import CREDITS_WEBHOOK_PATH
from woo_backend.settings import CreditsSettings
from woo_backend.store.credits import CreditsStore

settings = CreditsSettings.from_env()
service = CreditsService(CreditsStore(settings.table), woocommerce(), meta_key=settings.meta_key)

lambda_handler = scheduled_entrypoint(
    "CreditsSync", lambda _run: service.sync_orders(), watch=webhook_watch([CREDITS_WEBHOOK_PATH]), watched=True
)
