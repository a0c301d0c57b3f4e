"""The one parser for amounts, totals, percentages and credit counts (its properties: test_money_properties.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from woo_backend.domain.money import InvalidAmount, money, parse_count, parse_decimal
from woo_backend.errors import InvalidRequest

LIMIT = Decimal(1000)


class InvalidThing(InvalidRequest):
    code = "invalid_thing"


@pytest.mark.parametrize(
    ("raw", "expected"), [("5", "5.00"), ("12.5", "12.50"), ("0.01", "0.01"), ("007.10", "7.10"), ("1000", "1000.00")]
)
def test_plain_decimals_are_read_exactly(raw: str, expected: str) -> None:
    assert str(parse_decimal(raw, field="amount", maximum=LIMIT)) == expected


def test_json_integers_only_where_the_caller_allows_them() -> None:
    assert str(parse_decimal(10, field="cart_total", maximum=LIMIT, allow_int=True)) == "10.00"
    with pytest.raises(InvalidAmount, match=r'^amount must be a decimal string such as "12\.50" \(ASCII'):
        parse_decimal(10, field="amount", maximum=LIMIT)
    with pytest.raises(InvalidAmount, match="or a whole JSON number"):
        parse_decimal(10.0, field="cart_total", maximum=LIMIT, allow_int=True)
    with pytest.raises(InvalidAmount, match="greater than zero"):
        parse_decimal(-3, field="amount", maximum=LIMIT, allow_int=True)


@pytest.mark.parametrize(
    "raw",
    [
        "1e2",
        "1E+2",
        "+5",
        ".5",
        "5.",
        " 5.00",
        "5.00 ",
        "5.00\n",
        "\t5",
        "5\u00a0",
        "1 000",
        "1,50",
        "1_000",
        "0x10",
        "\u0661\u0662",
        "\uff11\uff12",
        "\U0001d7d3",
        "NaN",
        "Infinity",
        "",
        "abc",
        1.5,
        True,
        None,
        Decimal("5"),
        ["5"],
    ],
)
def test_anything_but_plain_ascii_decimal_notation_is_refused(raw: object) -> None:
    with pytest.raises(InvalidAmount, match=r'^amount must be a decimal string such as "12\.50"'):
        parse_decimal(raw, field="amount", maximum=LIMIT)


@pytest.mark.parametrize("raw", ["10.000", "10.0000", "1.005", "0.001"])
def test_a_third_decimal_is_refused_even_a_zero(raw: str) -> None:
    with pytest.raises(InvalidAmount, match=r"^amount has more than two decimals$"):
        parse_decimal(raw, field="amount", maximum=LIMIT)


def test_bounds_are_named_in_the_message() -> None:
    with pytest.raises(InvalidAmount, match=r"^amount must be greater than zero$"):
        parse_decimal("0", field="amount", maximum=LIMIT)
    with pytest.raises(InvalidAmount, match=r"^amount must be greater than zero$"):
        parse_decimal("-5", field="amount", maximum=LIMIT)
    with pytest.raises(InvalidAmount, match=r"^cart_total must be zero or more$"):
        parse_decimal("-1", field="cart_total", maximum=LIMIT, allow_zero=True)
    assert parse_decimal("0", field="cart_total", maximum=LIMIT, allow_zero=True) == Decimal("0.00")
    with pytest.raises(InvalidAmount, match=r"^amount is above 1000$"):
        parse_decimal("1000.01", field="amount", maximum=LIMIT)
    with pytest.raises(InvalidAmount, match=r"^amount is above 1000$"):
        parse_decimal("9" * 5000, field="amount", maximum=LIMIT)


def test_the_caller_chooses_the_error_class_and_so_the_code() -> None:
    with pytest.raises(InvalidThing) as raised:
        parse_decimal("x", field="thing", maximum=LIMIT, error=InvalidThing)
    assert raised.value.code == "invalid_thing"
    assert raised.value.message.startswith("thing ")


@pytest.mark.parametrize(("raw", "expected"), [(1, 1), ("42", 42), ("007", 7), (100, 100)])
def test_counts_are_positive_whole_numbers(raw: object, expected: int) -> None:
    assert parse_count(raw, field="amount", maximum=100) == expected


@pytest.mark.parametrize(
    "raw", ["1.0", "\u0665", "\uff15", " 7", "7 ", "7\n", "+7", "-1", "1e1", "", 0, "0", True, 2.0, None]
)
def test_anything_else_is_not_a_count(raw: object) -> None:
    with pytest.raises(InvalidAmount):
        parse_count(raw, field="amount", maximum=100)


@pytest.mark.parametrize("raw", [101, "101", "9" * 5000, 10**5000], ids=["int", "digits", "5000-digits", "10**5000"])
def test_counts_above_the_bound_are_refused_however_long(raw: object) -> None:
    with pytest.raises(InvalidAmount, match=r"^amount must be at most 100$"):
        parse_count(raw, field="amount", maximum=100)


def test_money_always_shows_two_places() -> None:
    assert money(Decimal("12.5")) == "12.50"
    assert money(Decimal(3)) == "3.00"
