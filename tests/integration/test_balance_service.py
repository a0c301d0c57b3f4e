"""Balance payments against moto's DynamoDB, with an in-memory Topomer that can fail at any step."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from woo_backend.domain.balance import (
    AmountMismatch,
    Authorization,
    CurrencyMismatch,
    InsufficientBalance,
    OrderAlreadyPaid,
    OrderHasPayment,
    OrderNotFound,
    OrderNotPayable,
    PaymentNeedsAttention,
    PaymentNotVoidable,
    PaymentStatus,
    Step,
    StepName,
    StepStatus,
    check_capturable,
    mismatch_note,
)
from woo_backend.errors import UpstreamNotFound, UpstreamUnavailable
from woo_backend.http import UpstreamOutcomeUnknown
from woo_backend.services.balance import BalanceService
from woo_backend.settings import BalanceSettings
from woo_backend.store.balance import PaymentsStore, StaleHolds
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


def hold(parts: Any, token: str, order_id: int, amount: str) -> Authorization:
    """Authorize ``amount`` for a pending order of that total (the shop's order, if it has one already)."""
    service, _, shop, _, _ = parts
    shop.pending(order_id, amount)
    return service.authorize(token, order_id, Decimal(amount))


def test_capture_debits_once_and_releases_the_hold(parts: Any) -> None:
    service, topomer, _, _, store = parts
    auth = hold(parts, TOKEN, 49, "30.00")
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
    + [(m, mode) for m in ("update_balance", "expire_token") for mode in ("fail", "lost", "ignored")]
    + [("record_order", "fail")],  # a report of unknown fate is parked instead: see below
)
def test_a_failure_at_any_step_is_finished_by_the_sync_exactly_once(parts: Any, method: str, mode: str) -> None:
    service, topomer, _, _, _ = parts
    auth = hold(parts, TOKEN, 49, "30.00")
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
    assert TOKEN in topomer.expired
    assert [order.order_id for order, _ in topomer.reports] == [49]  # reported once


def test_after_too_many_failures_the_payment_needs_attention(parts: Any) -> None:
    service, topomer, _, _, _ = parts
    auth = hold(parts, TOKEN, 49, "30.00")
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
    auth = hold(parts, TOKEN, 49, "30.00")
    topomer.fail["update_balance"] = 1
    service.capture(auth.payment_id, TOKEN)
    topomer.balances[TOKEN] = Decimal("500.00")  # someone else wrote Topomer's balance meanwhile
    service.sync("run-1")
    assert service.payment(auth.payment_id, TOKEN).status is PaymentStatus.NEEDS_ATTENTION
    assert topomer.balances[TOKEN] == Decimal("500.00")


def test_an_authorization_computed_on_moved_holds_is_refused_and_retried(parts: Any) -> None:
    # (Threads against moto in-process are not atomic; the concurrent version runs end to end.)
    service, _, _, _, store = parts
    hold(parts, "tok-bob", 1000, "7.00")
    before = store.get_holds("102")
    hold(parts, "tok-bob", 1001, "7.00")
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
        hold(parts, "tok-bob", 1003, "7.00")
    assert store.get_holds("102").held == Decimal("14.00")
    assert store.payment_id_for_order(1002) is None  # the refused transaction wrote nothing


def test_void_releases_the_hold_and_capture_after_void_is_refused(parts: Any) -> None:
    service, topomer, _, _, store = parts
    auth = hold(parts, TOKEN, 49, "30.00")
    assert service.void(auth.payment_id, TOKEN).status is PaymentStatus.VOIDED
    assert store.get_holds("101").held == 0
    assert service.void(auth.payment_id, TOKEN).status is PaymentStatus.VOIDED  # twice: no second release
    assert store.get_holds("101").held == 0
    with pytest.raises(Exception, match="cannot be captured"):
        service.capture(auth.payment_id, TOKEN)
    assert topomer.writes == []


def test_void_after_capture_is_a_conflict(parts: Any) -> None:
    service, _, _, _, _ = parts
    auth = hold(parts, TOKEN, 49, "30.00")
    service.capture(auth.payment_id, TOKEN)
    with pytest.raises(PaymentNotVoidable):
        service.void(auth.payment_id, TOKEN)


