from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from woo_backend.domain.credits import (
    MAX_CREDITS,
    CreditAccount,
    InsufficientCredits,
    OrderAction,
    OrderNotCompleted,
    UnknownOrder,
    credits_for_order,
    is_credits_only,
    order_action,
    parse_consume_amount,
    parse_credits_meta,
    plan_consume,
    request_fingerprint,
    should_autocomplete,
)
from woo_backend.domain.money import InvalidAmount


def account(balance: int, status: str = "completed") -> CreditAccount:
    return CreditAccount(order_key="wc_order_x", order_id=1, status=status, granted=balance, balance=balance)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(1, 1), ("42", 42), ("max", "max"), (MAX_CREDITS, MAX_CREDITS)],
)
def test_parse_consume_amount_accepts_whole_positive_numbers_and_max(raw: Any, expected: Any) -> None:
    assert parse_consume_amount(raw) == expected


@pytest.mark.parametrize(
    "raw", [0, -1, 1.5, 2.0, "1.5", "-1", "", "abc", None, True, False, "1e3", "٣", MAX_CREDITS + 1, [1]]
)
def test_parse_consume_amount_refuses_everything_else(raw: Any) -> None:
    with pytest.raises(InvalidAmount):
        parse_consume_amount(raw)


@pytest.mark.parametrize("raw", [" 7 ", "7\n", "MAX", " Max ", "max ", "MAX "])
def test_parse_consume_amount_takes_digits_and_max_exactly_as_sent(raw: str) -> None:
    """Issue 13: these were trimmed and lower-cased before ("MAX " consumed a whole order)."""
    with pytest.raises(InvalidAmount, match='amount must be a positive whole number or "max"'):
        parse_consume_amount(raw)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("abc", 'amount must be a positive whole number or "max"'),
        (1.5, 'amount must be a positive whole number or "max"'),
        ("0", "amount must be at least 1"),
        (MAX_CREDITS + 1, f"amount must be at most {MAX_CREDITS}"),
    ],
)
def test_parse_consume_amount_says_why(raw: Any, message: str) -> None:
    with pytest.raises(InvalidAmount) as refused:
        parse_consume_amount(raw)
    assert (refused.value.code, refused.value.message) == ("invalid_amount", message)


@given(st.integers(min_value=1, max_value=MAX_CREDITS))
def test_parse_consume_amount_round_trips_digit_strings(value: int) -> None:
    assert parse_consume_amount(str(value)) == value


def test_plan_consume_rules() -> None:
    assert plan_consume(account(10), 4) == 4
    assert plan_consume(account(10), "max") == 10
    assert plan_consume(account(0), "max") == 0
    with pytest.raises(UnknownOrder):
        plan_consume(None, 1)
    with pytest.raises(OrderNotCompleted):
        plan_consume(account(10, "processing"), 1)
    with pytest.raises(InsufficientCredits):
        plan_consume(account(10), 11)


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=1, max_value=10**6))
def test_plan_consume_never_takes_more_than_the_balance(balance: int, wanted: int) -> None:
    try:
        taken = plan_consume(account(balance), wanted)
    except InsufficientCredits:
        assert wanted > balance
    else:
        assert taken == wanted <= balance


def test_fingerprint_depends_on_the_request_only() -> None:
    assert request_fingerprint(5) == request_fingerprint(5)
    assert request_fingerprint(5) != request_fingerprint("max")
    assert request_fingerprint(5) != request_fingerprint(6)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("100", 100), (50, 50), ("", 0), ("1.5", 0), ("-3", 0), (-3, 0), (None, 0), (True, 0), ("abc", 0)],
)
def test_credits_meta_is_a_whole_non_negative_number(value: Any, expected: int) -> None:
    assert parse_credits_meta(value) == expected


def test_credits_for_order_sums_credits_times_quantity() -> None:
    credits = {10: 100, 11: 500, 12: 0}
    assert credits_for_order([(10, 2), (11, 1), (12, 4)], credits) == 700
    assert credits_for_order([(99, 3)], credits) == 0
    assert is_credits_only([(10, 1), (11, 2)], credits)
    assert not is_credits_only([(10, 1), (12, 1)], credits)
    assert not is_credits_only([], credits)


@pytest.mark.parametrize(
    ("status", "method", "items", "expected"),
    [
        ("processing", "stripe", [(10, 1)], True),
        ("processing", "bacs", [(10, 1)], False),
        ("processing", "cheque", [(10, 1)], False),
        ("processing", "cod", [(10, 1)], False),
        ("processing", "stripe", [(10, 1), (12, 1)], False),
        ("on-hold", "stripe", [(10, 1)], False),
        ("completed", "stripe", [(10, 1)], False),
    ],
)
def test_autocomplete_only_paid_credit_only_orders(
    status: str, method: str, items: list[tuple[int, int]], expected: bool
) -> None:
    assert should_autocomplete(status, method, items, {10: 100, 12: 0}) is expected


def test_order_action_by_status() -> None:
    assert order_action("completed") is OrderAction.GRANT
    assert order_action("refunded") is OrderAction.REVOKE
    assert order_action("cancelled") is OrderAction.REVOKE
    assert order_action("processing") is OrderAction.TRACK
