"""The admin console's payments over moto's table: lists by status (gsi2) as statuses change, paging, daily
counts, drift, and the rules of retry, resolve and void (audited, never the token)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any, NamedTuple

import pytest

from tests.integration.balance_fakes import TOKEN, Parts, hold, make_parts
from woo_backend.domain.balance import (
    PaymentNotResolvable,
    PaymentNotRetryable,
    PaymentNotVoidable,
    PaymentStatus,
    StepName,
    UnknownPayment,
)
from woo_backend.services.admin_payments import AdminPayments
from woo_backend.store.audit import AuditTrail
from woo_backend.store.paging import InvalidCursor
from woo_backend.store.payment_lists import PaymentLists


class Admin(NamedTuple):
    parts: Parts
    admin: AdminPayments
    audit: AuditTrail


@pytest.fixture
def wired(aws: Any) -> Admin:
    parts = make_parts(aws)
    audit = AuditTrail("AdminTable", aws)
    sync = parts.sync
    stores = parts.store
    admin = AdminPayments(
        stores.payments,
        PaymentLists("PaymentsTable", aws),
        stores.holds,
        stores.leases,
        parts.service,
        sync.captures,
        sync.order_hold,
        audit,
        parts.clock,
    )
    return Admin(parts, admin, audit)


def held(w: Admin) -> Decimal:
    holds = w.parts.store.holds.get_holds("101")
    assert holds is not None
    return holds.held


def ids(admin: AdminPayments, status: PaymentStatus, limit: int = 100) -> list[str]:
    return [p.payment_id for p in admin.page(status, limit, None)[0]]


def attention_after_failures(w: Admin, order_id: int) -> str:
    """A payment whose debit failed until its attempts ran out (Topomer down): needs_attention, no reason."""
    auth = hold(w.parts, TOKEN, order_id, "30.00")
    w.parts.topomer.fail["update_balance"] = 100
    w.parts.service.capture(auth.payment_id, TOKEN)
    w.parts.sync.run("run-1")
    w.parts.sync.run("run-2")
    assert w.admin.get(auth.payment_id).status is PaymentStatus.NEEDS_ATTENTION
    return auth.payment_id


def mismatched(w: Admin, order_id: int) -> str:
    auth = hold(w.parts, TOKEN, order_id, "30.00")
    shop = w.parts.shop
    shop.orders[order_id] = shop.orders[order_id].model_copy(update={"total": Decimal("45.00")})
    w.parts.service.capture(auth.payment_id, TOKEN)
    assert w.admin.get(auth.payment_id).reason
    return auth.payment_id


# ------------------------------------------------------------------ lists
def test_payments_move_between_status_lists_newest_first_with_paging(wired: Admin) -> None:
    w = wired
    made = []
    for n in range(5):
        made.append(hold(w.parts, TOKEN, 60 + n, "1.00").payment_id)
        w.parts.clock.now += timedelta(seconds=1)
    assert ids(w.admin, PaymentStatus.AUTHORIZED) == made[::-1]
    first, cursor = w.admin.page(PaymentStatus.AUTHORIZED, 2, None)
    second, cursor2 = w.admin.page(PaymentStatus.AUTHORIZED, 2, cursor)
    third, cursor3 = w.admin.page(PaymentStatus.AUTHORIZED, 2, cursor2)
    assert [p.payment_id for p in first + second + third] == made[::-1]
    assert cursor3 is None or w.admin.page(PaymentStatus.AUTHORIZED, 2, cursor3)[0] == []

    w.parts.service.capture(made[0], TOKEN)
    w.parts.service.void(made[1], TOKEN)
    assert ids(w.admin, PaymentStatus.CAPTURED) == [made[0]]
    assert ids(w.admin, PaymentStatus.VOIDED) == [made[1]]
    assert ids(w.admin, PaymentStatus.AUTHORIZED) == made[2:][::-1]
    w.parts.clock.now += timedelta(minutes=61)
    w.parts.sync.run("run-expire")
    assert set(ids(w.admin, PaymentStatus.EXPIRED)) == set(made[2:])
    assert ids(w.admin, PaymentStatus.AUTHORIZED) == []


def test_a_cursor_of_another_list_is_refused(wired: Admin) -> None:
    for bad in ("nonsense", "eyJwayI6IlVTRVIjMSIsInNrIjoiSE9MRFMiLCJnc2kyc2siOiJ4In0"):
        with pytest.raises(InvalidCursor):
            wired.admin.page(PaymentStatus.AUTHORIZED, 2, bad)


def test_daily_counts_per_created_day_and_status_with_zeros(wired: Admin) -> None:
    w = wired
    hold(w.parts, TOKEN, 70, "1.00")
    w.parts.clock.now += timedelta(days=1)
    voided = hold(w.parts, TOKEN, 71, "1.00").payment_id
    w.parts.service.void(voided, TOKEN)
    hold(w.parts, TOKEN, 72, "1.00")
    rows = w.admin.daily(3)
    assert [r.day for r in rows] == ["2026-11-22", "2026-11-23", "2026-11-24"]
    assert rows[0].counts == dict.fromkeys((s.value for s in PaymentStatus), 0)
    assert rows[1].counts["authorized"] == 1
    assert (rows[2].counts["authorized"], rows[2].counts["voided"]) == (1, 1)
    assert len(w.admin.daily(90)) == 90


def test_drift_records_newest_first(wired: Admin) -> None:
    holds = wired.parts.store.holds
    now = wired.parts.clock()
    holds.record_drift("101", "run-a", Decimal("10.00"), Decimal("8.00"), now)
    holds.record_drift("102", "run-b", None, Decimal("5.00"), now + timedelta(seconds=1))
    records, cursor = wired.admin.drift(1, None)
    assert [(r.run_id, r.user_id, r.seen) for r in records] == [("run-b", "102", Decimal("5.00"))]
    older, _ = wired.admin.drift(1, cursor)
    assert [(r.user_id, r.expected, r.difference) for r in older] == [("101", Decimal("10.00"), Decimal("-2.00"))]


# ------------------------------------------------------------------ retry
def test_retry_after_the_upstream_healed_finishes_the_capture(wired: Admin) -> None:
    w = wired
    payment_id = attention_after_failures(w, 80)
    assert ids(w.admin, PaymentStatus.NEEDS_ATTENTION) == [payment_id]
    still = w.admin.retry(payment_id, "ops")  # still down: back to needs_attention, the error shown
    assert still.outcome == "needs_attention"
    assert "debit step failed again" in still.message
    w.parts.topomer.fail.clear()
    w.parts.clock.now += timedelta(seconds=1)  # the audit trail orders by time
    done = w.admin.retry(payment_id, "ops")
    assert (done.outcome, done.payment.status) == ("captured", PaymentStatus.CAPTURED)
    assert w.parts.topomer.balances[TOKEN] == Decimal("120.00")
    assert ids(w.admin, PaymentStatus.NEEDS_ATTENTION) == []
    assert ids(w.admin, PaymentStatus.CAPTURED) == [payment_id]
    with pytest.raises(PaymentNotRetryable):
        w.admin.retry(payment_id, "ops")
    entries, _ = w.audit.list(10, None)
    assert [(e.action, e.who, e.after and e.after["outcome"]) for e in entries][:2] == [
        ("payment.retry", "ops", "captured"),
        ("payment.retry", "ops", "needs_attention"),
    ]
    assert TOKEN not in str([e.model_dump() for e in entries])


def test_retry_of_a_pending_capture_and_of_an_authorized_payment(wired: Admin) -> None:
    w = wired
    auth = hold(w.parts, TOKEN, 81, "30.00")
    assert w.admin.retry(auth.payment_id, "ops").outcome == "nothing_to_do"
    w.parts.topomer.fail["expire_token"] = 1
    assert w.parts.service.capture(auth.payment_id, TOKEN).status is PaymentStatus.CAPTURE_PENDING
    assert w.admin.retry(auth.payment_id, "ops").outcome == "captured"
    with pytest.raises(UnknownPayment):
        w.admin.retry("pay_" + "f" * 24, "ops")


def test_a_mismatched_payment_is_not_captured_by_a_retry(wired: Admin) -> None:
    w = wired
    payment_id = mismatched(w, 82)
    answer = w.admin.retry(payment_id, "ops")
    assert answer.outcome == "needs_attention"
    assert "amount_mismatch" in answer.message
    assert "resolve" in answer.message
    assert w.parts.topomer.balances[TOKEN] == Decimal("150.00")


# ------------------------------------------------------------------ resolve and void
def test_resolve_gives_the_hold_back_without_moving_money(wired: Admin) -> None:
    w = wired
    payment_id = mismatched(w, 83)
    assert held(w) == Decimal("30.00")
    resolved = w.admin.resolve(payment_id, "refunded by bank transfer", "alice")
    assert resolved.status is PaymentStatus.RESOLVED
    assert resolved.resolution is not None
    assert (resolved.resolution.note, resolved.resolution.by) == ("refunded by bank transfer", "alice")
    assert held(w) == 0
    assert w.parts.topomer.balances[TOKEN] == Decimal("150.00")
    assert ids(w.admin, PaymentStatus.RESOLVED) == [payment_id]
    assert ids(w.admin, PaymentStatus.NEEDS_ATTENTION) == []
    with pytest.raises(PaymentNotResolvable):
        w.admin.resolve(payment_id, "again", "alice")
    [entry] = w.audit.list(10, None)[0]
    assert (entry.action, entry.note, entry.after and entry.after["status"]) == (
        "payment.resolve",
        "refunded by bank transfer",
        "resolved",
    )


def test_resolve_after_the_debit_does_not_give_the_hold_back_twice(wired: Admin) -> None:
    w = wired
    auth = hold(w.parts, TOKEN, 84, "30.00")
    other = hold(w.parts, TOKEN, 85, "20.00")
    w.parts.topomer.fail["expire_token"] = 100
    w.parts.service.capture(auth.payment_id, TOKEN)
    w.parts.sync.run("run-1")
    w.parts.sync.run("run-2")
    assert w.admin.get(auth.payment_id).step(StepName.DEBIT).status.value == "done"
    assert held(w) == Decimal("20.00")  # the debit ended its hold
    w.admin.resolve(auth.payment_id, "token expired by hand", "ops")
    assert held(w) == Decimal("20.00")  # the other payment's hold is kept
    assert w.admin.get(other.payment_id).status is PaymentStatus.AUTHORIZED


def test_resolve_only_from_needs_attention_and_void_only_before_capture(wired: Admin) -> None:
    w = wired
    auth = hold(w.parts, TOKEN, 86, "30.00")
    with pytest.raises(PaymentNotResolvable):
        w.admin.resolve(auth.payment_id, "x", "ops")
    voided = w.admin.void(auth.payment_id, "ops")
    assert voided.status is PaymentStatus.VOIDED
    assert held(w) == 0
    captured = hold(w.parts, TOKEN, 87, "10.00").payment_id
    w.parts.service.capture(captured, TOKEN)
    with pytest.raises(PaymentNotVoidable):
        w.admin.void(captured, "ops")
    with pytest.raises(UnknownPayment):
        w.admin.void("pay_" + "e" * 24, "ops")
    assert [e.action for e in w.audit.list(10, None)[0]] == ["payment.void"]


def test_resolving_a_drifted_debit_ends_it_so_the_next_capture_is_not_blocked(wired: Admin) -> None:
    w = wired
    auth = hold(w.parts, TOKEN, 88, "30.00")
    w.parts.topomer.fail["update_balance"] = 1
    w.parts.service.capture(auth.payment_id, TOKEN)  # the debit is recorded as started: the user's debit in flight
    w.parts.topomer.balances[TOKEN] = Decimal("500.00")  # moved outside meanwhile
    w.parts.sync.run("run-1")
    assert w.admin.get(auth.payment_id).status is PaymentStatus.NEEDS_ATTENTION
    retried = w.admin.retry(auth.payment_id, "ops")
    assert retried.outcome == "needs_attention"
    assert "moved outside this service" in retried.message
    assert w.parts.store.holds.debit_in_flight("101") == auth.payment_id
    w.admin.resolve(auth.payment_id, "checked Topomer: never debited", "ops")
    assert w.parts.store.holds.debit_in_flight("101") is None
    assert held(w) == 0
    w.parts.topomer.balances[TOKEN] = Decimal("150.00")
    w.parts.topomer.fail.clear()
    nxt = hold(w.parts, TOKEN, 89, "10.00")
    assert w.parts.service.capture(nxt.payment_id, TOKEN).status is PaymentStatus.CAPTURED
