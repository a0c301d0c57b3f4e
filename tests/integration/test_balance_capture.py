"""Balance captures against moto's DynamoDB, with an in-memory Topomer and shop that can fail at any step."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.integration.balance_fakes import TOKEN, Parts, hold, make_parts
from woo_backend.domain.balance import PaymentNeedsAttention, PaymentStatus, Step, StepName, StepStatus
from woo_backend.domain.balance_rules import check_capturable, mismatch_note


@pytest.fixture
def parts(aws: Any) -> Parts:
    return make_parts(aws)


def test_capture_debits_once_and_releases_the_hold(parts: Any) -> None:
    service, topomer, _, _, store, _ = parts
    auth = hold(parts, TOKEN, 49, "30.00")
    assert auth.available_after == Decimal("120.00")
    payment = service.capture(auth.payment_id, TOKEN)
    assert payment.status is PaymentStatus.CAPTURED
    assert topomer.balances[TOKEN] == Decimal("120.00")
    assert TOKEN in topomer.expired
    assert 49 in topomer.orders
    holds = store.holds.get_holds("101")
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
    service, topomer, _, _, _, sync = parts
    auth = hold(parts, TOKEN, 49, "30.00")
    getattr(topomer, mode)[method] = 1
    first = service.capture(auth.payment_id, TOKEN)
    assert first.status is PaymentStatus.CAPTURE_PENDING
    counts = sync.run("run-1")
    assert counts.get("retry_captured") == 1
    final = service.payment(auth.payment_id, TOKEN)
    assert final.status is PaymentStatus.CAPTURED
    assert topomer.balances[TOKEN] == Decimal("120.00")
    assert all(w == Decimal("120.00") for w in topomer.writes)
    assert final.step(StepName.DEBIT).attempts >= 1
    assert TOKEN in topomer.expired
    assert [order.order_id for order, _ in topomer.reports] == [49]  # reported once


def test_after_too_many_failures_the_payment_needs_attention(parts: Any) -> None:
    service, topomer, _, _, _, sync = parts
    auth = hold(parts, TOKEN, 49, "30.00")
    topomer.fail["expire_token"] = 10
    service.capture(auth.payment_id, TOKEN)
    sync.run("run-1")
    sync.run("run-2")
    payment = service.payment(auth.payment_id, TOKEN)
    assert payment.status is PaymentStatus.NEEDS_ATTENTION
    assert payment.step(StepName.EXPIRE_TOKEN).attempts == 3
    assert topomer.balances[TOKEN] == Decimal("120.00")  # the debit itself was done once


def test_a_balance_moved_outside_between_attempts_is_never_overwritten(parts: Any) -> None:
    service, topomer, _, _, _, sync = parts
    auth = hold(parts, TOKEN, 49, "30.00")
    topomer.fail["update_balance"] = 1
    service.capture(auth.payment_id, TOKEN)
    topomer.balances[TOKEN] = Decimal("500.00")  # someone else wrote Topomer's balance meanwhile
    sync.run("run-1")
    assert service.payment(auth.payment_id, TOKEN).status is PaymentStatus.NEEDS_ATTENTION
    assert topomer.balances[TOKEN] == Decimal("500.00")


def test_a_debit_whose_answer_was_lost_is_settled_before_the_next_debit_of_the_user(parts: Any) -> None:
    service, topomer, _, _, store, sync = parts
    first = hold(parts, TOKEN, 70, "30.00")
    second = hold(parts, TOKEN, 71, "20.00")
    topomer.lost["update_balance"] = 1  # Topomer applies 150 -> 120, the answer never arrives
    assert service.capture(first.payment_id, TOKEN).status is PaymentStatus.CAPTURE_PENDING
    # The second capture must not compute from 120 and leave the first one undecidable.
    assert service.capture(second.payment_id, TOKEN).status is PaymentStatus.CAPTURED
    assert service.payment(first.payment_id, None).step(StepName.DEBIT).status.value == "done"
    sync.run("run-1")
    assert service.payment(first.payment_id, None).status is PaymentStatus.CAPTURED
    assert topomer.balances[TOKEN] == Decimal("100.00")
    assert store.holds.get_holds("101").held == 0


def test_a_capture_against_a_changed_order_moves_no_money_and_holds_the_order_once(parts: Any) -> None:
    service, topomer, shop, _, store, sync = parts
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
    assert store.holds.get_holds("101").held == Decimal("30.00")  # the hold stays until a person settles it
    with pytest.raises(PaymentNeedsAttention, match="amount_mismatch"):
        check_capturable(service.payment(auth.payment_id, TOKEN))
    # The paid webhook, the sync and another capture change nothing more.
    paid = shop.orders[92].model_copy(update={"status": "processing"})
    assert sync.order_events.apply(paid) == "needs_attention"
    sync.run("run-1")
    with pytest.raises(PaymentNeedsAttention):
        service.capture(auth.payment_id, None)
    assert topomer.writes == []
    assert len(shop.notes[92]) == 1


def test_the_webhook_body_is_the_order_a_capture_is_checked_against(parts: Any) -> None:
    service, topomer, shop, _, _, sync = parts
    auth = hold(parts, TOKEN, 93, "30.00")
    delivered = shop.orders[93].model_copy(update={"status": "processing", "currency": "USD"})
    assert sync.order_events.apply(delivered) == "needs_attention"
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
    service, topomer, shop, _, _, sync = parts
    auth = hold(parts, TOKEN, 94, "30.00")
    shop.orders[94] = shop.orders[94].model_copy(update={"total": Decimal("31.00")})
    getattr(shop, mode)[method] = 1
    stopped = service.capture(auth.payment_id, TOKEN)
    assert stopped.status is PaymentStatus.NEEDS_ATTENTION
    assert stopped.step(StepName.HOLD_ORDER).status is StepStatus.RETRY
    assert stopped.step(StepName.HOLD_ORDER).last_error
    assert sync.run("run-1").get("hold_order_done") == 1
    assert service.payment(auth.payment_id, None).step(StepName.HOLD_ORDER).status is StepStatus.DONE
    assert shop.orders[94].status == "on-hold"
    assert len(shop.notes[94]) == 1
    assert sync.run("run-2").get("hold_order_done") is None  # nothing left to do
    assert topomer.writes == []


def test_an_order_gone_from_the_shop_stops_the_capture(parts: Any) -> None:
    service, topomer, shop, _, _, _ = parts
    auth = hold(parts, TOKEN, 95, "30.00")
    del shop.orders[95]
    payment = service.capture(auth.payment_id, TOKEN)
    assert payment.status is PaymentStatus.NEEDS_ATTENTION
    assert payment.reason is not None
    assert payment.reason.startswith("order_not_found")
    assert StepName.HOLD_ORDER not in payment.steps
    assert topomer.writes == []


def test_a_capture_that_cannot_read_its_order_waits_for_the_sync(parts: Any) -> None:
    service, topomer, shop, _, _, sync = parts
    auth = hold(parts, TOKEN, 96, "30.00")
    shop.fail["get_order"] = 1
    pending = service.capture(auth.payment_id, TOKEN)
    assert pending.status is PaymentStatus.CAPTURE_PENDING
    assert pending.step(StepName.DEBIT).status is StepStatus.RETRY
    assert topomer.writes == []
    sync.run("run-1")
    assert service.payment(auth.payment_id, None).status is PaymentStatus.CAPTURED
    assert topomer.writes == [Decimal("120.00")]


# ------------------------------------------------------------------ Topomer: an order report of unknown fate


def test_an_order_report_of_unknown_fate_is_parked_and_never_resent(parts: Any) -> None:
    service, topomer, _, _, store, sync = parts
    auth = hold(parts, TOKEN, 49, "30.00")
    topomer.lost["record_order"] = 1  # Topomer kept the report; the answer never came
    parked = service.capture(auth.payment_id, TOKEN)
    assert parked.status is PaymentStatus.NEEDS_ATTENTION
    step = parked.step(StepName.RECORD_ORDER)
    assert step.last_error is not None
    assert step.last_error.startswith("order_report_unknown: ")
    assert "Check Topomer for order 49" in step.last_error
    assert (topomer.balances[TOKEN], TOKEN in topomer.expired) == (Decimal("120.00"), True)  # the money moved
    sync.run("run-1")
    sync.run("run-2")
    assert service.payment(auth.payment_id, None).status is PaymentStatus.NEEDS_ATTENTION
    assert len(topomer.reports) == 1  # never sent again on its own
    assert topomer.reports[0][1] == f"woo-backend-order-{auth.payment_id}"
    # A person finds the report in Topomer and marks the step done: the capture finishes, nothing resent.
    store.payments.record_step(
        auth.payment_id,
        StepName.RECORD_ORDER,
        step.model_copy(update={"status": StepStatus.DONE, "last_error": None}),
        status=PaymentStatus.CAPTURE_PENDING,
    )
    sync.run("run-3")
    assert service.payment(auth.payment_id, None).status is PaymentStatus.CAPTURED
    assert len(topomer.reports) == 1


@pytest.mark.parametrize("keeps_last_error", [False, True], ids=["step-reset", "status-only"])
def test_a_parked_report_set_back_to_pending_by_a_person_is_sent_again(parts: Any, keeps_last_error: bool) -> None:
    service, topomer, _, _, store, sync = parts
    auth = hold(parts, TOKEN, 49, "30.00")
    topomer.lost["record_order"] = 1
    parked = service.capture(auth.payment_id, TOKEN).step(StepName.RECORD_ORDER)
    topomer.reports.clear()  # a person finds no report in Topomer
    # As the README says: the step set to pending (its last_error may be left as it was), the payment capture_pending.
    step = parked.model_copy(update={"status": StepStatus.PENDING}) if keeps_last_error else Step()
    store.payments.record_step(auth.payment_id, StepName.RECORD_ORDER, step, status=PaymentStatus.CAPTURE_PENDING)
    sync.run("run-1")
    assert service.payment(auth.payment_id, None).status is PaymentStatus.CAPTURED
    assert [key for _, key in topomer.reports] == [f"woo-backend-order-{auth.payment_id}"]  # the same key again


def test_a_parked_payment_set_back_without_its_step_stays_parked(parts: Any) -> None:
    service, topomer, _, _, store, sync = parts
    auth = hold(parts, TOKEN, 49, "30.00")
    topomer.lost["record_order"] = 1
    parked = service.capture(auth.payment_id, TOKEN).step(StepName.RECORD_ORDER)
    store.payments.record_step(auth.payment_id, StepName.RECORD_ORDER, parked, status=PaymentStatus.CAPTURE_PENDING)
    sync.run("run-1")
    assert service.payment(auth.payment_id, None).status is PaymentStatus.NEEDS_ATTENTION
    assert len(topomer.reports) == 1  # not resent: the step still says its fate is unknown


def test_a_report_left_running_by_a_stopped_run_is_parked_not_resent(parts: Any) -> None:
    service, topomer, _, _, store, sync = parts
    auth = hold(parts, TOKEN, 49, "30.00")
    topomer.fail["record_order"] = 1
    service.capture(auth.payment_id, TOKEN)
    # As a run killed between marking the step and hearing Topomer's answer leaves it:
    store.payments.record_step(auth.payment_id, StepName.RECORD_ORDER, Step(status=StepStatus.RUNNING, attempts=2))
    sync.run("run-1")
    payment = service.payment(auth.payment_id, None)
    assert payment.status is PaymentStatus.NEEDS_ATTENTION
    assert (payment.step(StepName.RECORD_ORDER).last_error or "").startswith("order_report_unknown: ")
    assert topomer.reports == []


def test_a_balance_write_taken_but_never_applied_is_not_counted_done(parts: Any) -> None:
    service, topomer, _, _, _, sync = parts
    auth = hold(parts, TOKEN, 49, "30.00")
    topomer.ignored["update_balance"] = 10  # Topomer answers 2xx to every write and applies none
    pending = service.capture(auth.payment_id, TOKEN)
    assert pending.status is PaymentStatus.CAPTURE_PENDING
    assert (pending.step(StepName.DEBIT).last_error or "").startswith("write_not_landed: ")
    sync.run("run-1")
    sync.run("run-2")
    payment = service.payment(auth.payment_id, None)
    assert payment.status is PaymentStatus.NEEDS_ATTENTION  # after the bounded attempts, a person looks
    assert payment.step(StepName.DEBIT).status is not StepStatus.DONE
    assert topomer.balances[TOKEN] == Decimal("150.00")
    assert not topomer.reports  # nothing after a debit that did not land
    assert TOKEN not in topomer.expired
