"""Balance payments against moto's DynamoDB: authorize (bound to its order) and void."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.integration.balance_fakes import TOKEN, Parts, hold, make_parts
from woo_backend.api import STATUS_BY_KIND
from woo_backend.domain.balance import (
    AmountMismatch,
    CurrencyMismatch,
    InsufficientBalance,
    OrderAlreadyPaid,
    OrderHasPayment,
    OrderNotFound,
    OrderNotPayable,
    PaymentNotVoidable,
    PaymentStatus,
    StaleHolds,
)
from woo_backend.errors import Busy
from woo_backend.woocommerce import Order


@pytest.fixture
def parts(aws: Any) -> Parts:
    return make_parts(aws)


def test_an_authorization_computed_on_moved_holds_is_refused_and_retried(parts: Any) -> None:
    # (Threads against moto in-process are not atomic; the concurrent version runs end to end.)
    service, _, _, _, store, _ = parts
    hold(parts, "tok-bob", 1000, "7.00")
    before = store.holds.get_holds("102")
    hold(parts, "tok-bob", 1001, "7.00")
    first = service.payment(store.payments.payment_id_for_order(1000), None)
    with pytest.raises(StaleHolds) as stale:
        store.payments.authorize(
            first.model_copy(update={"payment_id": "pay_" + "1" * 24, "order_id": 1002}),
            before,
            Decimal("14.00"),
            Decimal("20.00"),
        )
    assert stale.value.current is not None
    assert stale.value.current.held == Decimal("14.00")
    with pytest.raises(InsufficientBalance):
        hold(parts, "tok-bob", 1003, "7.00")
    assert store.holds.get_holds("102").held == Decimal("14.00")
    assert store.payments.payment_id_for_order(1002) is None  # the refused transaction wrote nothing


def test_holds_moved_by_other_payments_at_every_try_are_busy_not_a_short_balance(
    parts: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    service, _, _, _, store, _ = parts
    parts.shop.pending(1200, "5.00")
    monkeypatch.setattr("woo_backend.services.balance.sleep_backoff", lambda *args, **kwargs: None)

    def always_moved(*args: Any, **kwargs: Any) -> None:
        raise StaleHolds(store.holds.get_holds("101"))

    monkeypatch.setattr(store.payments, "authorize", always_moved)
    with pytest.raises(Busy) as busy:
        service.authorize(TOKEN, 1200, Decimal("5.00"))
    assert busy.value.code == "busy"
    assert STATUS_BY_KIND[busy.value.kind] == 503


def test_void_releases_the_hold_and_capture_after_void_is_refused(parts: Any) -> None:
    service, topomer, _, _, store, _ = parts
    auth = hold(parts, TOKEN, 49, "30.00")
    assert service.void(auth.payment_id, TOKEN).status is PaymentStatus.VOIDED
    assert store.holds.get_holds("101").held == 0
    assert service.void(auth.payment_id, TOKEN).status is PaymentStatus.VOIDED  # twice: no second release
    assert store.holds.get_holds("101").held == 0
    with pytest.raises(Exception, match="cannot be captured"):
        service.capture(auth.payment_id, TOKEN)
    assert topomer.writes == []


def test_void_after_capture_is_a_conflict(parts: Any) -> None:
    service, _, _, _, _, _ = parts
    auth = hold(parts, TOKEN, 49, "30.00")
    service.capture(auth.payment_id, TOKEN)
    with pytest.raises(PaymentNotVoidable):
        service.void(auth.payment_id, TOKEN)


def test_a_retried_authorization_of_a_paid_order_gets_the_first_even_when_the_rest_is_short(parts: Any) -> None:
    store = parts[4]
    first = hold(parts, TOKEN, 80, "100.00")  # 50.00 left: a second hold of 100 would not fit
    again = hold(parts, TOKEN, 80, "100.00")
    assert (again.payment_id, again.created) == (first.payment_id, False)
    assert store.holds.get_holds("101").held == Decimal("100.00")
    with pytest.raises(OrderHasPayment):
        hold(parts, "tok-bob", 80, "1.00")  # another customer cannot see or take it


# ------------------------------------------------------------------ payments bound to their order


@pytest.mark.parametrize(
    ("order", "amount", "refusal"),
    [
        (None, "30.00", OrderNotFound),
        (Order(id=90, status="processing", currency="EUR", total=Decimal("30.00")), "30.00", OrderAlreadyPaid),
        (
            Order(id=90, status="on-hold", currency="EUR", total=Decimal("30.00"), date_paid_gmt="2026-11-22T09:00:00"),
            "30.00",
            OrderAlreadyPaid,
        ),
        (Order(id=90, status="cancelled", currency="EUR", total=Decimal("30.00")), "30.00", OrderNotPayable),
        (Order(id=90, status="pending", currency="USD", total=Decimal("30.00")), "30.00", CurrencyMismatch),
        (Order(id=90, status="pending", currency="EUR", total=Decimal("30.00")), "29.99", AmountMismatch),
    ],
)
def test_an_authorization_for_an_order_it_does_not_match_holds_nothing(
    parts: Any, order: Order | None, amount: str, refusal: type[Exception]
) -> None:
    service, topomer, shop, _, store, _ = parts
    if order is not None:
        shop.orders[90] = order
    with pytest.raises(refusal):
        service.authorize(TOKEN, 90, Decimal(amount))
    assert store.holds.get_holds("101") is None
    assert store.payments.payment_id_for_order(90) is None
    assert topomer.writes == []


def test_a_retried_authorization_of_an_order_paid_since_gets_its_payment(parts: Any) -> None:
    service, _, shop, _, _, _ = parts
    first = hold(parts, TOKEN, 91, "30.00")
    service.capture(first.payment_id, TOKEN)
    shop.orders[91] = shop.orders[91].model_copy(update={"status": "processing", "date_paid_gmt": "2026-11-23T10:00"})
    again = service.authorize(TOKEN, 91, Decimal("30.00"))
    assert (again.payment_id, again.created, again.currency) == (first.payment_id, False, "EUR")
    with pytest.raises(OrderHasPayment):
        service.authorize("tok-bob", 91, Decimal("30.00"))
