"""Fakes for the balance service tests: Topomer and WooCommerce in memory, failing on demand, and a clock."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from woo_backend.domain.balance import Authorization
from woo_backend.errors import UpstreamNotFound, UpstreamUnavailable
from woo_backend.http import UpstreamOutcomeUnknown
from woo_backend.services.balance import BalanceService
from woo_backend.settings import BalanceSettings
from woo_backend.store.balance import PaymentsStore
from woo_backend.topomer import ShopperBalance, TopomerOrder, TopomerUser
from woo_backend.woocommerce import Order, OrderNote

TOKEN = "tok-alice"


class FakeTopomer:
    """Topomer's behaviour: absolute balances; ``fail`` makes the next calls of a method fail.

    ``lost`` applies the change and then fails: the answer was lost on the way back (for the order report,
    a POST the client does not repeat, that is ``UpstreamOutcomeUnknown``). ``ignored`` answers "taken"
    without applying anything: only reading back can tell. Order reports are not deduplicated: every
    report taken is kept, with its ``Idempotency-Key``.
    """

    def __init__(self) -> None:
        self.balances = {TOKEN: Decimal("150.00"), "tok-bob": Decimal("20.00")}
        self.ids = {TOKEN: 101, "tok-bob": 102}
        self.expired: set[str] = set()
        self.reports: list[tuple[TopomerOrder, str]] = []
        self.writes: list[Decimal] = []
        self.fail: dict[str, int] = {}
        self.lost: dict[str, int] = {}
        self.ignored: dict[str, int] = {}

    @property
    def orders(self) -> dict[int, TopomerOrder]:
        return {order.order_id: order for order, _ in self.reports}

    def _maybe_fail(self, method: str, applied: bool) -> None:
        table = self.lost if applied else self.fail
        if table.get(method, 0) > 0:
            table[method] -= 1
            if applied and method == "record_order":
                raise UpstreamOutcomeUnknown("topomer", f"{method}: no answer")
            raise UpstreamUnavailable("topomer", f"{method} failed")

    def _ignores(self, method: str) -> bool:
        if self.ignored.get(method, 0) > 0:
            self.ignored[method] -= 1
            return True
        return False

    def get_user_by_token(self, token: str) -> TopomerUser:
        self._maybe_fail("get_user_by_token", False)
        if token not in self.balances:
            raise UpstreamNotFound("topomer", "unknown token", status=404)
        # Only what the service reads: no token echoed, no email.
        return TopomerUser.model_validate(
            {"id": self.ids[token], "solde": self.balances[token], "expired": token in self.expired, "email": None}
        )

    def update_balance(self, token: str, user_id: int | str, new_balance: Decimal) -> None:
        self._maybe_fail("update_balance", False)
        if self._ignores("update_balance"):
            return
        self.balances[token] = new_balance
        self.writes.append(new_balance)
        self._maybe_fail("update_balance", True)

    def expire_token(self, token: str) -> None:
        self._maybe_fail("expire_token", False)
        if self._ignores("expire_token"):
            return
        self.expired.add(token)
        self._maybe_fail("expire_token", True)

    def record_order(self, order: TopomerOrder, idempotency_key: str) -> None:
        self._maybe_fail("record_order", False)
        self.reports.append((order, idempotency_key))
        self._maybe_fail("record_order", True)

    def shopper_balance(self, shopper_id: str, shopper_token: str) -> ShopperBalance:
        raise UpstreamNotFound("topomer", "unknown shopper", status=404)


class FakeShop:
    """WooCommerce's orders and their notes; ``fail`` makes the next calls of a method fail, ``lost`` after
    the change was made (notes are never deduplicated, as in WooCommerce)."""

    def __init__(self) -> None:
        self.orders: dict[int, Order] = {}
        self.notes: dict[int, list[OrderNote]] = {}
        self.fail: dict[str, int] = {}
        self.lost: dict[str, int] = {}

    def _maybe_fail(self, method: str, applied: bool) -> None:
        table = self.lost if applied else self.fail
        if table.get(method, 0) > 0:
            table[method] -= 1
            raise UpstreamUnavailable("woocommerce", f"{method} failed")

    def pending(self, order_id: int, total: str, currency: str = "EUR") -> Order:
        """A Topomer order waiting for its payment (kept as it is if the shop has it already)."""
        order = Order(id=order_id, status="pending", payment_method="topomer", currency=currency, total=Decimal(total))
        return self.orders.setdefault(order_id, order)

    def get_order(self, order_id: int) -> Order:
        self._maybe_fail("get_order", False)
        if order_id not in self.orders:
            raise UpstreamNotFound("woocommerce", "no order", status=404)
        return self.orders[order_id]

    def update_order(self, order_id: int, data: Mapping[str, Any]) -> Order:
        self._maybe_fail("update_order", False)
        self.orders[order_id] = self.orders[order_id].model_copy(update=dict(data))
        self._maybe_fail("update_order", True)
        return self.orders[order_id]

    def order_notes(self, order_id: int) -> list[OrderNote]:
        self._maybe_fail("order_notes", False)
        return list(reversed(self.notes.get(order_id, [])))

    def add_order_note(self, order_id: int, note: str) -> OrderNote:
        self._maybe_fail("add_order_note", False)
        entry = OrderNote(id=len(self.notes.get(order_id, [])) + 1, note=note)
        self.notes.setdefault(order_id, []).append(entry)
        self._maybe_fail("add_order_note", True)
        return entry

    def orders_modified_after(self, modified_after_gmt: str) -> Iterable[Order]:
        return sorted(self.orders.values(), key=lambda o: o.date_modified_gmt or "")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


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
