"""Promo codes: Topomer's price intervals, automatic codes by cart total, admin-managed codes.

A code lives in three places that must agree: this service's record (the source of truth), a
WooCommerce coupon (so the shop's checkout applies it) and Topomer's promo. The record keeps a
``version`` bumped by every change and, per side, the version that side last accepted; a side behind
the record is "pending" and the sync brings it up to date.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from woo_backend.clock import iso_seconds, woo_date
from woo_backend.domain.money import CENT, parse_decimal
from woo_backend.errors import Conflict, DomainError, ErrorKind, InvalidRequest, NotFound

HUNDRED = Decimal(100)
MAX_PERCENTAGE = HUNDRED
# The largest cart total a quote accepts: far above any real cart, it keeps totals to a sane size.
MAX_CART_TOTAL = Decimal("100000000")
CODE_PATTERN = re.compile(r"^[A-Z0-9-]{3,32}$")
# Unambiguous characters only (no 0/O, 1/I): codes are read aloud and typed by customers.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
AUTO_CODE_PREFIX = "TPM-"
AUTO_CODE_LENGTH = 10  # 32^10 = 2^50 codes: unguessable, and collisions are checked anyway


def plain(value: Decimal) -> Decimal:
    """The shortest exact form without an exponent: 10.00 -> 10, 12.50 -> 12.5 (never 1E+1)."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


class PromoType(StrEnum):
    MANUAL = "manual"
    AUTO = "auto"


class Side(StrEnum):
    WOOCOMMERCE = "woocommerce"
    TOPOMER = "topomer"


# ------------------------------------------------------------------ errors
class InvalidIntervals(DomainError):
    kind = ErrorKind.BAD_GATEWAY
    code = "invalid_intervals"


class IntervalsUnavailable(DomainError):
    kind = ErrorKind.UNAVAILABLE
    code = "intervals_unavailable"


class InvalidCode(InvalidRequest):
    code = "invalid_code"


class InvalidPercentage(InvalidRequest):
    code = "invalid_percentage"


class InvalidExpiry(InvalidRequest):
    code = "invalid_expiry"


class InvalidTotal(InvalidRequest):
    code = "invalid_cart_total"


class DuplicateCode(Conflict):
    code = "duplicate_code"


class CodeNotFound(NotFound):
    code = "unknown_code"


# ------------------------------------------------------------------ intervals
class Interval(BaseModel):
    model_config = ConfigDict(frozen=True)

    min: Decimal
    max: Decimal | None
    percentage: Decimal

    def holds(self, total: Decimal) -> bool:
        """Lower bound inclusive, upper bound exclusive; no upper bound means open-ended."""
        return self.min <= total and (self.max is None or total < self.max)

    @property
    def key(self) -> str:
        return f"{self.min}-{self.max if self.max is not None else ''}"


def _bound(value: Decimal) -> Decimal:
    """A bound as money with two decimals (100 -> 100.00); a finer bound is kept exactly as sent."""
    cents = value.quantize(CENT)
    return cents if cents == value else value


def normalize_intervals(raw: Iterable[tuple[Decimal, Decimal | None, Decimal]]) -> list[Interval]:
    """Topomer's intervals sorted by lower bound, checked: no overlap, bounds in order, percentage in (0, 100].

    Raises ``InvalidIntervals`` naming the first problem; callers keep the last good copy then.
    """
    intervals = []
    for low, high, percentage in raw:
        if not low.is_finite() or low < 0 or (high is not None and (not high.is_finite() or high <= low)):
            raise InvalidIntervals(f"interval [{low}, {high}) has bounds out of order")
        if not percentage.is_finite() or not (0 < percentage <= HUNDRED):
            raise InvalidIntervals(f"interval [{low}, {high}) has percentage {percentage} outside (0, 100]")
        intervals.append(
            Interval(min=_bound(low), max=_bound(high) if high is not None else None, percentage=plain(percentage))
        )
    intervals.sort(key=lambda i: i.min)
    for before, after in itertools.pairwise(intervals):
        if before.max is None or before.max > after.min:
            raise InvalidIntervals(f"intervals starting at {before.min} and {after.min} overlap")
    return intervals


