"""The admin's codes: create, read, list, change and deactivate, each change pushed to both sides at once.

A code is never deleted: deactivating keeps the record (and drafts and expires the WooCommerce coupon), so
its history and both sides' ids stay.
"""

from __future__ import annotations

from datetime import datetime

from woo_backend.clock import Clock, utcnow
from woo_backend.domain.promo import (
    CodeChanged,
    CodeNotFound,
    PromoCode,
    changed,
    code_changes,
    new_code,
    normalize_code,
)
from woo_backend.errors import ConcurrentUpdate
from woo_backend.observability import metrics
from woo_backend.services.promo_ports import CodeStore, Pusher


class PromoCodes:
    def __init__(self, store: CodeStore, pusher: Pusher, clock: Clock = utcnow) -> None:
        self.store = store
        self.pusher = pusher
        self.clock = clock

    def create(
        self,
        code: str,
        percentage: str | int,
        *,
        promo_type: str = "manual",
        active: bool = True,
        expires_at: datetime | None = None,
        usage_limit: int | None = None,
    ) -> PromoCode:
        """A new code, checked and recorded (``DuplicateCode`` if it exists), then pushed to both sides."""
        record = new_code(
            code=code,
            percentage=percentage,
            promo_type=promo_type,
            active=active,
            expires_at=expires_at,
            usage_limit=usage_limit,
            now=self.clock(),
        )
        self.store.create(record)
        metrics.add_metric(name="PromoCodeCreated", unit="Count", value=1)
        return self.pusher.push(record.code, record) or record

    def get(self, code: str) -> PromoCode:
        normalized = normalize_code(code)
        found = self.store.get(normalized)
        if found is None:
            raise CodeNotFound(f"no promo code {normalized}")
        return found

    def list(
        self, limit: int, cursor: str | None, promo_type: str | None, active: bool | None
    ) -> tuple[list[PromoCode], str | None]:
        """Codes newest first, filtered; the cursor is the opaque ``next_cursor`` of the previous page."""
        return self.store.list_codes(limit, cursor, promo_type, active)

    def update(
        self,
        code: str,
        *,
        percentage: str | int | None = None,
        active: bool | None = None,
        expires_at: datetime | None = None,
        usage_limit: int | None = None,
    ) -> PromoCode:
        """Change the fields given (None leaves one as it is); ``ConcurrentUpdate`` if the code moved meanwhile."""
        fields = code_changes(
            percentage=percentage, active=active, expires_at=expires_at, usage_limit=usage_limit, now=self.clock()
        )
        return self._change(code, fields)

    def deactivate(self, code: str) -> PromoCode:
        """The record stays (and the coupon is drafted and expired in WooCommerce)."""
        return self._change(code, {"active": False})

    def _change(self, code: str, fields: dict[str, object]) -> PromoCode:
        current = self.get(code)
        if all(getattr(current, name) == value for name, value in fields.items()):
            return current  # nothing changes: no new version, nothing to push
        new = changed(current, self.clock(), **fields)
        try:
            self.store.save_change(new)
        except CodeChanged:
            raise ConcurrentUpdate("the code was changed meanwhile; read it and retry") from None
        return self.pusher.push(new.code, new) or new
