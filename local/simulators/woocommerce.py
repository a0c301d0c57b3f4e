"""WooCommerce simulator: ``/wp-json/wc/v3`` orders, products, customers, coupons, subscriptions and
shipping methods, with Basic auth, ``X-WP-Total``/``X-WP-TotalPages`` and signed webhook deliveries.

Like WooCommerce, it takes Basic auth only over TLS (so, as it serves plain HTTP, never) unless it is
constructed with ``local_mode=True`` (``make run`` and the test stack do; ``WOO_SIM_LOCAL_MODE=off`` turns
it off there). Its site time zone is ``site_timezone`` / ``WOO_SIM_TIMEZONE`` (default Europe/Paris).

Control endpoints besides the shared ones:
- ``POST /_sim/orders`` creates an order (the JSON of the order, ``line_items`` with ``product_id`` and
  ``quantity``); ``POST /_sim/orders/{id}/status`` ``{"status": ..., "deliver": true}`` changes its status
  as the shop would and, unless ``deliver`` is false (a webhook that never arrived), delivers
  ``order.updated`` to the registered webhooks at once, answering with what they answered;
- ``POST /_sim/webhooks`` ``{"topic": "order.updated", "delivery_url": ..., "secret": ...}``.
"""

from __future__ import annotations

from local.simulators.woo_coupons import WooCoupons
from local.simulators.woo_shop import CONSUMER_KEY, CONSUMER_SECRET, PREFIX
from local.simulators.woo_subscriptions import WooSubscriptions
from local.simulators.woo_webhooks import WEBHOOK_SECRET, WooWebhooks

__all__ = ["CONSUMER_KEY", "CONSUMER_SECRET", "PREFIX", "WEBHOOK_SECRET", "WooCommerceSimulator"]


class WooCommerceSimulator(WooWebhooks, WooSubscriptions, WooCoupons):
    """The whole simulated shop: each part adds its routes, seed data and state."""
