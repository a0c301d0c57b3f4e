"""Wiring of the account function (the "my account" action API)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from woo_backend.services.account.service import AccountService
    from woo_backend.settings import AccountSettings


@dataclass(frozen=True)
class AccountApi:
    """What the account handler runs on: the service, and the settings it authenticates requests with."""

    service: AccountService
    settings: AccountSettings


def api() -> AccountApi:
    """The account service on the container's WooCommerce client, SES (its client made on the first mail: most
    requests never send one) and the mail quota in the account table."""
    from woo_backend.aws import dynamodb_client, ses_client
    from woo_backend.bootstrap.common import woocommerce
    from woo_backend.mail import SesMailer
    from woo_backend.services.account.service import AccountService
    from woo_backend.settings import AccountSettings
    from woo_backend.store.account import MailQuotaStore

    settings = AccountSettings.from_env()
    service = AccountService(
        woocommerce(),
        SesMailer(settings.mail_sender, settings.merchant_email, ses_client),
        MailQuotaStore(settings.table, dynamodb_client()),
        settings.mail_rate_limit_per_hour,
    )
    return AccountApi(service=service, settings=settings)
