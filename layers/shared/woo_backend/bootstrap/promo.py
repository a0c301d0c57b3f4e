"""Wiring of the promo functions: the API (``api()``) and the scheduled sync (``sync()``).

``services()`` wires the three promo services over any store and clients (the tests give it moto's DynamoDB
and fakes); ``api()`` and ``sync()`` give it the real ones, from the environment, once per container.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from woo_backend.clock import utcnow

if TYPE_CHECKING:
    from woo_backend.clock import Clock
    from woo_backend.services.promo_codes import PromoCodes
    from woo_backend.services.promo_ports import PromoShop, PromoTopomer
    from woo_backend.services.promo_quotes import PromoQuotes
    from woo_backend.services.promo_sync import PromoSync
    from woo_backend.settings import AdminSettings
    from woo_backend.store.audit import AuditTrail
    from woo_backend.store.promo import PromoStore


@dataclass(frozen=True)
class PromoServices:
    quotes: PromoQuotes
    codes: PromoCodes
    sync: PromoSync


@dataclass(frozen=True)
class PromoApi:
    """What the promo API's handler needs."""

    quotes: PromoQuotes
    codes: PromoCodes
    admin: AdminSettings
    audit: AuditTrail  # the admin's changes of codes (shown by the admin console)


def services(
    store: PromoStore,
    topomer: PromoTopomer,
    shop: PromoShop,
    *,
    ttl: timedelta,
    clock: Clock = utcnow,
    intervals_cache_seconds: float | None = None,
) -> PromoServices:
    """Quotes and admin codes, both pushing through one ``PromoSync``."""
    from woo_backend.services.promo_codes import PromoCodes
    from woo_backend.services.promo_quotes import INTERVALS_CACHE_SECONDS, PromoQuotes
    from woo_backend.services.promo_sync import PromoSync

    sync = PromoSync(store, topomer, shop, clock)
    cache = INTERVALS_CACHE_SECONDS if intervals_cache_seconds is None else intervals_cache_seconds
    return PromoServices(
        quotes=PromoQuotes(store, topomer, sync, ttl, clock, intervals_cache_seconds=cache),
        codes=PromoCodes(store, sync, clock),
        sync=sync,
    )


def _from_env() -> PromoServices:
    from woo_backend.aws import dynamodb_client
    from woo_backend.bootstrap.common import topomer, woocommerce
    from woo_backend.settings import PromoSettings
    from woo_backend.store.promo import PromoStore

    settings = PromoSettings.from_env()
    return services(
        PromoStore(settings.table, dynamodb_client()),
        topomer(),
        woocommerce(),
        ttl=timedelta(hours=float(settings.ttl_hours)),
        intervals_cache_seconds=float(settings.intervals_cache_seconds),
    )


def api() -> PromoApi:
    from woo_backend.aws import dynamodb_client
    from woo_backend.settings import AdminSettings, env
    from woo_backend.store.audit import AuditTrail

    wired = _from_env()
    audit = AuditTrail(env("ADMIN_TABLE"), dynamodb_client())
    return PromoApi(quotes=wired.quotes, codes=wired.codes, admin=AdminSettings.from_env(), audit=audit)


def sync() -> PromoSync:
    """The scheduled sync's one service: it pushes every code with a side behind its record."""
    return _from_env().sync
