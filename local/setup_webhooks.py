"""``make setup-webhooks`` / ``python -m local.setup_webhooks``: create, in a WooCommerce shop, the webhooks
this service needs, idempotently.

For each receiving route (``/credits/webhooks/order``, ``/balance/webhooks/order``) and each topic
(``order.created``, ``order.updated``): a webhook with that topic and delivery URL is created when the
shop has none; one that exists (any status) gets our secret, its name and ``active`` (turning a
disabled one back on). Running it twice changes nothing more. WooCommerce pings a webhook's URL when it
is created, so the service must already be deployed and reachable at the base URL.

Reads WOOCOMMERCE_URL, WOOCOMMERCE_CONSUMER_KEY, WOOCOMMERCE_CONSUMER_SECRET (a key with read/write
access), WOOCOMMERCE_WEBHOOK_SECRET and the base URL (``--base-url``, else WEBHOOK_BASE_URL). Secrets are
never printed.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import httpx

from woo_backend.errors import UpstreamError
from woo_backend.services.webhooks import WEBHOOK_PATHS, SetupAction, ensure_webhooks, wanted_webhooks
from woo_backend.settings import ConfigurationError, WooCommerceSettings, secret
from woo_backend.woocommerce import WooCommerceClient

# Creating a webhook waits for WooCommerce's ping of the delivery URL (up to 5 s on its side).
SETUP_TIMEOUT = httpx.Timeout(connect=5.0, read=60.0, write=10.0, pool=5.0)


def setup(base_url: str, webhook_secret: str, paths: Sequence[str] = WEBHOOK_PATHS) -> list[SetupAction]:
    """Make the shop's webhooks for ``paths`` under ``base_url`` exist and be active, with ``webhook_secret``."""
    client = WooCommerceClient(WooCommerceSettings.from_env(), timeout=SETUP_TIMEOUT)
    try:
        return ensure_webhooks(client, wanted_webhooks(base_url, paths), webhook_secret)
    finally:
        client.close()


def describe(actions: Sequence[SetupAction]) -> str:
    lines = []
    for act in actions:
        was = f" (was {act.previous_status})" if act.previous_status and act.previous_status != act.status else ""
        lines.append(f"{act.action:8} #{act.webhook_id:<5} {act.topic:14} {act.delivery_url}  {act.status}{was}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.setup_webhooks", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--base-url",
        default=os.environ.get("WEBHOOK_BASE_URL", ""),
        help="the service's public base URL (default: $WEBHOOK_BASE_URL), e.g. https://api.example.com",
    )
    args = parser.parse_args(argv)
    base_url = str(args.base_url).strip().rstrip("/")
    if not base_url.startswith(("https://", "http://")):
        parser.error("give the service's public base URL: --base-url https://... (or set WEBHOOK_BASE_URL)")
    try:
        webhook_secret = secret("WOOCOMMERCE_WEBHOOK_SECRET")
        assert webhook_secret is not None
        actions = setup(base_url, webhook_secret.get_secret_value())
    except ConfigurationError as exc:
        print(f"setup-webhooks: {exc}", file=sys.stderr)
        return 2
    except UpstreamError as exc:
        print(f"setup-webhooks: WooCommerce refused or failed: {exc}", file=sys.stderr)
        print("Nothing is duplicated by running it again.", file=sys.stderr)
        return 1
    print(describe(actions))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
