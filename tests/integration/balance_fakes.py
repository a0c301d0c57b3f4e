"""The balance use cases over moto's table, wired as ``bootstrap.balance`` wires them, with the shared fakes
(tests.fakes) and a clock a test drives."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NamedTuple

from tests.fakes import TOKEN, Clock, FakeShop, FakeTopomer
from woo_backend.bootstrap.balance import BalanceStores, parts
from woo_backend.domain.balance import Authorization
from woo_backend.services.balance import BalanceService
from woo_backend.services.balance_sync import BalanceSync
from woo_backend.settings import BalanceSettings

__all__ = ["TOKEN", "Parts", "hold", "make_parts"]


class Parts(NamedTuple):
    service: BalanceService
    topomer: FakeTopomer
    shop: FakeShop
    clock: Clock
    store: BalanceStores
    sync: BalanceSync  # its ``order_events`` are the webhook's


def make_parts(aws: Any) -> Parts:
    """The use cases over moto's table, with the fakes and the clock a test drives."""
    topomer, shop, clock = FakeTopomer(), FakeShop(), Clock()
    settings = BalanceSettings(
        table="PaymentsTable",
        hold_ttl_minutes=Decimal(60),
        capture_retry_base_seconds=Decimal(0),
        capture_max_attempts=3,
    )
    wired = parts(settings, aws, topomer, shop, clock)
    return Parts(wired.service, topomer, shop, clock, wired.stores, wired.sync)


def hold(parts: Parts, token: str, order_id: int, amount: str) -> Authorization:
    """Authorize ``amount`` for a pending order of that total (the shop's order, if it has one already)."""
    parts.shop.pending(order_id, amount)
    return parts.service.authorize(token, order_id, Decimal(amount))