def find_interval(intervals: Sequence[Interval], total: Decimal) -> Interval | None:
    return next((i for i in intervals if i.holds(total)), None)


def discount(total: Decimal, percentage: Decimal) -> Decimal:
    return (total * percentage / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)


def parse_total(raw: object) -> Decimal:
    """A cart total as the shop sends it: a decimal string or a whole JSON number, zero or more, in cents."""
    return parse_decimal(
        raw, field="cart_total", maximum=MAX_CART_TOTAL, allow_zero=True, allow_int=True, error=InvalidTotal
    )


# ------------------------------------------------------------------ codes
def normalize_code(raw: str) -> str:
    code = raw.strip().upper()
    if not CODE_PATTERN.fullmatch(code):
        raise InvalidCode("code must be 3 to 32 of A-Z, 0-9 and -")
    return code


def auto_code(random_indexes: Sequence[int]) -> str:
    """An automatic code from random indexes into the alphabet (the caller draws them from ``secrets``)."""
    return AUTO_CODE_PREFIX + "".join(CODE_ALPHABET[i % len(CODE_ALPHABET)] for i in random_indexes)


def check_percentage(raw: object) -> Decimal:
    """A code's percentage (a decimal string or a whole JSON number) in (0, 100] with at most two decimals, in
    its shortest form (12.50 -> 12.5)."""
    return plain(
        parse_decimal(raw, field="percentage", maximum=MAX_PERCENTAGE, allow_int=True, error=InvalidPercentage)
    )


def check_expiry(expires_at: datetime, now: datetime) -> datetime:
    if expires_at.tzinfo is None:
        raise InvalidExpiry("expires_at needs a time zone (e.g. 2026-12-31T23:59:59Z)")
    if expires_at <= now:
        raise InvalidExpiry("expires_at must be in the future")
    return expires_at


class SideSync(BaseModel):
    """How far one side (WooCommerce or Topomer) has followed the record."""

    model_config = ConfigDict(frozen=True)

    remote_id: str | None = None  # the coupon id / Topomer promo id, once created
    synced_version: int = 0
    attempts: int = 0
    last_error: str | None = None
    synced_at: str | None = None
    # When a create was claimed and sent, until its answer is recorded. Still set with no ``remote_id``, it
    # means the create's fate is unknown (a lost answer, or a run stopped mid-call): it is never sent again.
    create_started_at: str | None = None


