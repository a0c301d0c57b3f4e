"""Promo rules: interval normalization and lookup (with properties), codes, coupon fields."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from woo_backend.api.promo import CodeView, IntervalView
from woo_backend.domain.promo import (
    CODE_PATTERN,
    Interval,
    InvalidCode,
    InvalidExpiry,
    InvalidIntervals,
    InvalidPercentage,
    InvalidTotal,
    PromoCode,
    PromoType,
    Quote,
    Side,
    SideSync,
    auto_code,
    changed,
    check_expiry,
    check_percentage,
    code_changes,
    coupon_fields,
    discount,
    find_interval,
    new_code,
    normalize_code,
    normalize_intervals,
    parse_total,
    plain,
)

D = Decimal
SEED = [(D("100.00"), D("250.00"), D("10")), (D("50.00"), D("100.00"), D("5")), (D("250.00"), None, D("15"))]


def test_intervals_are_sorted_and_looked_up_lower_inclusive_upper_exclusive() -> None:
    intervals = normalize_intervals(SEED)
    assert [i.min for i in intervals] == [D("50.00"), D("100.00"), D("250.00")]
    assert find_interval(intervals, D("49.99")) is None
    assert find_interval(intervals, D("50.00")).percentage == 5  # type: ignore[union-attr]
    assert find_interval(intervals, D("99.99")).percentage == 5  # type: ignore[union-attr]
    assert find_interval(intervals, D("100.00")).percentage == 10  # type: ignore[union-attr]
    assert find_interval(intervals, D("1000000")).percentage == 15  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "raw",
    [
        [(D("0"), D("100"), D("5")), (D("90"), D("200"), D("10"))],  # overlap
        [(D("0"), None, D("5")), (D("90"), D("200"), D("10"))],  # open interval before another
        [(D("100"), D("50"), D("5"))],  # bounds reversed
        [(D("0"), D("50"), D("0"))],  # 0 %
        [(D("0"), D("50"), D("100.01"))],  # above 100 %
        [(D("-1"), D("50"), D("5"))],  # negative bound
        [(D("0"), D("50"), D("NaN"))],
    ],
)
def test_intervals_that_make_no_sense_are_rejected(raw: list[tuple[Decimal, Decimal | None, Decimal]]) -> None:
    with pytest.raises(InvalidIntervals):
        normalize_intervals(raw)


bounds = st.lists(st.decimals(min_value=0, max_value=10000, places=2), min_size=1, max_size=8, unique=True)
percentages = st.decimals(min_value=D("0.01"), max_value=100, places=2)


@given(edges=bounds, percentage=percentages, total=st.decimals(min_value=0, max_value=20000, places=2))
def test_contiguous_intervals_hold_every_total_above_the_first_bound_exactly_once(
    edges: list[Decimal], percentage: Decimal, total: Decimal
) -> None:
    edges = sorted(edges)
    raw = [(low, high, percentage) for low, high in zip(edges, [*edges[1:], None], strict=True)]
    intervals = normalize_intervals(reversed(raw))
    holding = [i for i in intervals if i.holds(total)]
    assert len(holding) == (1 if total >= edges[0] else 0)
    if holding:
        assert find_interval(intervals, total) == holding[0]
        assert holding[0].min <= total
        assert holding[0].max is None or total < holding[0].max


@given(raw=st.lists(st.tuples(bounds, percentages), max_size=5))
def test_normalized_intervals_never_overlap(raw: list[tuple[list[Decimal], Decimal]]) -> None:
    candidates = [(sorted(b)[0], sorted(b)[-1] if len(b) > 1 else None, p) for b, p in raw]
    try:
        intervals = normalize_intervals(candidates)
    except InvalidIntervals:
        return
    for before, after in itertools.pairwise(intervals):
        assert before.max is not None
        assert before.max <= after.min


@given(total=st.decimals(min_value=0, max_value=10**6, places=2), percentage=percentages)
def test_discount_is_exact_to_the_cent_and_never_above_the_total(total: Decimal, percentage: Decimal) -> None:
    value = discount(total, percentage)
    assert value == value.quantize(D("0.01"))
    assert D(0) <= value <= total
    assert abs(value - total * percentage / 100) <= D("0.005")


def test_percentages_print_without_exponents() -> None:
    assert str(plain(D("10.00"))) == "10"
    assert str(plain(D("12.50"))) == "12.5"
    assert str(check_percentage("10")) == "10"
    assert str(check_percentage(100)) == "100"


@pytest.mark.parametrize("raw", ["0", "-5", "100.5", "abc", "1.001", "NaN"])
def test_bad_percentages_are_refused(raw: str) -> None:
    with pytest.raises(InvalidPercentage):
        check_percentage(raw)


@pytest.mark.parametrize(("raw", "code"), [("summer-10", "SUMMER-10"), (" ab1 ", "AB1"), ("X" * 32, "X" * 32)])
def test_codes_are_stored_upper_case(raw: str, code: str) -> None:
    assert normalize_code(raw) == code


@pytest.mark.parametrize("raw", ["ab", "X" * 33, "with space", "under_score", "ümlaut", ""])
def test_bad_codes_are_refused(raw: str) -> None:
    with pytest.raises(InvalidCode):
        normalize_code(raw)


@given(st.lists(st.integers(min_value=0, max_value=10**6), min_size=10, max_size=10))
def test_automatic_codes_are_valid_codes(indexes: list[int]) -> None:
    assert CODE_PATTERN.fullmatch(auto_code(indexes))


@pytest.mark.parametrize(("raw", "total"), [("12", D("12.00")), ("0.5", D("0.50")), (7, D("7.00"))])
def test_totals_are_read_as_cents(raw: str | int, total: Decimal) -> None:
    assert parse_total(raw) == total


@pytest.mark.parametrize(
    "raw", ["12.345", "-1", "abc", "1e3", "1E+2", "Infinity", "NaN", "", "1 000", "100000000.01", " 0.5 ", "150.00 "]
)
def test_bad_totals_are_refused(raw: str) -> None:
    with pytest.raises(InvalidTotal):
        parse_total(raw)


def test_expiry_must_be_in_the_future_with_a_zone() -> None:
    now = datetime(2026, 11, 23, tzinfo=UTC)
    assert check_expiry(now + timedelta(days=1), now) == now + timedelta(days=1)
    with pytest.raises(InvalidExpiry):
        check_expiry(now - timedelta(seconds=1), now)
    with pytest.raises(InvalidExpiry):
        check_expiry(datetime(2030, 1, 1), now)


def _code(**changes: object) -> PromoCode:
    base = PromoCode(
        code="TPM-ABCDEFGHJK",
        type=PromoType.AUTO,
        percentage=D("10"),
        usage_limit=1,
        minimum_amount=D("100.00"),
        email="a@example.com",
        expires_at="2026-11-25T10:00:00+00:00",
        created_at="2026-11-23T10:00:00+00:00",
        updated_at="2026-11-23T10:00:00+00:00",
    )
    return base.model_copy(update=changes)


def test_an_automatic_code_becomes_a_single_use_percent_coupon() -> None:
    fields = coupon_fields(_code(), datetime(2026, 11, 23, tzinfo=UTC))
    assert fields == {
        "discount_type": "percent",
        "amount": "10",
        "individual_use": True,
        "usage_limit": 1,
        "date_expires": "2026-11-25T10:00:00Z",
        "minimum_amount": "100.00",
        "email_restrictions": ["a@example.com"],
        "status": "publish",
    }


def test_an_inactive_code_is_a_drafted_expired_coupon() -> None:
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    fields = coupon_fields(_code(active=False), now)
    assert fields["status"] == "draft"
    assert fields["date_expires"] == "2026-11-23T11:59:59Z"


def test_a_side_behind_the_record_is_pending() -> None:
    code = _code(
        version=3, sync={Side.WOOCOMMERCE: SideSync(synced_version=3), Side.TOPOMER: SideSync(synced_version=2)}
    )
    assert code.pending() == [Side.TOPOMER]
    view = CodeView.of(code).model_dump()
    assert view["sync"]["woocommerce"]["status"] == "synced"
    assert view["sync"]["topomer"]["status"] == "pending"


def test_interval_view_uses_decimal_strings() -> None:
    assert IntervalView.of(Interval(min=D("250.00"), max=None, percentage=D("15"))).model_dump() == {
        "min": "250.00",
        "max": None,
        "percentage": "15",
    }


def test_a_new_admin_code_is_checked_and_stamped() -> None:
    now = datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=UTC)
    code = new_code(
        code=" spring-10 ",
        percentage="12.50",
        promo_type="manual",
        active=True,
        expires_at=datetime(2026, 12, 31, 23, 59, 59, 999, tzinfo=UTC),
        usage_limit=3,
        now=now,
    )
    assert (code.code, code.type, str(code.percentage), code.usage_limit) == ("SPRING-10", PromoType.MANUAL, "12.5", 3)
    assert (code.created_at, code.updated_at) == ("2026-11-23T10:00:00+00:00", "2026-11-23T10:00:00+00:00")
    assert code.expires_at == "2026-12-31T23:59:59+00:00"
    with pytest.raises(InvalidCode):  # the code is checked first
        new_code(code="x", percentage="0", promo_type="manual", active=True, expires_at=None, usage_limit=None, now=now)


def test_an_admin_change_holds_only_the_fields_given_and_bumps_the_version() -> None:
    now = datetime(2026, 11, 24, tzinfo=UTC)
    assert code_changes(percentage=None, active=False, expires_at=None, usage_limit=None, now=now) == {"active": False}
    fields = code_changes(percentage=20, active=None, expires_at=None, usage_limit=5, now=now)
    assert fields == {"percentage": D("20"), "usage_limit": 5}
    after = changed(_code(), now, **fields)
    assert (after.percentage, after.usage_limit, after.version, after.updated_at) == (
        D("20"),
        5,
        2,
        "2026-11-24T00:00:00+00:00",
    )


def test_a_quote_discounts_its_total_by_its_code() -> None:
    assert Quote(code=_code(), total=D("123.45"), stale=False).discount == D("12.35")
    assert Quote(code=None, total=D("10.00"), stale=True).discount is None
