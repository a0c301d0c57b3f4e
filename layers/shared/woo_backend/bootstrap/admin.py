"""Wiring of the admin function: one ``functools.cache`` builder per area, all run by ``api()`` at cold start.

Settings are read from the environment at cold start only (as every function does: the local runtime sets a
container's environment for its import alone), so ``api()`` runs every builder of this module then; the
routes call the same builders later and get the instances made at import.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from woo_backend.services.admin_credits import AdminCredits
    from woo_backend.services.admin_health import AdminHealth
    from woo_backend.services.admin_payments import AdminPayments
    from woo_backend.settings import AdminSettings
    from woo_backend.store.audit import AuditTrail


@functools.cache
def settings() -> AdminSettings:
    from woo_backend.settings import AdminSettings

    return AdminSettings.from_env()


@functools.cache
def audit() -> AuditTrail:
    from woo_backend.aws import dynamodb_client
    from woo_backend.settings import env
    from woo_backend.store.audit import AuditTrail

    return AuditTrail(env("ADMIN_TABLE"), dynamodb_client())


@functools.cache
def credits() -> AdminCredits:
    """The credits area: the credits function's service (reads) over the same store, without WooCommerce."""
    from woo_backend.aws import dynamodb_client
    from woo_backend.services.admin_credits import AdminCredits
    from woo_backend.services.credits import CreditsService
    from woo_backend.settings import CreditsSettings
    from woo_backend.store.credits import CreditsStore
    from woo_backend.store.credits_admin import CreditsReports

    table = CreditsSettings.from_env().table
    store = CreditsStore(table, dynamodb_client())
    return AdminCredits(CreditsService(store, None), store, CreditsReports(table, store.client), audit())


@functools.cache
def health() -> AdminHealth:
    """The health page: its own upstream clients, one attempt each within a short timeout (a probe must answer
    fast, not retry), over the sync runs, the syncs' cursors and the open counts."""
    from woo_backend.aws import dynamodb_client
    from woo_backend.http import ClientOptions, RetryPolicy
    from woo_backend.services.admin_health import DEADLINE_SECONDS, SYNC_PERIODS, AdminHealth, SyncSpec
    from woo_backend.services.balance_reconcile import RECONCILE_CURSOR
    from woo_backend.services.order_poll import ORDERS_CURSOR
    from woo_backend.services.webhooks import wanted_webhooks
    from woo_backend.settings import TopomerSettings, WebhookWatchSettings, WooCommerceSettings, env
    from woo_backend.store.cursors import SyncCursors
    from woo_backend.store.health_counts import HealthCounts
    from woo_backend.store.runs import SyncRuns
    from woo_backend.topomer import TopomerClient
    from woo_backend.woocommerce import WooCommerceClient

    client = dynamodb_client()
    probe: ClientOptions = {"retry": RetryPolicy(attempts=1), "timeout": DEADLINE_SECONDS}
    payments, credits_table = env("PAYMENTS_TABLE"), env("CREDITS_TABLE")
    syncs = [
        SyncSpec("credits-sync", SYNC_PERIODS["credits-sync"], SyncCursors(credits_table, client), (ORDERS_CURSOR,)),
        SyncSpec(
            "balance-sync",
            SYNC_PERIODS["balance-sync"],
            SyncCursors(payments, client),
            (ORDERS_CURSOR, RECONCILE_CURSOR),
        ),
        SyncSpec("promo-sync", SYNC_PERIODS["promo-sync"]),  # no cursor: its work list is the pending codes
    ]
    base_url = WebhookWatchSettings.from_env().base_url
    return AdminHealth(
        runs=SyncRuns(env("ADMIN_TABLE"), client),
        syncs=syncs,
        counts=HealthCounts(payments, env("PROMO_TABLE"), client),
        shop=WooCommerceClient(WooCommerceSettings.from_env(), **probe),
        wanted=wanted_webhooks(base_url) if base_url else [],
        topomer_probe=TopomerClient(TopomerSettings.from_env(), **probe).price_intervals,
    )


@functools.cache
def payments() -> AdminPayments:
    """The payments area: the balance function's stores and use cases (capture, void) and the console's lists."""
    from woo_backend.aws import dynamodb_client
    from woo_backend.bootstrap.balance import parts
    from woo_backend.bootstrap.common import topomer, woocommerce
    from woo_backend.clock import utcnow
    from woo_backend.services.admin_payments import AdminPayments
    from woo_backend.settings import BalanceSettings
    from woo_backend.store.payment_lists import PaymentLists

    balance = BalanceSettings.from_env()
    wired = parts(balance, dynamodb_client(), topomer(), woocommerce())
    return AdminPayments(
        wired.stores.payments,
        PaymentLists(balance.table, wired.stores.payments.client),
        wired.stores.holds,
        wired.stores.leases,
        wired.service,
        wired.sync.captures,
        wired.sync.order_hold,
        audit(),
        utcnow,
    )


def api() -> None:
    """Build every area's service now (every ``functools.cache`` builder defined in this module)."""
    for value in list(globals().values()):
        if callable(value) and hasattr(value, "cache_info") and getattr(value, "__module__", None) == __name__:
            value()