class PromoCode(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    type: PromoType
    percentage: Decimal
    active: bool = True
    expires_at: str | None = None  # ISO 8601, UTC
    usage_limit: int | None = None
    minimum_amount: Decimal | None = None
    email: str | None = None
    cart_id: str | None = None
    interval: str | None = None
    created_at: str
    updated_at: str
    version: int = 1
    sync: dict[Side, SideSync] = {}

    def side(self, side: Side) -> SideSync:
        return self.sync.get(side, SideSync())

    def pending(self) -> list[Side]:
        return [side for side in Side if self.side(side).synced_version < self.version]


def new_code(
    *,
    code: str,
    percentage: str | int,
    promo_type: str,
    active: bool,
    expires_at: datetime | None,
    usage_limit: int | None,
    now: datetime,
) -> PromoCode:
    """An admin's new code, checked (in this order: code, percentage, expiry) and stamped ``now``."""
    stamp = iso_seconds(now)
    return PromoCode(
        code=normalize_code(code),
        type=PromoType(promo_type),
        percentage=check_percentage(percentage),
        active=active,
        expires_at=iso_seconds(check_expiry(expires_at, now)) if expires_at else None,
        usage_limit=usage_limit,
        created_at=stamp,
        updated_at=stamp,
    )


def code_changes(
    *,
    percentage: str | int | None,
    active: bool | None,
    expires_at: datetime | None,
    usage_limit: int | None,
    now: datetime,
) -> dict[str, Any]:
    """An admin's change to a code, checked: only the fields given (None leaves a field as it is)."""
    fields: dict[str, Any] = {}
    if percentage is not None:
        fields["percentage"] = check_percentage(percentage)
    if active is not None:
        fields["active"] = active
    if expires_at is not None:
        fields["expires_at"] = iso_seconds(check_expiry(expires_at, now))
    if usage_limit is not None:
        fields["usage_limit"] = usage_limit
    return fields


def changed(code: PromoCode, now: datetime, **fields: Any) -> PromoCode:
    """``code`` with ``fields`` changed: the next version, stamped ``now`` (both sides fall behind it)."""
    return code.model_copy(update={**fields, "version": code.version + 1, "updated_at": iso_seconds(now)})


class Quote(BaseModel):
    """A cart's quote: its automatic code for ``total``, or none when no interval holds the total."""

    model_config = ConfigDict(frozen=True)

    code: PromoCode | None
    total: Decimal
    stale: bool  # the intervals were the last good copy, Topomer being down
    created: bool = False  # the code was drawn by this quote

    @property
    def discount(self) -> Decimal | None:
        return discount(self.total, self.code.percentage) if self.code is not None else None


@dataclass(frozen=True)
class CartCode:
    """The automatic code a cart holds now; ``version`` moves with every new code it is given."""

    cart_id: str
    code: str
    interval: str
    version: int


class CartMoved(Exception):
    """The cart's automatic code changed since it was read (the store's optimistic check)."""


class CodeChanged(Exception):
    """The code's record changed since it was read, or does not exist (the store's optimistic check)."""


def coupon_date(moment: datetime) -> str:
    """An instant as a coupon's ``date_expires``, the same instant whatever the shop's time zone.

    WooCommerce reads ``date_expires`` in the site's time zone unless it is exactly
    ``YYYY-MM-DDTHH:MM:SS`` followed by ``Z`` or ``+HH:MM`` (abstract-wc-data.php, ``set_date_prop()``; the
    minutes of an offset are dropped by ``iso8601_timezone_to_offset()``), and ignores ``date_expires_gmt`` on
    write (WC_Coupon has no setter for it). So: UTC, with ``Z``.
    """
    return woo_date(moment) + "Z"  # woo_date: in UTC (a naive moment is taken as UTC)


def coupon_expiry_confirmed(sent: str, answered_gmt: str | None) -> bool:
    """Whether the coupon's ``date_expires_gmt`` (``YYYY-MM-DDTHH:MM:SS``, GMT) is the ``date_expires`` sent
    (``""``: no expiry, answered as null)."""
    if not sent or not answered_gmt:
        return not sent and not answered_gmt
    try:
        answered = datetime.fromisoformat(answered_gmt).replace(tzinfo=UTC)
    except ValueError:
        return False
    return datetime.fromisoformat(sent.replace("Z", "+00:00")) == answered


def coupon_fields(code: PromoCode, now: datetime) -> dict[str, Any]:
    """The WooCommerce coupon that makes the shop apply ``code`` exactly as recorded.

    An inactive code stays as a coupon but drafted and expired, so no checkout can apply it. The code
    itself is sent on creation only (WooCommerce stores it lower-cased and matches case-insensitively).
    """
    fields: dict[str, Any] = {
        "discount_type": "percent",
        "amount": str(code.percentage),
        "individual_use": code.type is PromoType.AUTO,
        "usage_limit": code.usage_limit,
        # No expiry is "", not null: WooCommerce skips a null (the v2 coupons controller's
        # prepare_object_for_database()), so a retired code's past expiry would stay on a reactivated coupon.
        "date_expires": coupon_date(datetime.fromisoformat(code.expires_at)) if code.expires_at else "",
        "minimum_amount": str(code.minimum_amount) if code.minimum_amount is not None else "",
        "email_restrictions": [code.email] if code.email else [],
        "status": "publish" if code.active else "draft",
    }
    if not code.active:
        fields["date_expires"] = coupon_date(now - timedelta(seconds=1))
    return fields


def topomer_fields(code: PromoCode) -> dict[str, Any]:
    return {
        "code": code.code,
        "percentage": str(code.percentage),
        "type": code.type.value,
        "active": code.active,
        "expires_at": code.expires_at,
        "usage_limit": code.usage_limit,
    }
