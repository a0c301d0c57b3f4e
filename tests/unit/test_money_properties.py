"""Properties of the one money parser, through each field that uses it (issue 13: hostile and careless input).

Whatever a client sends as an amount, a cart total, a percentage or a credits amount, it is either read
exactly or refused with the field's own error: ASCII digits with at most two decimals (and a JSON integer only
where the README documents one), nothing else. The oracle below says what is plain without the parser's regex.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from woo_backend.domain.balance_rules import MAX_PAYMENT, parse_payment_amount
from woo_backend.domain.credits import MAX_CREDITS, parse_consume_amount
from woo_backend.domain.money import InvalidAmount, money
from woo_backend.domain.promo import (
    MAX_CART_TOTAL,
    MAX_PERCENTAGE,
    InvalidPercentage,
    InvalidTotal,
    check_percentage,
    parse_total,
)
from woo_backend.errors import InvalidRequest

ASCII_DIGITS = "0123456789"


def plain_amount(text: str) -> bool:
    """The README's notation, spelled out without a regex: digits, then optionally a dot and one or two digits."""
    whole, dot, fraction = text.partition(".")
    digits_only = all(c in ASCII_DIGITS for c in whole + fraction)
    return bool(whole) and digits_only and (not dot or 1 <= len(fraction) <= 2)


# Each decimal field: its parser, its refusal, its bounds and whether a JSON integer is documented for it.
FIELDS: dict[str, tuple[Callable[[object], Decimal], type[InvalidRequest], Decimal, Decimal, bool]] = {
    "amount": (parse_payment_amount, InvalidAmount, Decimal("0.01"), MAX_PAYMENT, False),
    "cart_total": (parse_total, InvalidTotal, Decimal(0), MAX_CART_TOTAL, True),
    "percentage": (check_percentage, InvalidPercentage, Decimal("0.01"), MAX_PERCENTAGE, True),
}
field_names = st.sampled_from(sorted(FIELDS))

# ------------------------------------------------------------------ hostile strings
# Every kind of whitespace a client (or its template) may leave around a number, Unicode's included.
spaces = st.sampled_from([" ", "\t", "\n", "\r", "\x0b", "\x0c", "\xa0", "\u2003", "\u3000", "\ufeff", "\x00"])
other_digits = st.characters(categories=["Nd"]).filter(lambda c: c not in ASCII_DIGITS)
digit_runs = st.text(alphabet=ASCII_DIGITS, min_size=1, max_size=12)
valid_texts = st.one_of(
    digit_runs, st.builds(lambda w, f: f"{w}.{f}", digit_runs, st.text(ASCII_DIGITS, min_size=1, max_size=2))
)


@st.composite
def hostile(draw: st.DrawFn) -> str:
    """A near miss of a plain amount: what issue 13's probes sent, and more of the same kinds."""
    text = draw(valid_texts)
    kind = draw(st.integers(min_value=0, max_value=9))
    if kind == 0:  # whitespace around it, or inside it
        at = draw(st.integers(min_value=0, max_value=len(text)))
        return text[:at] + draw(st.text(spaces, min_size=1, max_size=3)) + text[at:]
    if kind == 1:
        return draw(st.sampled_from(["+", "-", "--", "+-"])) + text
    if kind == 2:  # an exponent
        sign = draw(st.sampled_from(["", "+", "-"]))
        return f"{text}{draw(st.sampled_from('eE'))}{sign}{draw(digit_runs)}"
    if kind == 3:  # another script's digit in place of one of ours
        at = draw(st.integers(min_value=0, max_value=len(text) - 1))
        return text[:at] + draw(other_digits) + text[at + 1 :]
    if kind == 4:  # three decimals or more, zeros too ("10.0000")
        return f"{draw(digit_runs)}.{draw(st.text(ASCII_DIGITS, min_size=3, max_size=8))}"
    if kind == 5:  # a dot with nothing on one side
        return draw(st.sampled_from([f".{text}", f"{text}.", f"{text}..5", "."]))
    if kind == 6:  # separators Python or a locale would take
        return draw(st.sampled_from(["_", ",", " ", "'"])).join([text, draw(digit_runs)])
    if kind == 7:  # the same number in another notation
        return draw(st.sampled_from([f"0x{text}", f"0b{text}", f"{text}j", f"({text})", f"{text}%", f"${text}"]))
    if kind == 8:
        return draw(st.sampled_from(["NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf", "", "null", "max"]))
    return text + draw(st.sampled_from(["\n", "\r\n", "\x00", "\u200b", "\u0301"]))  # an invisible tail


