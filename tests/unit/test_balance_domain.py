"""Balance payment rules, without AWS or HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fakes import sample_payment
from woo_backend.domain.balance import (
    CAPTURE_STEPS,
    AmountMismatch,
    CurrencyMismatch,
    InsufficientBalance,
    OrderAlreadyPaid,
    OrderNotFound,
    OrderNotPayable,
    PaymentNeedsAttention,
    PaymentNotCapturable,
    PaymentNotVoidable,
    PaymentStatus,
    Step,
    StepName,
    StepStatus,
    TokenExpired,
)
from woo_backend.domain.balance_rules import (
    DebitDecision,
    OrderEvent,
    available,
    capture_mismatch,
    check_can_hold,
    check_capturable,
    check_currency,
    check_order_payable,
    check_voidable,
    debit_unstarted,
    drift,
    due,
    mismatch_note,
    next_step,
    note_marker,
    order_event,
    order_needs_hold,
    parse_payment_amount,
    plan_debit,
    retry_delay,
)
from woo_backend.domain.money import InvalidAmount
from woo_backend.errors import ErrorKind
from woo_backend.settings import BalanceSettings, ConfigurationError

payment = sample_payment


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("12.5", Decimal("12.50")), ("0.01", Decimal("0.01")), ("7", Decimal("7.00")), ("3.10", Decimal("3.10"))],
)
def test_amounts_are_exact_with_two_decimals(raw: object, expected: Decimal) -> None:
    assert parse_payment_amount(raw) == expected
    assert str(parse_payment_amount(raw)) == str(expected)


@pytest.mark.parametrize(
    "raw",
    ["0", "-1", "1.001", "abc", "", "NaN", "Infinity", 1.5, True, None, "1e7", "1000000.01", 7, " 3.10 ", "10.000"],
)
def test_bad_amounts_are_refused(raw: object) -> None:
    with pytest.raises(InvalidAmount):
        parse_payment_amount(raw)


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


# ------------------------------------------------------------------ the payment's order
def order_terms(**changes: object) -> dict[str, Any]:
    terms: dict[str, Any] = {
        "order_id": 49,
        "status": "pending",
        "date_paid_gmt": None,
        "total": Decimal("50.00"),
        "order_currency": "EUR",
        "amount": Decimal("50.00"),
        "currency": "EUR",
    }
    return {**terms, **changes}


@pytest.mark.parametrize(
    ("changes", "refusal"),
    [
        ({"status": "processing"}, OrderAlreadyPaid),  # wc_get_is_paid_statuses()
        ({"status": "completed"}, OrderAlreadyPaid),
        ({"status": "on-hold", "date_paid_gmt": "2026-11-22T10:00:00"}, OrderAlreadyPaid),  # paid, then held
        ({"status": "refunded", "date_paid_gmt": "2026-11-22T10:00:00"}, OrderAlreadyPaid),
        ({"status": "cancelled"}, OrderNotPayable),
        ({"status": "trash"}, OrderNotPayable),
        ({"order_currency": "USD"}, CurrencyMismatch),
        ({"order_currency": ""}, CurrencyMismatch),
        ({"amount": Decimal("0.01")}, AmountMismatch),
        ({"amount": Decimal("50.01")}, AmountMismatch),
    ],
)
def test_an_order_that_is_paid_closed_or_of_another_currency_or_total_is_refused(
    changes: dict[str, object], refusal: type[Exception]
) -> None:
    with pytest.raises(refusal):
        check_order_payable(**order_terms(**changes))


@pytest.mark.parametrize(
    "changes",
    [{}, {"status": "on-hold"}, {"status": "failed"}, {"amount": Decimal("50")}, {"order_currency": "eur"}],
)
def test_an_unpaid_order_of_the_amount_and_currency_is_accepted(changes: dict[str, object]) -> None:
    check_order_payable(**order_terms(**changes))


def test_the_refusals_say_what_the_order_expects() -> None:
    with pytest.raises(AmountMismatch, match=r"totals 50\.00 EUR, not 0\.01"):
        check_order_payable(**order_terms(amount=Decimal("0.01")))
    with pytest.raises(CurrencyMismatch, match="is in USD; payments are in EUR"):
        check_order_payable(**order_terms(order_currency="USD"))
    assert AmountMismatch.kind is ErrorKind.SEMANTIC
    assert OrderAlreadyPaid.kind is ErrorKind.CONFLICT
    assert OrderNotFound.kind is ErrorKind.NOT_FOUND


def test_a_request_may_only_name_the_configured_currency() -> None:
    assert check_currency(None, "EUR") == "EUR"
    assert check_currency("EUR", "EUR") == "EUR"
    with pytest.raises(CurrencyMismatch):
        check_currency("USD", "EUR")


def test_a_capture_mismatch_names_its_reason() -> None:
    same: dict[str, Any] = {
        "amount": Decimal("50.00"),
        "currency": "EUR",
        "total": Decimal("50"),
        "order_currency": "EUR",
    }
    assert capture_mismatch(**same) is None
    assert capture_mismatch(**{**same, "total": Decimal("50.01")}) == (
        "amount_mismatch: the payment is 50.00 EUR, the order totals 50.01 EUR"
    )
    assert capture_mismatch(**{**same, "order_currency": "GBP"}) == (
        "currency_mismatch: the payment is in EUR, the order in GBP"
    )


def test_only_a_debit_never_started_may_still_be_stopped() -> None:
    pending = payment(status=PaymentStatus.CAPTURE_PENDING)
    assert debit_unstarted(pending)
    assert debit_unstarted(pending.model_copy(update={"steps": {StepName.DEBIT: Step(status=StepStatus.RETRY)}}))
    assert not debit_unstarted(payment())  # authorized: no capture under way
    assert not debit_unstarted(pending.model_copy(update={"balance_before": Decimal(80), "balance_after": Decimal(50)}))
    assert not debit_unstarted(pending.model_copy(update={"steps": {StepName.DEBIT: Step(status=StepStatus.DONE)}}))


@pytest.mark.parametrize("status", ["pending", "processing", "completed"])
def test_an_order_going_ahead_is_put_on_hold(status: str) -> None:
    assert order_needs_hold(status)


@pytest.mark.parametrize("status", ["on-hold", "failed", "cancelled", "refunded", "trash"])
def test_an_order_held_or_not_going_ahead_is_left_as_it_is(status: str) -> None:
    assert not order_needs_hold(status)


def test_the_note_names_the_payment_and_the_reason_and_never_the_token() -> None:
    stopped = payment(token="tpm_secret", reason="amount_mismatch: the payment is 0.01 EUR, the order totals 50.00 EUR")
    note = mismatch_note(stopped.payment_id, stopped.reason or "")
    assert note_marker(stopped.payment_id) in note
    assert "the order totals 50.00 EUR" in note
    assert "tpm_secret" not in note


# How a payment is shown (no token, its reason, currency and hold_order step): tests/integration/test_balance_answers.py
def test_a_stopped_payment_is_not_capturable_and_says_why() -> None:
    stopped = payment(
        status=PaymentStatus.NEEDS_ATTENTION,
        currency="EUR",
        reason="amount_mismatch: x",
        steps={**{name: Step() for name in CAPTURE_STEPS}, StepName.HOLD_ORDER: Step(status=StepStatus.DONE)},
    )
    with pytest.raises(PaymentNeedsAttention, match="amount_mismatch: x"):
        check_capturable(stopped)
    with pytest.raises(PaymentNeedsAttention, match="see the payment's steps"):
        check_capturable(payment(status=PaymentStatus.NEEDS_ATTENTION))


def test_the_balance_currency_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYMENTS_TABLE", "PaymentsTable")
    monkeypatch.delenv("BALANCE_CURRENCY", raising=False)
    assert BalanceSettings.from_env().currency == "EUR"
    monkeypatch.setenv("BALANCE_CURRENCY", "CHF")
    assert BalanceSettings.from_env().currency == "CHF"
    for bad in ("eur", "EURO", "E1R"):
        monkeypatch.setenv("BALANCE_CURRENCY", bad)
        with pytest.raises(ConfigurationError, match="BALANCE_CURRENCY"):
            BalanceSettings.from_env()
