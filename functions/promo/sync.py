"""Scheduled promo sync (EventBridge Scheduler, every 5 minutes; on demand locally).

Pushes every code whose WooCommerce coupon or Topomer promo is behind its record. Safe to run twice at
once (each side's progress only moves forward) and to stop halfway (the work list is in DynamoDB).
"""

from __future__ import annotations

from woo_backend.bootstrap import promo as bootstrap
from woo_backend.scheduled import scheduled_entrypoint

sync = bootstrap.sync()


lambda_handler = scheduled_entrypoint("PromoSync", lambda _run: sync.sync_pending())