not_strings = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.lists(digit_runs, max_size=2),
    st.dictionaries(st.just("value"), digit_runs, max_size=1),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
)


@given(name=field_names, raw=hostile())
@example(name="amount", raw="1e2").via("issue 13")
@example(name="amount", raw="1E+2").via("issue 13")
@example(name="amount", raw=" 5.00").via("issue 13")
@example(name="amount", raw="5.00\n").via("issue 13")
@example(name="amount", raw="+5").via("issue 13")
@example(name="amount", raw=".5").via("issue 13")
@example(name="amount", raw="5.").via("issue 13")
@example(name="amount", raw="10.0000").via("issue 13")
@example(name="amount", raw="\uff15").via("issue 13")
@example(name="amount", raw="\u0665").via("issue 13")
@example(name="percentage", raw="1e1").via("issue 13")
@example(name="percentage", raw="\uff15").via("issue 13")
@example(name="cart_total", raw="150.00 ").via("issue 13")
def test_near_misses_are_refused_with_the_fields_own_error(name: str, raw: str) -> None:
    parse, refusal, _, _, _ = FIELDS[name]
    assert not plain_amount(raw)
    with pytest.raises(refusal) as refused:
        parse(raw)
    assert refused.value.message.startswith(f"{name} ")


@given(name=field_names, raw=st.text(max_size=16))
def test_any_text_is_read_only_if_plain(name: str, raw: str) -> None:
    parse, refusal, _, _, _ = FIELDS[name]
    try:
        parse(raw)
    except refusal:
        return
    assert plain_amount(raw), raw


@given(name=field_names, raw=not_strings)
def test_floats_bools_and_other_json_are_refused(name: str, raw: object) -> None:
    parse, refusal, _, _, _ = FIELDS[name]
    with pytest.raises(refusal):
        parse(raw)


@given(name=field_names, raw=st.integers(min_value=-(10**30), max_value=10**30))
def test_json_integers_only_where_documented(name: str, raw: int) -> None:
    parse, refusal, low, high, integers = FIELDS[name]
    if integers and low <= raw <= high:
        assert parse(raw) == Decimal(raw)
    else:
        with pytest.raises(refusal):
            parse(raw)


@given(
    name=field_names,
    cents=st.one_of(st.integers(min_value=0, max_value=20_000), st.integers(min_value=0, max_value=10**12)),
    places=st.sampled_from([0, 1, 2]),
)
@example(name="amount", cents=100_000_000, places=2).via("the largest payment")
@example(name="amount", cents=100_000_001, places=2).via("a cent above it")
@example(name="cart_total", cents=0, places=0).via("an empty cart")
def test_plain_amounts_round_trip_exactly(name: str, cents: int, places: int) -> None:
    parse, refusal, low, high, _ = FIELDS[name]
    cents -= cents % 10 ** (2 - places)  # a value with that many decimals, written with exactly that many
    value = Decimal(cents).scaleb(-2)
    whole, fraction = divmod(cents, 100)
    text = str(whole) if places == 0 else f"{whole}.{fraction:02d}"[: len(str(whole)) + 1 + places]
    assert plain_amount(text)
    if low <= value <= high:
        parsed = parse(text)
        assert parsed == value
        assert money(parsed) == f"{whole}.{fraction:02d}"
    else:
        with pytest.raises(refusal):
            parse(text)


# ------------------------------------------------------------------ credits
@given(raw=st.one_of(hostile(), st.text(max_size=12)))
@example(raw="max ").via("issue 13")
@example(raw="MAX ").via("issue 13")
@example(raw="MAX").via("issue 13")
@example(raw=" Max").via("issue 13")
@example(raw=" 7").via("issue 13")
def test_credits_are_ascii_digits_or_exactly_max(raw: str) -> None:
    if raw == "max":
        assert parse_consume_amount(raw) == "max"
    elif raw and all(c in ASCII_DIGITS for c in raw) and 0 < int(raw) <= MAX_CREDITS:
        assert parse_consume_amount(raw) == int(raw)
    else:
        with pytest.raises(InvalidAmount, match=r"^amount "):
            parse_consume_amount(raw)


@given(raw=st.one_of(not_strings, st.integers(min_value=-(10**30), max_value=10**30)))
def test_credits_take_positive_json_integers_only(raw: object) -> None:
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 < raw <= MAX_CREDITS:
        assert parse_consume_amount(raw) == raw
        assert parse_consume_amount(str(raw)) == raw
    else:
        with pytest.raises(InvalidAmount):
            parse_consume_amount(raw)
