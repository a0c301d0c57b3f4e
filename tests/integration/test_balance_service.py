"""Balance payments against moto's DynamoDB, with an in-memory Topomer that can fail at any step."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from woo_backend.domain.balance import (
    InsufficientBalance,
    OrderHasPayment,
    PaymentNotVoidable,
    PaymentStatus,
    StepName,
)
from woo_backend.errors import UpstreamNotFound, UpstreamUnavailable
from woo_backend.services.balance import BalanceService
from woo_backend.settings import BalanceSettings
from woo_backend.store.balance import PaymentsStore, StaleHolds
from woo_backend.topomer import ShopperBalance, TopomerOrder, TopomerUser
from woo_backend.woocommerce import Order

TOKEN = "tok-alice"


class FakeTopomer:
    """Topomer's behaviour: absolute balances; ``fail`` makes the next calls of a method fail.

    ``lost`` applies the change and then fails: the answer was lost on the way back.
    """

    def __init__(self) -> None:
        self.balances = {TOKEN: Decimal("150.00"), "tok-bob": Decimal("20.00")}
        self.ids = {TOKEN: 101, "tok-bob": 102}
        self.expired: set[str] = set()
        self.orders: dict[int, TopomerOrder] = {}
        self.writes: list[Decimal] = []
        self.fail: dict[str, int] = {}
        self.lost: dict[str, int] = {}

    def _maybe_fail(self, method: str, applied: bool) -> None:
        table = self.lost if applied else self.fail
        if table.get(method, 0) > 0:
            table[method] -= 1
            raise UpstreamUnavailable("topomer", f"{method} failed")

    def get_user_by_token(self, token: str) -> TopomerUser:
        self._maybe_fail("get_user_by_token", False)
        if token not in self.balances:
            raise UpstreamNotFound("topomer", "unknown token", status=404)
        return TopomerUser.model_validate(
            {"id": self.ids[token], "token": token, "solde": self.balances[token], "expired": token in self.expired}
        )

    def update_balance(self, token: str, user_id: int | str, new_balance: Decimal) -> None:
        self._maybe_fail("update_balance", False)
        self.balances[token] = new_balance
        self.writes.append(new_balance)
        self._maybe_fail("update_balance", True)

    def expire_token(self, token: str) -> None:
        self._maybe_fail("expire_token", False)
        self.expired.add(token)
        self._maybe_fail("expire_token", True)

    def record_order(self, order: TopomerOrder) -> None:
        self._maybe_fail("record_order", False)
        self.orders[order.order_id] = order
        self._maybe_fail("record_order", True)

    def shopper_balance(self, shopper_id: str, shopper_token: str) -> ShopperBalance:
        raise UpstreamNotFound("topomer", "unknown shopper", status=404)


class FakeShop:
    def __init__(self) -> None:
        self.orders: dict[int, Order] = {}

    def get_order(self, order_id: int) -> Order:
        if order_id not in self.orders:
            raise UpstreamNotFound("woocommerce", "no order", status=404)
        return self.orders[order_id]

    def orders_modified_after(self, modified_after_gmt: str) -> Iterable[Order]:
        return sorted(self.orders.values(), key=lambda o: o.date_modified_gmt or "")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def parts(aws: Any) -> tuple[BalanceService, FakeTopomer, FakeShop, Clock, PaymentsStore]:
    topomer, shop, clock = FakeTopomer(), FakeShop(), Clock()
    store = PaymentsStore("PaymentsTable", aws)
    settings = BalanceSettings(
        table="PaymentsTable",
        hold_ttl_minutes=Decimal(60),
        capture_retry_base_seconds=Decimal(0),
        capture_max_attempts=3,
    )
    return BalanceService(store, topomer, shop, settings, clock=clock), topomer, shop, clock, store


def test_capture_debits_once_and_releases_the_hold(parts: Any) -> None:
    service, topomer, _, _, store = parts
    auth = service.authorize(TOKEN, 49, Decimal("30.00"))
    assert auth.available_after == "120.00"
    payment = service.capture(auth.payment_id, TOKEN)
    assert payment.status is PaymentStatus.CAPTURED
    assert topomer.balances[TOKEN] == Decimal("120.00")
    assert TOKEN in topomer.expired
    assert 49 in topomer.orders
    holds = store.get_holds("101")
    assert holds.held == 0
    assert holds.expected_balance == Decimal("120.00")
    # Capturing again changes nothing.
    assert service.capture(auth.payment_id, TOKEN).status is PaymentStatus.CAPTURED
    assert topomer.writes == [Decimal("120.00")]


@pytest.mark.parametrize(
    ("method", "mode"),
    [("get_user_by_token", "fail")]  # a read has no effect to lose
    + [(m, mode) for m in ("update_balance", "expire_token", "record_order") for mode in ("fail", "lost")],
)
def test_a_failure_at_any_step_is_finished_by_the_sync_exactly_once(parts: Any, method: str, mode: str) -> None:
    service, topomer, _, _, _ = parts
    auth = service.authorize(TOKEN, 49, Decimal("30.00"))
    getattr(topomer, mode)[method] = 1
    first = service.capture(auth.payment_id, TOKEN)
    assert first.status is PaymentStatus.CAPTURE_PENDING
    counts = service.sync("run-1")
    assert counts.get("retry_captured") == 1
    final = service.payment(auth.payment_id, TOKEN)
    assert final.status is PaymentStatus.CAPTURED
    assert topomer.balances[TOKEN] == Decimal("120.00")
    assert all(w == Decimal("120.00") for w in topomer.writes)
    assert final.step(StepName.DEBIT).attempts >= 1


def test_after_too_many_failures_the_payment_needs_attention(parts: Any) -> None:
    service, topomer, _, _, _ = parts
    auth = service.authorize(TOKEN, 49, Decimal("30.00"))
    topomer.fail["expire_token"] = 10
    service.capture(auth.payment_id, TOKEN)
    service.sync("run-1")
    service.sync("run-2")
    payment = service.payment(auth.payment_id, TOKEN)
    assert payment.status is PaymentStatus.NEEDS_ATTENTION
    assert payment.step(StepName.EXPIRE_TOKEN).attempts == 3
    assert topomer.balances[TOKEN] == Decimal("120.00")  # the debit itself was done once


def test_a_balance_moved_outside_between_attempts_is_never_overwritten(parts: Any) -> None:
    service, topomer, _, _, _ = parts
    auth = service.authorize(TOKEN, 49, Decimal("30.00"))
    topomer.fail["update_balance"] = 1
    service.capture(auth.payment_id, TOKEN)
    topomer.balances[TOKEN] = Decimal("500.00")  # someone else wrote Topomer's balance meanwhile
    service.sync("run-1")
    assert service.payment(auth.payment_id, TOKEN).status is PaymentStatus.NEEDS_ATTENTION
    assert topomer.balances[TOKEN] == Decimal("500.00")


def test_an_authorization_computed_on_moved_holds_is_refused_and_retried(parts: Any) -> None:
    # (Threads against moto in-process are not atomic; the concurrent version runs end to end.)
    service, _, _, _, store = parts
    service.authorize("tok-bob", 1000, Decimal("7.00"))
    before = store.get_holds("102")
    service.authorize("tok-bob", 1001, Decimal("7.00"))
    first = service.payment(store.payment_id_for_order(1000), None)
    with pytest.raises(StaleHolds) as stale:
        store.authorize(
            first.model_copy(update={"payment_id": "pay_" + "1" * 24, "order_id": 1002}),
            before,
            Decimal("14.00"),
            Decimal("20.00"),
        )
    assert stale.value.current is not None
    assert stale.value.current.held == Decimal("14.00")
    with pytest.raises(InsufficientBalance):
        service.authorize("tok-bob", 1003, Decimal("7.00"))
    assert store.get_holds("102").held == Decimal("14.00")
    assert store.payment_id_for_order(1002) is None  # the refused transaction wrote nothing


def test_void_releases_the_hold_and_capture_after_void_is_refused(parts: Any) -> None:
    service, topomer, _, _, store = parts
    auth = service.authorize(TOKEN, 49, Decimal("30.00"))
    assert service.void(auth.payment_id, TOKEN).status is PaymentStatus.VOIDED
    assert store.get_holds("101").held == 0
    assert service.void(auth.payment_id, TOKEN).status is PaymentStatus.VOIDED  # twice: no second release
    assert store.get_holds("101").held == 0
    with pytest.raises(Exception, match="cannot be captured"):
        service.capture(auth.payment_id, TOKEN)
    assert topomer.writes == []


def test_void_after_capture_is_a_conflict(parts: Any) -> None:
    service, _, _, _, _ = parts
    auth = service.authorize(TOKEN, 49, Decimal("30.00"))
    service.capture(auth.payment_id, TOKEN)
    with pytest.raises(PaymentNotVoidable):
        service.void(auth.payment_id, TOKEN)


def test_the_sync_expires_old_holds(parts: Any) -> None:
    service, _, _, clock, store = parts
    auth = service.authorize(TOKEN, 49, Decimal("30.00"))
    service.sync("run-1")
    assert service.payment(auth.payment_id, None).status is PaymentStatus.AUTHORIZED
    clock.now += timedelta(minutes=61)
    assert service.sync("run-2").get("hold_expired") == 1
    assert service.payment(auth.payment_id, None).status is PaymentStatus.EXPIRED
    assert store.get_holds("101").held == 0
    assert service.sync("run-3").get("hold_expired") is None


def test_reconciliation_records_drift_once_per_run(parts: Any) -> None:
    service, topomer, _, clock, store = parts
    auth = service.authorize(TOKEN, 49, Decimal("30.00"))
    service.capture(auth.payment_id, TOKEN)
    assert service.sync("run-1").get("drift") == 0
    topomer.balances[TOKEN] = Decimal("125.00")  # Topomer credited 5.00 on its own
    topomer.expired.discard(TOKEN)  # and let the customer use the token again
    service.authorize(TOKEN, 50, Decimal("1.00"))  # activity since the last run
    clock.now += timedelta(minutes=5)
    assert service.sync("run-2")["drift"] == 1
    entries = store.drift_entries("101")
    assert [(e["expected"], e["actual"], e["difference"]) for e in entries] == [
        (Decimal("120.00"), Decimal("125.00"), Decimal("5.00"))
    ]
    assert service.sync("run-2")["drift"] == 0  # the same run again records nothing twice


def test_the_sync_captures_and_voids_from_polled_orders(parts: Any) -> None:
    service, topomer, shop, _, _ = parts
    paid = service.authorize(TOKEN, 60, Decimal("10.00"))
    dropped = service.authorize(TOKEN, 61, Decimal("5.00"))
    shop.orders[60] = Order(
        id=60, status="processing", payment_method="topomer", date_modified_gmt="2026-11-23T10:00:00"
    )
    shop.orders[61] = Order(
        id=61, status="cancelled", payment_method="topomer", date_modified_gmt="2026-11-23T10:00:01"
    )
    counts = service.sync("run-1")
    assert counts["order_captured"] == 1
    assert counts["order_voided"] == 1
    assert service.payment(paid.payment_id, None).status is PaymentStatus.CAPTURED
    assert service.payment(dropped.payment_id, None).status is PaymentStatus.VOIDED
    assert topomer.balances[TOKEN] == Decimal("140.00")
    service.sync("run-2")  # polled again: nothing moves twice
    assert topomer.writes == [Decimal("140.00")]


def test_a_debit_whose_answer_was_lost_is_settled_before_the_next_debit_of_the_user(parts: Any) -> None:
    service, topomer, _, _, store = parts
    first = service.authorize(TOKEN, 70, Decimal("30.00"))
    second = service.authorize(TOKEN, 71, Decimal("20.00"))
    topomer.lost["update_balance"] = 1  # Topomer applies 150 -> 120, the answer never arrives
    assert service.capture(first.payment_id, TOKEN).status is PaymentStatus.CAPTURE_PENDING
    # The second capture must not compute from 120 and leave the first one undecidable.
    assert service.capture(second.payment_id, TOKEN).status is PaymentStatus.CAPTURED
    assert service.payment(first.payment_id, None).step(StepName.DEBIT).status.value == "done"
    service.sync("run-1")
    assert service.payment(first.payment_id, None).status is PaymentStatus.CAPTURED
    assert topomer.balances[TOKEN] == Decimal("100.00")
    assert store.get_holds("101").held == 0


def test_a_retried_authorization_of_a_paid_order_gets_the_first_even_when_the_rest_is_short(parts: Any) -> None:
    service, _, _, _, store = parts
    first = service.authorize(TOKEN, 80, Decimal("100.00"))  # 50.00 left: a second hold of 100 would not fit
    again = service.authorize(TOKEN, 80, Decimal("100.00"))
    assert (again.payment_id, again.created) == (first.payment_id, False)
    assert store.get_holds("101").held == Decimal("100.00")
    with pytest.raises(OrderHasPayment):
        service.authorize("tok-bob", 80, Decimal("1.00"))  # another customer cannot see or take it