def test_the_sync_expires_old_holds(parts: Any) -> None:
    service, _, _, clock, store = parts
    auth = hold(parts, TOKEN, 49, "30.00")
    service.sync("run-1")
    assert service.payment(auth.payment_id, None).status is PaymentStatus.AUTHORIZED
    clock.now += timedelta(minutes=61)
    assert service.sync("run-2").get("hold_expired") == 1
    assert service.payment(auth.payment_id, None).status is PaymentStatus.EXPIRED
    assert store.get_holds("101").held == 0
    assert service.sync("run-3").get("hold_expired") is None


def test_reconciliation_records_drift_once_per_run(parts: Any) -> None:
    service, topomer, _, clock, store = parts
    auth = hold(parts, TOKEN, 49, "30.00")
    service.capture(auth.payment_id, TOKEN)
    assert service.sync("run-1").get("drift") == 0
    topomer.balances[TOKEN] = Decimal("125.00")  # Topomer credited 5.00 on its own
    topomer.expired.discard(TOKEN)  # and let the customer use the token again
    hold(parts, TOKEN, 50, "1.00")  # activity since the last run
    clock.now += timedelta(minutes=5)
    assert service.sync("run-2")["drift"] == 1
    entries = store.drift_entries("101")
    assert [(e["expected"], e["actual"], e["difference"]) for e in entries] == [
        (Decimal("120.00"), Decimal("125.00"), Decimal("5.00"))
    ]
    assert service.sync("run-2")["drift"] == 0  # the same run again records nothing twice


