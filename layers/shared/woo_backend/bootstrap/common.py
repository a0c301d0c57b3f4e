"""Builders several functions share; each makes its object once per container."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from woo_backend.services.webhooks import WebhookClient, WebhookWatch
    from woo_backend.topomer import TopomerClient
    from woo_backend.woocommerce import WooCommerceClient


@functools.cache
def woocommerce() -> WooCommerceClient:
    from woo_backend.settings import WooCommerceSettings
    from woo_backend.woocommerce import WooCommerceClient

    return WooCommerceClient(WooCommerceSettings.from_env())


@functools.cache
def topomer() -> TopomerClient:
    from woo_backend.settings import TopomerSettings
    from woo_backend.topomer import TopomerClient

    return TopomerClient(TopomerSettings.from_env())


def webhook_watch(paths: Iterable[str], shop: WebhookClient | None = None) -> WebhookWatch | None:
    """The watch over this sync's webhooks; ``None`` when ``WEBHOOK_BASE_URL`` is not set (the template
    always sets it). ``shop``: the sync's own WooCommerce client (the container's one by default)."""
    from woo_backend.services.webhooks import WebhookWatch, wanted_webhooks
    from woo_backend.settings import WebhookWatchSettings

    settings = WebhookWatchSettings.from_env()
    if settings.base_url is None:
        return None
    return WebhookWatch(shop if shop is not None else woocommerce(), wanted_webhooks(settings.base_url, paths))
