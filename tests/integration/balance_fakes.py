"""The balance service over moto's table with the shared fakes (tests.fakes) and a clock a test drives."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.fakes import TOKEN, Clock, FakeShop, FakeTopomer
from woo_backend.domain.balance import Authorization
from woo_backend.services.balance import BalanceService
from woo_backend.settings import BalanceSettings
from woo_backend.store.balance import PaymentsStore

__all__ = ["TOKEN", "Parts", "hold", "make_parts"]


Parts = tuple[BalanceService, FakeTopomer, FakeShop, Clock, PaymentsStore]


def make_parts(aws: Any) -> Parts:
    """The service over moto's table, with the fakes and the clock a test drives."""
    topomer, shop, clock = FakeTopomer(), FakeShop(), Clock()
    store = PaymentsStore("PaymentsTable", aws)
    settings = BalanceSettings(
        table="PaymentsTable",
        hold_ttl_minutes=Decimal(60),
        capture_retry_base_seconds=Decimal(0),
        capture_max_attempts=3,
    )
    return BalanceService(store, topomer, shop, settings, clock=clock), topomer, shop, clock, store


def hold(parts: Parts, token: str, order_id: int, amount: str) -> Authorization:
    """Authorize ``amount`` for a pending order of that total (the shop's order, if it has one already)."""
    service, _, shop, _, _ = parts
    shop.pending(order_id, amount)
    return service.authorize(token, order_id, Decimal(amount))