def test_the_sync_captures_and_voids_from_polled_orders(parts: Any) -> None:
    service, topomer, shop, _, _ = parts
    paid = hold(parts, TOKEN, 60, "10.00")
    dropped = hold(parts, TOKEN, 61, "5.00")
    shop.orders[60] = shop.orders[60].model_copy(
        update={"status": "processing", "date_modified_gmt": "2026-11-23T10:00:00"}
    )
    shop.orders[61] = shop.orders[61].model_copy(
        update={"status": "cancelled", "date_modified_gmt": "2026-11-23T10:00:01"}
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
    first = hold(parts, TOKEN, 70, "30.00")
    second = hold(parts, TOKEN, 71, "20.00")
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
    store = parts[4]
    first = hold(parts, TOKEN, 80, "100.00")  # 50.00 left: a second hold of 100 would not fit
    again = hold(parts, TOKEN, 80, "100.00")
    assert (again.payment_id, again.created) == (first.payment_id, False)
    assert store.get_holds("101").held == Decimal("100.00")
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
    service, topomer, shop, _, store = parts
    if order is not None:
        shop.orders[90] = order
    with pytest.raises(refusal):
        service.authorize(TOKEN, 90, Decimal(amount))
    assert store.get_holds("101") is None
    assert store.payment_id_for_order(90) is None
    assert topomer.writes == []


def test_a_retried_authorization_of_an_order_paid_since_gets_its_payment(parts: Any) -> None:
    service, _, shop, _, _ = parts
    first = hold(parts, TOKEN, 91, "30.00")
    service.capture(first.payment_id, TOKEN)
    shop.orders[91] = shop.orders[91].model_copy(update={"status": "processing", "date_paid_gmt": "2026-11-23T10:00"})
    again = service.authorize(TOKEN, 91, Decimal("30.00"))
    assert (again.payment_id, again.created, again.currency) == (first.payment_id, False, "EUR")
    with pytest.raises(OrderHasPayment):
        service.authorize("tok-bob", 91, Decimal("30.00"))


def test_a_capture_against_a_changed_order_moves_no_money_and_holds_the_order_once(parts: Any) -> None:
    service, topomer, shop, _, store = parts
    auth = hold(parts, TOKEN, 92, "30.00")
    shop.orders[92] = shop.orders[92].model_copy(update={"total": Decimal("45.00")})
    payment = service.capture(auth.payment_id, TOKEN)
    assert payment.status is PaymentStatus.NEEDS_ATTENTION
    assert payment.reason == "amount_mismatch: the payment is 30.00 EUR, the order totals 45.00 EUR"
    assert payment.step(StepName.HOLD_ORDER).status is StepStatus.DONE
    assert payment.step(StepName.DEBIT).status is StepStatus.PENDING
    assert topomer.writes == []
    assert TOKEN not in topomer.expired
    assert shop.orders[92].status == "on-hold"
    assert [n.note for n in shop.notes[92]] == [mismatch_note(auth.payment_id, payment.reason)]
    assert store.get_holds("101").held == Decimal("30.00")  # the hold stays until a person settles it
    with pytest.raises(PaymentNeedsAttention, match="amount_mismatch"):
        check_capturable(service.payment(auth.payment_id, TOKEN))
    # The paid webhook, the sync and another capture change nothing more.
    paid = shop.orders[92].model_copy(update={"status": "processing"})
    assert service.apply_order(paid) == "needs_attention"
    service.sync("run-1")
    with pytest.raises(PaymentNeedsAttention):
        service.capture(auth.payment_id, None)
    assert topomer.writes == []
    assert len(shop.notes[92]) == 1


def test_the_webhook_body_is_the_order_a_capture_is_checked_against(parts: Any) -> None:
    service, topomer, shop, _, _ = parts
    auth = hold(parts, TOKEN, 93, "30.00")
    delivered = shop.orders[93].model_copy(update={"status": "processing", "currency": "USD"})
    assert service.apply_order(delivered) == "needs_attention"
    payment = service.payment(auth.payment_id, None)
    assert payment.reason is not None
    assert payment.reason.startswith("currency_mismatch")
    assert topomer.writes == []


@pytest.mark.parametrize(
    ("method", "mode"),
    [
        ("update_order", "fail"),
        ("update_order", "lost"),
        ("order_notes", "fail"),
        ("add_order_note", "fail"),
        ("add_order_note", "lost"),
    ],
)
def test_an_order_hold_cut_short_is_finished_by_the_sync_exactly_once(parts: Any, method: str, mode: str) -> None:
    service, topomer, shop, _, _ = parts
    auth = hold(parts, TOKEN, 94, "30.00")
    shop.orders[94] = shop.orders[94].model_copy(update={"total": Decimal("31.00")})
    getattr(shop, mode)[method] = 1
    stopped = service.capture(auth.payment_id, TOKEN)
    assert stopped.status is PaymentStatus.NEEDS_ATTENTION
    assert stopped.step(StepName.HOLD_ORDER).status is StepStatus.RETRY
    assert stopped.step(StepName.HOLD_ORDER).last_error
    assert service.sync("run-1").get("hold_order_done") == 1
    assert service.payment(auth.payment_id, None).step(StepName.HOLD_ORDER).status is StepStatus.DONE
    assert shop.orders[94].status == "on-hold"
    assert len(shop.notes[94]) == 1
    assert service.sync("run-2").get("hold_order_done") is None  # nothing left to do
    assert topomer.writes == []


def test_an_order_gone_from_the_shop_stops_the_capture(parts: Any) -> None:
    service, topomer, shop, _, _ = parts
    auth = hold(parts, TOKEN, 95, "30.00")
    del shop.orders[95]
    payment = service.capture(auth.payment_id, TOKEN)
    assert payment.status is PaymentStatus.NEEDS_ATTENTION
    assert payment.reason is not None
    assert payment.reason.startswith("order_not_found")
    assert StepName.HOLD_ORDER not in payment.steps
    assert topomer.writes == []


def test_a_capture_that_cannot_read_its_order_waits_for_the_sync(parts: Any) -> None:
    service, topomer, shop, _, _ = parts
    auth = hold(parts, TOKEN, 96, "30.00")
    shop.fail["get_order"] = 1
    pending = service.capture(auth.payment_id, TOKEN)
    assert pending.status is PaymentStatus.CAPTURE_PENDING
    assert pending.step(StepName.DEBIT).status is StepStatus.RETRY
    assert topomer.writes == []
    service.sync("run-1")
    assert service.payment(auth.payment_id, None).status is PaymentStatus.CAPTURED
    assert topomer.writes == [Decimal("120.00")]


# ------------------------------------------------------------------ Topomer: an order report of unknown fate
def test_an_order_report_of_unknown_fate_is_parked_and_never_resent(parts: Any) -> None:
    service, topomer, _, _, store = parts
    auth = hold(parts, TOKEN, 49, "30.00")
    topomer.lost["record_order"] = 1  # Topomer kept the report; the answer never came
    parked = service.capture(auth.payment_id, TOKEN)
    assert parked.status is PaymentStatus.NEEDS_ATTENTION
    step = parked.step(StepName.RECORD_ORDER)
    assert step.last_error is not None
    assert step.last_error.startswith("order_report_unknown: ")
    assert "Check Topomer for order 49" in step.last_error
    assert (topomer.balances[TOKEN], TOKEN in topomer.expired) == (Decimal("120.00"), True)  # the money moved
    service.sync("run-1")
    service.sync("run-2")
    assert service.payment(auth.payment_id, None).status is PaymentStatus.NEEDS_ATTENTION
    assert len(topomer.reports) == 1  # never sent again on its own
    assert topomer.reports[0][1] == f"woo-backend-order-{auth.payment_id}"
    # A person finds the report in Topomer and marks the step done: the capture finishes, nothing resent.
    store.record_step(
        auth.payment_id,
        StepName.RECORD_ORDER,
        step.model_copy(update={"status": StepStatus.DONE, "last_error": None}),
        status=PaymentStatus.CAPTURE_PENDING,
    )
    service.sync("run-3")
    assert service.payment(auth.payment_id, None).status is PaymentStatus.CAPTURED
    assert len(topomer.reports) == 1


def test_a_parked_report_set_back_to_pending_by_a_person_is_sent_again(parts: Any) -> None:
    service, topomer, _, _, store = parts
    auth = hold(parts, TOKEN, 49, "30.00")
    topomer.lost["record_order"] = 1
    service.capture(auth.payment_id, TOKEN)
    topomer.reports.clear()  # a person finds no report in Topomer
    store.record_step(auth.payment_id, StepName.RECORD_ORDER, Step(), status=PaymentStatus.CAPTURE_PENDING)
    service.sync("run-1")
    assert service.payment(auth.payment_id, None).status is PaymentStatus.CAPTURED
    assert [key for _, key in topomer.reports] == [f"woo-backend-order-{auth.payment_id}"]  # the same key again


def test_a_report_left_running_by_a_stopped_run_is_parked_not_resent(parts: Any) -> None:
    service, topomer, _, _, store = parts
    auth = hold(parts, TOKEN, 49, "30.00")
    topomer.fail["record_order"] = 1
    service.capture(auth.payment_id, TOKEN)
    # As a run killed between marking the step and hearing Topomer's answer leaves it:
    store.record_step(auth.payment_id, StepName.RECORD_ORDER, Step(status=StepStatus.RUNNING, attempts=2))
    service.sync("run-1")
    payment = service.payment(auth.payment_id, None)
    assert payment.status is PaymentStatus.NEEDS_ATTENTION
    assert (payment.step(StepName.RECORD_ORDER).last_error or "").startswith("order_report_unknown: ")
    assert topomer.reports == []


def test_a_balance_write_taken_but_never_applied_is_not_counted_done(parts: Any) -> None:
    service, topomer, _, _, _ = parts
    auth = hold(parts, TOKEN, 49, "30.00")
    topomer.ignored["update_balance"] = 10  # Topomer answers 2xx to every write and applies none
    pending = service.capture(auth.payment_id, TOKEN)
    assert pending.status is PaymentStatus.CAPTURE_PENDING
    assert (pending.step(StepName.DEBIT).last_error or "").startswith("write_not_landed: ")
    service.sync("run-1")
    service.sync("run-2")
    payment = service.payment(auth.payment_id, None)
    assert payment.status is PaymentStatus.NEEDS_ATTENTION  # after the bounded attempts, a person looks
    assert payment.step(StepName.DEBIT).status is not StepStatus.DONE
    assert topomer.balances[TOKEN] == Decimal("150.00")
    assert not topomer.reports  # nothing after a debit that did not land
    assert TOKEN not in topomer.expired
