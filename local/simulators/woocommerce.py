"""WooCommerce simulator: ``/wp-json/wc/v3`` orders and order notes, products, customers, coupons,
subscriptions, shipping methods and zones, and webhooks, with Basic auth, ``X-WP-Total``/``X-WP-TotalPages``
and signed webhook deliveries.

Like WooCommerce, it takes Basic auth only over TLS (so, as it serves plain HTTP, never) unless it is
constructed with ``local_mode=True`` (``make run`` and the test stack do; ``WOO_SIM_LOCAL_MODE=off`` turns
it off there). Its site time zone is ``site_timezone`` / ``WOO_SIM_TIMEZONE`` (default Europe/Paris).

It is composed of cooperating parts, each adding its routes, seed data and state through ``super()``:
``woo_shop`` (seed, auth, paging, products, customers), ``woo_orders`` (orders and order notes),
``woo_coupons``, ``woo_shipping`` (zones, locations, method instances), ``woo_subscription_rules``
(``WC_Subscription``'s own rules) and ``woo_subscriptions`` (its REST controller), ``woo_webhook_delivery``
(webhook objects, pings, signed deliveries, failure counting) and ``woo_webhooks`` (their REST controller).

Control endpoints besides the shared ones:
- ``POST /_sim/orders`` creates an order as ``POST /wc/v3/orders`` does: the JSON of the order (``id``,
  ``order_key``, ``customer_id``, ``status``, ``payment_method``, ``currency`` (default EUR), ``meta_data``),
  ``line_items`` with ``product_id`` and ``quantity`` and, optionally, ``name``, ``total`` and ``subtotal``
  (posted totals win over the product's price times the quantity); the order's ``total`` is the sum of its lines;
- ``POST /_sim/orders/{id}/status`` ``{"status": ..., "deliver": true}`` changes its status as the shop
  would (a change adds the order note "Order status changed from X to Y.") and, unless ``deliver`` is false (a webhook
  that never arrived), delivers ``order.updated`` to the registered webhooks at once, answering with what
  they answered;
- ``POST /_sim/subscriptions`` creates a subscription (see ``woo_subscriptions``).

``GET /_sim/state`` shows orders, ``order_notes`` (what ``/wc/v3/orders/{id}/notes`` lists), products,
customers, coupons, subscriptions and their notes, shipping zones, webhooks (with ``secret``,
``failure_count`` and ``pending_delivery``) and ``webhook_log``.
"""

from __future__ import annotations

from local.simulators.woo_coupons import WooCoupons
from local.simulators.woo_shop import CONSUMER_KEY, CONSUMER_SECRET, PREFIX
from local.simulators.woo_subscriptions import WooSubscriptions
from local.simulators.woo_webhooks import WEBHOOK_SECRET, WooWebhooks

__all__ = ["CONSUMER_KEY", "CONSUMER_SECRET", "PREFIX", "WEBHOOK_SECRET", "WooCommerceSimulator"]


class WooCommerceSimulator(WooWebhooks, WooSubscriptions, WooCoupons):
    """The whole simulated shop: each part adds its routes, seed data and state."""
