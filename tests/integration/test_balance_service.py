"""Balance payments against moto's DynamoDB: authorize (bound to its order) and void."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tests.fakes import sample_payment
from tests.integration.balance_fakes import TOKEN, Parts, hold, make_parts
from woo_backend.api import STATUS_BY_KIND
from woo_backend.domain.balance import (
    AmountMismatch,
    CurrencyMismatch,
    HoldRefused,
    InsufficientBalance,
    OrderAlreadyPaid,
    OrderHasPayment,
    OrderHasPaymentRecord,
    OrderNotFound,
    OrderNotPayable,
    OrderReserved,
    Payment,
    PaymentInProgress,
    PaymentNotVoidable,
    PaymentStatus,
)
from woo_backend.errors import Busy
from woo_backend.store.holds import HoldsStore
from woo_backend.store.payments import PaymentsStore
from woo_backend.store.payments_table import CONFLICT_ATTEMPTS
from woo_backend.woocommerce import Order


@pytest.fixture
def parts(aws: Any) -> Parts:
    return make_parts(aws)


def test_a_hold_that_does_not_fit_is_refused_by_the_write_and_leaves_nothing(parts: Any) -> None:
    # (Threads against moto in-process are not atomic; the concurrent version runs end to end.)
    _, _, _, _, store, _ = parts
    hold(parts, "tok-bob", 1000, "7.00")
    hold(parts, "tok-bob", 1001, "7.00")
    with pytest.raises(InsufficientBalance, match=r"available balance 6\.00 is less than 7\.00"):
        hold(parts, "tok-bob", 1002, "7.00")
    assert store.holds.get_holds("102").held == Decimal("14.00")
    assert store.payments.payment_id_for_order(1002) is None
    open_ids = {p.payment_id for p in store.payments.open_payments(PaymentStatus.AUTHORIZED)}
    assert open_ids == {
        store.payments.payment_id_for_order(order) for order in (1000, 1001)
    }  # the refused payment was deleted


def test_a_reservation_is_recorded_once_per_order_and_a_retried_write_is_recognised(parts: Any) -> None:
    service, _, _, _, store, _ = parts
    first = hold(parts, TOKEN, 1100, "5.00")
    payment = service.payment(first.payment_id, None)
    assert payment.reserved
    # The same write again (its answer lost, the SDK retried it): recognised, nothing added.
    assert store.holds.reserve(payment, Decimal("45.00"), Decimal("50.00"), debits=0) == Decimal("5.00")
    other = payment.model_copy(update={"payment_id": "pay_" + "2" * 24})
    with pytest.raises(OrderReserved) as reserved:
        store.holds.reserve(other, Decimal("45.00"), Decimal("50.00"), debits=0)
    assert reserved.value.payment_id == first.payment_id
    assert store.holds.get_holds("101").held == Decimal("5.00")
    assert not store.holds.release_reservation(other, parts.clock())  # not its reservation
    assert store.holds.get_holds("101").held == Decimal("5.00")


def test_an_authorization_that_lost_its_order_gives_its_reservation_back_once(parts: Any) -> None:
    service, _, _, _, store, _ = parts
    first = hold(parts, TOKEN, 1150, "5.00")
    loser = service.payment(first.payment_id, None).model_copy(update={"payment_id": "pay_" + "3" * 24})
    store.payments.record_payment(loser)
    with pytest.raises(OrderHasPaymentRecord) as linked:
        store.payments.link_order(loser)
    assert linked.value.payment_id == first.payment_id
    store.payments.discard(loser.payment_id)
    assert store.payments.get_payment(loser.payment_id) is None
    assert store.holds.get_holds("101").held == Decimal("5.00")


def test_a_twin_request_of_the_order_gets_its_payment_or_409_while_it_is_unfinished(
    parts: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another request reserved for the order and has not linked it yet (a twin mid-flight, or one that died).
    service, _, shop, _, store, _ = parts
    monkeypatch.setattr("woo_backend.services.balance.sleep_backoff", lambda *args, **kwargs: None)
    first = hold(parts, TOKEN, 1180, "6.00")
    twin = service.payment(first.payment_id, None).model_copy(
        update={"payment_id": "pay_" + "7" * 24, "order_id": 1181}
    )
    shop.pending(1181, "6.00")
    store.holds.reserve(twin, Decimal("44.00"), Decimal("50.00"), debits=0)
    with pytest.raises(PaymentInProgress) as busy:
        service.authorize(TOKEN, 1181, Decimal("6.00"))
    assert STATUS_BY_KIND[busy.value.kind] == 409
    assert store.holds.get_holds("101").held == Decimal("12.00")  # the refused request held nothing
    store.payments.record_payment(twin)
    store.payments.link_order(twin)  # the twin finishes
    again = service.authorize(TOKEN, 1181, Decimal("6.00"))
    assert (again.payment_id, again.created) == (twin.payment_id, False)
    assert store.holds.get_holds("101").held == Decimal("12.00")


def test_a_crash_after_reserving_leaves_a_hold_the_expiry_gives_back(
    parts: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The function died between the reservation and the order's link: nobody knows the payment, the sync does.
    service, _, shop, clock, store, sync = parts
    shop.pending(1160, "8.00")

    def die(payment: Any) -> None:
        raise RuntimeError("the function timed out")

    with monkeypatch.context() as patch:
        patch.setattr(store.payments, "link_order", die)
        with pytest.raises(RuntimeError):
            service.authorize(TOKEN, 1160, Decimal("8.00"))
    [orphan] = store.payments.open_payments(PaymentStatus.AUTHORIZED)
    assert store.holds.get_holds("101").held == Decimal("8.00")
    assert store.payments.payment_id_for_order(1160) is None
    clock.now += timedelta(minutes=61)
    assert sync.run("run-1").get("hold_expired") == 1
    assert store.holds.get_holds("101").held == 0
    assert store.payments.get_payment(orphan.payment_id).status is PaymentStatus.EXPIRED
    assert sync.run("run-2").get("hold_expired") is None  # given back once
    assert store.holds.get_holds("101").held == 0


def test_a_crash_before_reserving_leaves_a_payment_the_expiry_closes_without_giving_anything_back(
    parts: Any,
) -> None:
    service, _, _, clock, store, sync = parts
    kept = hold(parts, TOKEN, 1170, "10.00")
    never_reserved = service.payment(kept.payment_id, None).model_copy(
        update={"payment_id": "pay_" + "5" * 24, "order_id": 1171}
    )
    store.payments.record_payment(never_reserved)
    clock.now += timedelta(minutes=61)
    store.holds.reserve(
        service.payment(kept.payment_id, None).model_copy(update={"payment_id": "pay_" + "6" * 24, "order_id": 1172}),
        Decimal("40.00"),
        Decimal("50.00"),
        debits=0,
    )  # a reservation without a payment record, which the sweep does not touch: a wrong release would show
    sync.run("run-1")
    assert store.payments.get_payment(never_reserved.payment_id).status is PaymentStatus.EXPIRED
    assert store.payments.get_payment(kept.payment_id).status is PaymentStatus.EXPIRED
    assert store.holds.get_holds("101").held == Decimal("10.00")  # 1170's given back, 1171 had nothing


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


# ------------------------------------------------------------------ what moto cannot show: the real engine's refusals
def _stubbed() -> tuple[HoldsStore, PaymentsStore, Stubber]:
    client = boto3.client("dynamodb", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    return HoldsStore("PaymentsTable", client), PaymentsStore("PaymentsTable", client), Stubber(client)


def _payment(order_id: int = 7) -> Payment:
    return sample_payment(
        payment_id="pay_" + "a" * 24, order_id=order_id, amount=Decimal("7.00"), token=TOKEN, steps={}, reserved=True
    )


@pytest.fixture
def no_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("woo_backend.store.payments_table.sleep_backoff", lambda *args, **kwargs: None)


@pytest.mark.usefixtures("no_waits")
def test_a_reservation_that_meets_a_transaction_on_the_holds_item_is_written_when_it_ends() -> None:
    holds, _, stub = _stubbed()
    stub.add_client_error("update_item", "TransactionConflictException", "a transaction is in progress")
    stub.add_response("update_item", {"Attributes": {"held": {"N": "21.00"}}})
    with stub:
        assert holds.reserve(_payment(), Decimal("93.00"), Decimal("100.00"), debits=0) == Decimal("21.00")
    stub.assert_no_pending_responses()


@pytest.mark.usefixtures("no_waits")
def test_a_reservation_that_keeps_meeting_transactions_is_busy_not_a_500() -> None:
    holds, _, stub = _stubbed()
    for _ in range(CONFLICT_ATTEMPTS):
        stub.add_client_error("update_item", "TransactionConflictException", "a transaction is in progress")
    with stub, pytest.raises(Busy):
        holds.reserve(_payment(), Decimal("93.00"), Decimal("100.00"), debits=0)


def test_a_refused_reservation_says_what_it_met() -> None:
    # ALL_OLD on a refusal: held 95.00, no reservation of this order: it does not fit.
    holds, _, stub = _stubbed()
    old = {"user_id": {"S": "101"}, "held": {"N": "95.00"}, "version": {"N": "9"}}
    stub.add_client_error("update_item", "ConditionalCheckFailedException", "refused", modeled_fields={"Item": old})
    with stub, pytest.raises(HoldRefused) as refused:
        holds.reserve(_payment(), Decimal("93.00"), Decimal("100.00"), debits=0)
    assert refused.value.current is not None
    assert refused.value.current.held == Decimal("95.00")


def test_a_refused_reservation_that_finds_its_own_is_done() -> None:
    # The first write landed, its answer was lost, the retry was refused by the reservation it made.
    holds, _, stub = _stubbed()
    mine = {"M": {"payment_id": {"S": "pay_" + "a" * 24}, "amount": {"N": "7.00"}}}
    old = {"user_id": {"S": "101"}, "held": {"N": "14.00"}, "version": {"N": "2"}, "hold_order_7": mine}
    stub.add_client_error("update_item", "ConditionalCheckFailedException", "refused", modeled_fields={"Item": old})
    with stub:
        assert holds.reserve(_payment(), Decimal("93.00"), Decimal("100.00"), debits=0) == Decimal("14.00")


def _cancelled(*codes: str) -> dict[str, Any]:
    return {"CancellationReasons": [{"Code": code} for code in codes]}


@pytest.mark.usefixtures("no_waits")
def test_a_void_that_meets_a_reservation_on_the_holds_item_is_written_when_it_ends() -> None:
    _, payments, stub = _stubbed()
    reasons = _cancelled("None", "TransactionConflict")
    stub.add_client_error("transact_write_items", "TransactionCanceledException", "conflict", modeled_fields=reasons)
    stub.add_response("transact_write_items", {})
    with stub:
        assert payments.release(_payment(), PaymentStatus.VOIDED, datetime(2026, 11, 23, 10, 5, tzinfo=UTC))
    stub.assert_no_pending_responses()


def test_a_void_of_a_payment_whose_reservation_is_gone_closes_it_alone() -> None:
    # Refused by the holds item only: the authorization never reserved. The payment is closed, nothing given back.
    _, payments, stub = _stubbed()
    reasons = _cancelled("None", "ConditionalCheckFailed")
    stub.add_client_error("transact_write_items", "TransactionCanceledException", "no", modeled_fields=reasons)
    stub.add_response("update_item", {})
    with stub:
        assert payments.release(_payment(), PaymentStatus.EXPIRED, datetime(2026, 11, 23, 11, 5, tzinfo=UTC))
    stub.assert_no_pending_responses()


def test_a_void_of_a_payment_that_moved_is_refused_whatever_the_holds_say() -> None:
    _, payments, stub = _stubbed()
    reasons = _cancelled("ConditionalCheckFailed", "ConditionalCheckFailed")
    stub.add_client_error("transact_write_items", "TransactionCanceledException", "no", modeled_fields=reasons)
    with stub:
        assert not payments.release(_payment(), PaymentStatus.VOIDED, datetime(2026, 11, 23, 10, 5, tzinfo=UTC))
