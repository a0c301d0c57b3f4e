"""Wiring of the credits function (``api()``) and the credits sync (``sync()``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from woo_backend.services.credits import CreditsService
    from woo_backend.services.webhooks import WebhookWatch
    from woo_backend.settings import CreditsSettings, WebhookSettings


@dataclass(frozen=True)
class CreditsApi:
    """What the credits HTTP handler runs on."""

    service: CreditsService
    settings: CreditsSettings  # API keys, DOTIX_ERROR_STATUS
    webhook: WebhookSettings  # the order webhook's signing secret


@dataclass(frozen=True)
class CreditsSync:
    """What the scheduled credits sync runs on."""

    service: CreditsService
    watch: WebhookWatch | None  # the credits order webhook, checked on each run


def _service(settings: CreditsSettings) -> CreditsService:
    from woo_backend.aws import dynamodb_client
    from woo_backend.bootstrap.common import woocommerce
    from woo_backend.services.credits import CreditsService
    from woo_backend.store.credits import CreditsStore

    return CreditsService(CreditsStore(settings.table, dynamodb_client()), woocommerce(), meta_key=settings.meta_key)


def api() -> CreditsApi:
    from woo_backend.settings import CreditsSettings, WebhookSettings

    settings = CreditsSettings.from_env()
    webhook = WebhookSettings.from_env()
    return CreditsApi(service=_service(settings), settings=settings, webhook=webhook)


def sync() -> CreditsSync:
    from woo_backend.bootstrap.common import webhook_watch
    from woo_backend.services.webhooks import CREDITS_WEBHOOK_PATH
    from woo_backend.settings import CreditsSettings

    return CreditsSync(service=_service(CreditsSettings.from_env()), watch=webhook_watch([CREDITS_WEBHOOK_PATH]))
