"""What the promo services need of Topomer, WooCommerce and their DynamoDB store, and of each other.

Each service is typed against these, so it can be given the real clients and ``store.promo.PromoStore``
(wired in ``bootstrap.promo``) or the test fakes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol

from woo_backend.domain.promo import CartCode, Interval, PromoCode, Side, SideSync
from woo_backend.topomer import PriceInterval, TopomerPromo
from woo_backend.woocommerce import Coupon


# ------------------------------------------------------------------ upstream clients
class PromoTopomer(Protocol):
    """What promo needs of Topomer: its price intervals, and its promos."""

    def price_intervals(self) -> list[PriceInterval]: ...

    def create_promo(self, code: str, percentage: Decimal, promo_type: str) -> TopomerPromo: ...

    def update_promo(self, promo_id: int | str, fields: dict[str, Any]) -> None: ...


class PromoShop(Protocol):
    """What promo needs of WooCommerce: its coupons."""

    def create_coupon(self, data: dict[str, Any]) -> Coupon: ...

    def update_coupon(self, coupon_id: int, data: dict[str, Any]) -> Coupon: ...

    def find_coupon(self, code: str) -> Coupon | None: ...


# ------------------------------------------------------------------ the store
class CodeStore(Protocol):
    """Code records: each change conditioned on the version read, and put on the sync's work list with it."""

    def get(self, code: str) -> PromoCode | None: ...

    def create(
        self,
        code: PromoCode,
        *,
        cart: CartCode | None = None,
        cart_expected_version: int | None = None,
        retired: PromoCode | None = None,
    ) -> None:
        """``DuplicateCode`` if it exists; ``CartMoved`` / ``CodeChanged`` if the cart or ``retired`` moved."""

    def save_change(self, changed: PromoCode) -> None:
        """``CodeChanged`` if the record moved past ``changed.version - 1`` meanwhile."""

    def list_codes(
        self, limit: int, cursor: str | None, promo_type: str | None, active: bool | None
    ) -> tuple[list[PromoCode], str | None]: ...


class QuoteStore(CodeStore, Protocol):
    """Code records plus each cart's pointer to its code and the last good copy of the intervals."""

    def get_cart(self, cart_id: str) -> CartCode | None: ...

    def save_intervals(self, intervals: list[Interval], fetched_at: str) -> None: ...

    def last_intervals(self) -> tuple[list[Interval], str] | None: ...


class SyncStore(Protocol):
    """Each side's progress on a record, the one-create claim, and the work list."""

    def get(self, code: str) -> PromoCode | None: ...

    def record_side(self, code: str, side: Side, state: SideSync, *, synced: bool) -> PromoCode | None: ...

    def claim_create(self, code: str, side: Side, seen_attempts: int, started_at: str) -> bool: ...

    def clear_pending(self, code: str, synced_version: int) -> None: ...

    def pending_codes(self) -> list[str]: ...


# ------------------------------------------------------------------ between the services
class Pusher(Protocol):
    """Brings both sides up to a record just written (``services.promo_sync.PromoSync``)."""

    def push(self, code: str, record: PromoCode | None = None) -> PromoCode | None: ...
