"""Price intervals and automatic codes: a cart's total quoted against Topomer's intervals.

A cart holds at most one automatic code, pointed at by its cart record (``CartCode``). A quote for the
same interval answers the same code while it is active and unexpired; a total that moved to another
interval retires the old code and draws a new one in one transaction; a total no interval holds retires it.
"""

from __future__ import annotations

import secrets
import threading
import time
from datetime import datetime, timedelta
from decimal import Decimal

from woo_backend.clock import Clock, iso_seconds, utcnow
from woo_backend.domain.promo import (
    AUTO_CODE_LENGTH,
    CODE_ALPHABET,
    CartCode,
    CartMoved,
    CodeChanged,
    DuplicateCode,
    Interval,
    IntervalsUnavailable,
    InvalidIntervals,
    PromoCode,
    PromoType,
    Quote,
    auto_code,
    changed,
    find_interval,
    normalize_intervals,
)
from woo_backend.errors import Busy, UpstreamError
from woo_backend.observability import logger, metrics
from woo_backend.services.promo_ports import PromoTopomer, Pusher, QuoteStore

INTERVALS_CACHE_SECONDS = 60.0
MAX_CODE_ATTEMPTS = 5
MAX_CART_ATTEMPTS = 5


class PromoQuotes:
    def __init__(
        self,
        store: QuoteStore,
        topomer: PromoTopomer,
        pusher: Pusher,
        ttl: timedelta,
        clock: Clock = utcnow,
        intervals_cache_seconds: float = INTERVALS_CACHE_SECONDS,
    ) -> None:
        self.store = store
        self.topomer = topomer
        self.pusher = pusher
        self.ttl = ttl
        self.clock = clock
        self.intervals_cache_seconds = intervals_cache_seconds
        self._intervals: tuple[list[Interval], float] | None = None
        self._lock = threading.Lock()

    # -------------------------------------------------------------- intervals
    def intervals(self) -> tuple[list[Interval], bool]:
        """Topomer's intervals (cached in memory, a minute by default) and whether they are a stale copy.

        Topomer down, or answering intervals that do not make sense: the last good copy, ``stale``.
        """
        now = time.monotonic()
        with self._lock:
            if self._intervals and self._intervals[1] > now:
                return self._intervals[0], False
        try:
            raw = self.topomer.price_intervals()
            intervals = normalize_intervals((i.min, i.max, i.percentage) for i in raw)
        except (UpstreamError, InvalidIntervals) as exc:
            logger.error("price intervals unusable; serving the last good copy", extra={"code": exc.code})
            metrics.add_metric(name="IntervalsStale", unit="Count", value=1)
            last = self.store.last_intervals()
            if last is None:
                raise IntervalsUnavailable("Topomer's price intervals are unavailable and none were kept") from exc
            return last[0], True
        with self._lock:
            fresh = self._intervals is None or self._intervals[0] != intervals
            self._intervals = (intervals, now + self.intervals_cache_seconds)
        if fresh:
            self.store.save_intervals(intervals, iso_seconds(self.clock()))
        return intervals, False

    # -------------------------------------------------------------- automatic codes
    def quote(self, cart_id: str, total: Decimal, email: str | None) -> Quote:
        """The cart's automatic code for ``total`` (``created``: drawn now), or none if no interval holds it."""
        intervals, stale = self.intervals()
        interval = find_interval(intervals, total)
        for _ in range(MAX_CART_ATTEMPTS):
            cart = self.store.get_cart(cart_id)
            current = self.store.get(cart.code) if cart else None
            if interval is None:
                if current is not None and current.active:
                    self._retire(current)
                return Quote(code=None, total=total, stale=stale)
            if cart is not None and current is not None and self._still_serves(current, cart, interval):
                return Quote(code=current, total=total, stale=stale)
            try:
                code = self._new_auto_code(cart_id, cart, current, interval, email)
            except CartMoved:
                continue  # another quote for this cart won: look again
            return Quote(code=code, total=total, stale=stale, created=True)
        raise Busy("this cart is being quoted by many requests at once; retry")

    def _still_serves(self, code: PromoCode, cart: CartCode, interval: Interval) -> bool:
        """The cart's code answers again while it is active, unexpired and for the same interval."""
        unexpired = code.expires_at is None or datetime.fromisoformat(code.expires_at) > self.clock()
        return code.active and unexpired and cart.interval == interval.key

    def _new_auto_code(
        self,
        cart_id: str,
        cart: CartCode | None,
        current: PromoCode | None,
        interval: Interval,
        email: str | None,
    ) -> PromoCode:
        now = self.clock()
        retired = changed(current, now, active=False) if current is not None and current.active else None
        for _ in range(MAX_CODE_ATTEMPTS):
            code = PromoCode(
                code=auto_code([secrets.randbelow(len(CODE_ALPHABET)) for _ in range(AUTO_CODE_LENGTH)]),
                type=PromoType.AUTO,
                percentage=interval.percentage,
                usage_limit=1,
                minimum_amount=interval.min,
                email=email,
                cart_id=cart_id,
                interval=interval.key,
                expires_at=iso_seconds(now + self.ttl),
                created_at=iso_seconds(now),
                updated_at=iso_seconds(now),
            )
            pointer = CartCode(cart_id, code.code, interval.key, (cart.version if cart else 0) + 1)
            try:
                self.store.create(
                    code, cart=pointer, cart_expected_version=cart.version if cart else None, retired=retired
                )
            except DuplicateCode:
                metrics.add_metric(name="PromoCodeCollision", unit="Count", value=1)
                continue  # astronomically rare: draw another
            except CodeChanged:
                raise CartMoved(cart_id) from None
            metrics.add_metric(name="AutoCodeCreated", unit="Count", value=1)
            if retired is not None:
                self.pusher.push(retired.code, retired)
            return self.pusher.push(code.code, code) or code
        raise Busy("could not draw a free code")

    def _retire(self, code: PromoCode) -> None:
        retired = changed(code, self.clock(), active=False)
        try:
            self.store.save_change(retired)
        except CodeChanged:
            return  # changed meanwhile (by an admin or another quote): that change stands
        self.pusher.push(code.code, retired)
