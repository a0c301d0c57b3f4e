"""What the account use cases need of the world outside, as Protocols: WooCommerce, the mailer and the hourly
mail quota. ``bootstrap.account`` plugs in the real ones (``WooCommerceClient``, ``SesMailer``,
``MailQuotaStore``); tests plug in fakes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from woo_backend.domain.account.mail import MerchantMail

Json = dict[str, Any]


class AccountShop(Protocol):
    """What the account API needs of WooCommerce (``wc/v3``)."""

    def list_page(self, path: str, params: Mapping[str, Any] | None = None) -> tuple[list[Json], int, int]: ...

    def get_object(self, path: str, params: Mapping[str, Any] | None = None) -> Json: ...

    def write_object(
        self, method: str, path: str, data: Mapping[str, Any], *, repeatable: bool | None = None
    ) -> Json: ...


class Mailer(Protocol):
    def send(self, mail: MerchantMail) -> str:
        """Send ``mail`` to the merchant; the provider's message id."""
        ...


class MailQuota(Protocol):
    def take(self, uid: int, window: datetime, limit: int) -> bool:
        """Count one mail against the hour of ``window``; False when ``limit`` is reached."""
        ...

    def give_back(self, uid: int, window: datetime) -> None:
        """Uncount a mail that was not sent."""
        ...
