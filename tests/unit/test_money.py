"""The one parser for amounts, totals, percentages and credit counts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from woo_backend.domain.money import InvalidAmount, money, parse_count, parse_decimal
from woo_backend.errors import InvalidRequest

LIMIT = Decimal(1000)


class InvalidThing(InvalidRequest):
    code = "invalid_thing"


@pytest.mark.parametrize(("raw", "expected"), [("5", "5.00"), ("12.5", "12.50"), ("0.01", "0.01"), (10, "10.00")])
def test_plain_decimals_and_integers_are_read_exactly(raw: object, expected: str) -> None:
    assert parse_decimal(raw, field="amount", maximum=LIMIT) == Decimal(expected)


@pytest.mark.parametrize(
    "raw",
    [
        "1e2",
        "1E+2",
        "+5",
        ".5",
        "5.",
        "1_000",
        "\u0661\u0662",
        "\uff11\uff12",
        "NaN",
        "Infinity",
        "",
        "abc",
        1.5,
        True,
        None,
    ],
)
def test_anything_but_plain_ascii_decimal_notation_is_refused(raw: object) -> None:
    with pytest.raises(InvalidAmount, match=r'amount must be a decimal string such as "12\.50"'):
        parse_decimal(raw, field="amount", maximum=LIMIT)


def test_bounds_and_places_are_named_in_the_message() -> None:
    with pytest.raises(InvalidAmount, match="greater than zero"):
        parse_decimal("0", field="amount", maximum=LIMIT)
    with pytest.raises(InvalidAmount, match="zero or more"):
        parse_decimal("-1", field="cart_total", maximum=LIMIT, allow_zero=True)
    assert parse_decimal("0", field="cart_total", maximum=LIMIT, allow_zero=True) == Decimal("0.00")
    with pytest.raises(InvalidAmount, match="more than two decimals"):
        parse_decimal("1.005", field="amount", maximum=LIMIT)
    with pytest.raises(InvalidAmount, match="above 1000"):
        parse_decimal("1000.01", field="amount", maximum=LIMIT)


def test_the_caller_chooses_the_error_class_and_so_the_code() -> None:
    with pytest.raises(InvalidThing) as raised:
        parse_decimal("x", field="thing", maximum=LIMIT, error=InvalidThing)
    assert raised.value.code == "invalid_thing"


@pytest.mark.parametrize(("raw", "expected"), [(1, 1), ("42", 42), (" 7 ", 7)])
def test_counts_are_positive_whole_numbers(raw: object, expected: int) -> None:
    assert parse_count(raw, field="amount", maximum=100) == expected


@pytest.mark.parametrize("raw", ["1.0", "\u0665", "-1", 0, "0", 101, True, 2.0, None])
def test_anything_else_is_not_a_count(raw: object) -> None:
    with pytest.raises(InvalidAmount):
        parse_count(raw, field="amount", maximum=100)


def test_money_always_shows_two_places() -> None:
    assert money(Decimal("12.5")) == "12.50"
    assert money(Decimal(3)) == "3.00"
