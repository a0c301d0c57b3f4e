"""Admin adjustments' rules: a signed amount never 0, a reason, never below zero, only a completed open
account; the ledger effect of an adjustment; the daily totals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from woo_backend.domain.credits import (
    MAX_CREDITS,
    MAX_REASON,
    AdjustmentResult,
    ConsumeResult,
    CreditAccount,
    InsufficientCredits,
    OrderNotCompleted,
    UnknownOrder,
    adjustment_fingerprint,
    day_totals,
    move_effect,
    parse_adjustment,
    parse_reason,
    plan_adjustment,
    request_fingerprint,
)
from woo_backend.domain.money import InvalidAmount
from woo_backend.errors import ValidationFailed


def account(balance: int, status: str = "completed", closed_at: str | None = None) -> CreditAccount:
    return CreditAccount(
        order_key="wc_order_x", order_id=1, status=status, granted=balance, balance=balance, closed_at=closed_at
    )


@pytest.mark.parametrize("amount", [1, -1, MAX_CREDITS, -MAX_CREDITS])
def test_an_adjustment_is_a_signed_whole_number(amount: int) -> None:
    assert parse_adjustment(amount) == amount


@pytest.mark.parametrize(
    ("amount", "words"), [(0, "must not be 0"), (MAX_CREDITS + 1, "between"), (-MAX_CREDITS - 1, "between")]
)
def test_an_adjustment_of_0_or_beyond_the_bound_is_refused_naming_amount(amount: int, words: str) -> None:
    with pytest.raises(InvalidAmount) as refused:
        parse_adjustment(amount)
    assert refused.value.message.startswith("amount")
    assert words in refused.value.message


def test_a_reason_is_trimmed_and_bounded() -> None:
    assert parse_reason("  goodwill  ") == "goodwill"
    assert parse_reason("x" * MAX_REASON) == "x" * MAX_REASON
    for bad in ("", "   ", "x" * (MAX_REASON + 1), "line\nbreak"):
        with pytest.raises(ValidationFailed, match=r"^reason: "):
            parse_reason(bad)


def test_only_a_completed_open_account_is_adjusted_and_never_below_zero() -> None:
    plan_adjustment(account(5), -5)
    plan_adjustment(account(0), 3)
    with pytest.raises(InsufficientCredits):
        plan_adjustment(account(5), -6)
    with pytest.raises(UnknownOrder):
        plan_adjustment(None, 1)
    for closed in (account(5, "refunded", "t"), account(5, "processing"), account(5, closed_at="t")):
        with pytest.raises(OrderNotCompleted):
            plan_adjustment(closed, 1)


@given(before=st.integers(0, MAX_CREDITS), amount=st.integers(-MAX_CREDITS, MAX_CREDITS).filter(lambda n: n != 0))
def test_move_effect_of_an_adjustment_is_exact_and_never_below_zero(before: int, amount: int) -> None:
    if before + amount < 0:  # the store's condition refuses such a write; the rule never derives it
        with pytest.raises(ValueError, match="cannot apply"):
            move_effect("adjustment", amount, before)
        return
    assert move_effect("adjustment", amount, before) == (amount, before + amount)


def test_move_effect_of_an_adjustment_needs_its_amount() -> None:
    for requested in (None, 0):
        with pytest.raises(ValueError, match="cannot apply"):
            move_effect("adjustment", requested, 10)


def test_an_adjustments_fingerprint_binds_amount_and_reason_and_is_never_a_consumes() -> None:
    base = adjustment_fingerprint(5, "goodwill")
    assert base == adjustment_fingerprint(5, "goodwill")
    assert len({base, adjustment_fingerprint(-5, "goodwill"), adjustment_fingerprint(5, "other")}) == 3
    assert base != request_fingerprint(5)


def test_an_adjustment_result_reads_the_moves_signed_amount() -> None:
    moved = ConsumeResult(order_id=1, consumed=-7, balance=17, transaction_id="tx_1")
    assert AdjustmentResult.of("wc_order_x", moved) == AdjustmentResult(
        order_key="wc_order_x", transaction_id="tx_1", amount=7, balance=17
    )


def test_day_totals_count_positive_adjustments_as_granted_and_negative_as_consumed() -> None:
    moves = [("grant", 100), ("consume", -30), ("adjustment", 5), ("adjustment", -2), ("revoke", -73)]
    totals = day_totals("2026-11-25", moves)
    assert (totals.day, totals.granted, totals.consumed, totals.revoked) == ("2026-11-25", 105, 32, 73)
    assert day_totals("2026-11-26", []).model_dump() == {"day": "2026-11-26", "granted": 0, "consumed": 0, "revoked": 0}
