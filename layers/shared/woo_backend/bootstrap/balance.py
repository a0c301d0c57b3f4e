"""Wiring of the balance function (``api()``) and the balance sync (``sync()``).

``parts()`` builds the stores and use cases over one DynamoDB client and one Topomer and WooCommerce client;
the builders give it the container's, the integration tests give it moto's and fakes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from woo_backend.clock import utcnow

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
    from mypy_boto3_dynamodb import DynamoDBClient

    from woo_backend.clock import Clock
    from woo_backend.services.balance import BalanceService
    from woo_backend.services.balance_ports import OrdersApi, TopomerApi
    from woo_backend.services.balance_sync import BalanceSync, OrderEvents
    from woo_backend.services.webhooks import WebhookWatch
    from woo_backend.settings import BalanceSettings, WebhookSettings
    from woo_backend.store.cursors import SyncCursors
    from woo_backend.store.holds import HoldsStore
    from woo_backend.store.leases import LeaseStore
    from woo_backend.store.payments import PaymentsStore

# An authorization's answer is kept a day: a checkout retried later gets the order's payment (200) instead.
IDEMPOTENCY_EXPIRY_SECONDS = 24 * 3600


@dataclass(frozen=True)
class BalanceStores:
    payments: PaymentsStore
    holds: HoldsStore
    leases: LeaseStore
    cursors: SyncCursors


@dataclass(frozen=True)
class BalanceParts:
    """The use cases over one set of stores and clients."""

    stores: BalanceStores
    service: BalanceService
    order_events: OrderEvents  # the order webhook's and the poll's handling of an order
    sync: BalanceSync


@dataclass(frozen=True)
class BalanceApi:
    """What the balance HTTP handler runs on."""

    service: BalanceService
    order_events: OrderEvents
    settings: BalanceSettings
    webhook: WebhookSettings  # the order webhook's signing secret
    idempotency: BasePersistenceLayer  # the authorizations' idempotency records
    idempotency_config: IdempotencyConfig


@dataclass(frozen=True)
class BalanceSyncJob:
    """What the scheduled balance sync runs on."""

    sync: BalanceSync
    watch: WebhookWatch | None  # the balance order webhook, checked on each run


def parts(
    settings: BalanceSettings, client: DynamoDBClient, topomer: TopomerApi, orders: OrdersApi, clock: Clock = utcnow
) -> BalanceParts:
    from woo_backend.services.balance import BalanceService
    from woo_backend.services.balance_reconcile import Reconciliation
    from woo_backend.services.balance_sync import BalanceSync, OrderEvents
    from woo_backend.services.capture import CaptureRunner
    from woo_backend.services.order_hold import OrderHold
    from woo_backend.store.cursors import SyncCursors
    from woo_backend.store.holds import HoldsStore
    from woo_backend.store.leases import LeaseStore
    from woo_backend.store.payments import PaymentsStore

    stores = BalanceStores(
        payments=PaymentsStore(settings.table, client),
        holds=HoldsStore(settings.table, client),
        leases=LeaseStore(settings.table, client),
        cursors=SyncCursors(settings.table, client),
    )
    order_hold = OrderHold(stores.payments, stores.leases, orders, settings, clock)
    captures = CaptureRunner(stores.payments, stores.leases, topomer, orders, settings, clock, order_hold)
    service = BalanceService(stores.payments, stores.holds, captures, topomer, orders, settings, clock)
    order_events = OrderEvents(service, stores.payments)
    reconciliation = Reconciliation(stores.holds, stores.leases, stores.cursors, topomer, clock)
    sync = BalanceSync(
        stores.payments, captures, order_hold, order_events, reconciliation, orders, stores.cursors, clock
    )
    return BalanceParts(stores=stores, service=service, order_events=order_events, sync=sync)


def _container_parts(settings: BalanceSettings) -> BalanceParts:
    from woo_backend.aws import dynamodb_client
    from woo_backend.bootstrap.common import topomer, woocommerce

    return parts(settings, dynamodb_client(), topomer(), woocommerce())


def api() -> BalanceApi:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig

    from woo_backend.aws import dynamodb_client
    from woo_backend.settings import BalanceSettings, ConfigurationError, WebhookSettings

    settings = BalanceSettings.from_env()
    if settings.idempotency_table is None:
        raise ConfigurationError("environment variable IDEMPOTENCY_TABLE is not set")
    wired = _container_parts(settings)
    config = IdempotencyConfig(
        event_key_jmespath="idempotency_key",
        # The same key with another body is refused rather than answered with the first body's result.
        payload_validation_jmespath="[token, order_id, amount]",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=IDEMPOTENCY_EXPIRY_SECONDS,
    )
    return BalanceApi(
        service=wired.service,
        order_events=wired.order_events,
        settings=settings,
        webhook=WebhookSettings.from_env(),
        idempotency=DynamoDBPersistenceLayer(table_name=settings.idempotency_table, boto3_client=dynamodb_client()),
        idempotency_config=config,
    )


def sync() -> BalanceSyncJob:
    from woo_backend.bootstrap.common import webhook_watch
    from woo_backend.services.webhooks import BALANCE_WEBHOOK_PATH
    from woo_backend.settings import BalanceSettings

    wired = _container_parts(BalanceSettings.from_env())
    return BalanceSyncJob(sync=wired.sync, watch=webhook_watch([BALANCE_WEBHOOK_PATH]))
