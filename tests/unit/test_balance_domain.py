"""Balance payment rules, without AWS or HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from woo_backend.domain.balance import (
    CAPTURE_STEPS,
    DebitDecision,
    InsufficientBalance,
    InvalidAmount,
    OrderEvent,
    Payment,
    PaymentNotCapturable,
    PaymentNotVoidable,
    PaymentStatus,
    Step,
    StepName,
    StepStatus,
    TokenExpired,
    available,
    check_can_hold,
    check_capturable,
    check_voidable,
    drift,
    due,
    next_step,
    order_event,
    parse_amount,
    plan_debit,
    retry_delay,
)


def payment(**changes: object) -> Payment:
    base = Payment(
        payment_id="pay_" + "0" * 24,
        order_id=49,
        user_id="101",
        amount=Decimal("30.00"),
        status=PaymentStatus.AUTHORIZED,
        token="tok",
        token_hash="h",
        created_at="2026-11-23T00:00:00+00:00",
        hold_expires_at="2026-11-23T01:00:00+00:00",
        steps={name: Step() for name in CAPTURE_STEPS},
    )
    return base.model_copy(update=changes)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("12.5", Decimal("12.50")), ("0.01", Decimal("0.01")), (7, Decimal("7.00")), (" 3.10 ", Decimal("3.10"))],
)
def test_amounts_are_exact_with_two_decimals(raw: object, expected: Decimal) -> None:
    assert parse_amount(raw) == expected
    assert str(parse_amount(raw)) == str(expected)


@pytest.mark.parametrize(
    "raw", ["0", "-1", "1.001", "abc", "", "NaN", "Infinity", 1.5, True, None, "1e7", "1000000.01"]
)
def test_bad_amounts_are_refused(raw: object) -> None:
    with pytest.raises(InvalidAmount):
        parse_amount(raw)


def test_a_hold_needs_an_unexpired_token_and_enough_available_balance() -> None:
    assert check_can_hold(Decimal("20"), False, Decimal("5"), Decimal("15")) == Decimal("20")
    with pytest.raises(InsufficientBalance):
        check_can_hold(Decimal("20"), False, Decimal("5"), Decimal("15.01"))
    with pytest.raises(TokenExpired):
        check_can_hold(Decimal("20"), True, Decimal("0"), Decimal("1"))


@given(
    balance=st.decimals(min_value=0, max_value=1000, places=2),
    amounts=st.lists(st.decimals(min_value=Decimal("0.01"), max_value=500, places=2), max_size=20),
)
def test_accepted_holds_never_exceed_the_balance(balance: Decimal, amounts: list[Decimal]) -> None:
    held = Decimal(0)
    for amount in amounts:
        try:
            held = check_can_hold(balance, False, held, amount)
        except InsufficientBalance:
            assert balance - held < amount
    assert held <= balance
    assert available(balance, held) == balance - held


def test_available_is_never_shown_below_zero() -> None:
    assert available(Decimal("10"), Decimal("25")) == 0


def test_first_debit_writes_the_balance_minus_the_amount() -> None:
    assert plan_debit(payment(), Decimal("150.00")) == (DebitDecision.SEND, Decimal("150.00"), Decimal("120.00"))


def test_a_retried_debit_is_decided_from_topomers_balance() -> None:
    planned = payment(balance_before=Decimal("150.00"), balance_after=Decimal("120.00"))
    assert plan_debit(planned, Decimal("150.00"))[0] is DebitDecision.SEND  # the last attempt never landed
    assert plan_debit(planned, Decimal("120.00"))[0] is DebitDecision.ALREADY_APPLIED  # it landed, answer lost
    assert plan_debit(planned, Decimal("99.00"))[0] is DebitDecision.DRIFTED
    # A retry writes the first attempt's target, never a new one computed from a moved balance.
    assert plan_debit(planned, Decimal("150.00"))[2] == Decimal("120.00")


def test_a_debit_that_would_go_negative_is_not_sent() -> None:
    assert plan_debit(payment(), Decimal("10.00"))[0] is DebitDecision.DRIFTED


def test_steps_run_in_order_until_all_are_done() -> None:
    p = payment()
    assert next_step(p) is StepName.DEBIT
    done = Step(status=StepStatus.DONE, attempts=1)
    p = p.model_copy(update={"steps": {**p.steps, StepName.DEBIT: done}})
    assert next_step(p) is StepName.EXPIRE_TOKEN
    p = p.model_copy(update={"steps": dict.fromkeys(CAPTURE_STEPS, done)})
    assert next_step(p) is None


def test_retry_delay_doubles_and_is_capped() -> None:
    assert retry_delay(1, Decimal(60)) == timedelta(seconds=60)
    assert retry_delay(3, Decimal(60)) == timedelta(seconds=240)
    assert retry_delay(30, Decimal(60)) == timedelta(hours=1)
    assert retry_delay(5, Decimal(0)) == timedelta(0)


def test_a_step_is_due_once_its_next_attempt_time_has_come() -> None:
    now = datetime(2026, 11, 23, tzinfo=UTC)
    assert due(Step(), now)
    assert not due(Step(next_attempt_at=(now + timedelta(seconds=5)).isoformat()), now)
    assert due(Step(next_attempt_at=(now - timedelta(seconds=5)).isoformat()), now)


def test_void_and_capture_transitions() -> None:
    check_voidable(payment())
    check_voidable(payment(status=PaymentStatus.VOIDED))  # voiding twice changes nothing
    for status in (PaymentStatus.CAPTURED, PaymentStatus.CAPTURE_PENDING, PaymentStatus.NEEDS_ATTENTION):
        with pytest.raises(PaymentNotVoidable):
            check_voidable(payment(status=status))
    for status in (PaymentStatus.AUTHORIZED, PaymentStatus.CAPTURE_PENDING, PaymentStatus.CAPTURED):
        check_capturable(payment(status=status))
    for status in (PaymentStatus.VOIDED, PaymentStatus.EXPIRED, PaymentStatus.NEEDS_ATTENTION):
        with pytest.raises(PaymentNotCapturable):
            check_capturable(payment(status=status))


@pytest.mark.parametrize(
    ("method", "status", "event"),
    [
        ("topomer", "processing", OrderEvent.CAPTURE),
        ("topomer", "completed", OrderEvent.CAPTURE),
        ("topomer", "cancelled", OrderEvent.VOID),
        ("topomer", "failed", OrderEvent.VOID),
        ("topomer", "pending", OrderEvent.IGNORE),
        ("topomer", "on-hold", OrderEvent.IGNORE),
        ("bacs", "processing", OrderEvent.IGNORE),
    ],
)
def test_order_status_decides_capture_or_void(method: str, status: str, event: OrderEvent) -> None:
    assert order_event(method, status) is event


def test_drift_is_topomers_balance_minus_the_expected_one() -> None:
    assert drift(Decimal("120.00"), Decimal("125.50")) == Decimal("5.50")
    assert drift(None, Decimal("125.50")) == 0


def test_the_public_view_never_shows_the_token() -> None:
    view = payment(token="tpm_secret_token").public()
    assert "tpm_secret_token" not in str(view)
    assert view["amount"] == "30.00"
    assert set(view["steps"]) == {"debit", "expire_token", "record_order"}
