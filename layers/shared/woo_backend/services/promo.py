"""Promo use cases: price intervals, automatic quotes, admin codes, and pushing codes to both sides.

Every change is recorded first (with a work-list entry in the same transaction), then pushed to
WooCommerce and Topomer at once; a side that fails keeps its error and attempts on the record and is
pushed again by the scheduled sync. Nothing is lost between the three places.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from woo_backend.domain.promo import (
    AUTO_CODE_LENGTH,
    CODE_ALPHABET,
    CodeNotFound,
    DuplicateCode,
    Interval,
    IntervalsUnavailable,
    InvalidIntervals,
    PromoCode,
    PromoType,
    Side,
    SideSync,
    auto_code,
    coupon_expiry_confirmed,
    coupon_fields,
    discount,
    find_interval,
    normalize_intervals,
    topomer_fields,
)
from woo_backend.errors import Busy, ConcurrentUpdate, ErrorKind, UpstreamError, UpstreamInvalidResponse
from woo_backend.http import UpstreamOutcomeUnknown
from woo_backend.observability import logger, metrics
from woo_backend.settings import PromoSettings, TopomerSettings, WooCommerceSettings
from woo_backend.store.promo import CartCode, CartMoved, CodeChanged, PromoStore
from woo_backend.topomer import PriceInterval, TopomerClient, TopomerPromo
from woo_backend.woocommerce import Coupon, WooCommerceClient

INTERVALS_CACHE_SECONDS = 60.0
MAX_CODE_ATTEMPTS = 5
MAX_CART_ATTEMPTS = 5


class PromoTopomer(Protocol):
    def price_intervals(self) -> list[PriceInterval]: ...

    def create_promo(self, code: str, percentage: Decimal, promo_type: str) -> TopomerPromo: ...

    def update_promo(self, promo_id: int | str, fields: dict[str, Any]) -> None: ...


class PromoShop(Protocol):
    def create_coupon(self, data: dict[str, Any]) -> Coupon: ...

    def update_coupon(self, coupon_id: int, data: dict[str, Any]) -> Coupon: ...

    def find_coupon(self, code: str) -> Coupon | None: ...


class TopomerPromoParked(UpstreamError):
    """Topomer's side waits for a person: a create whose fate is unknown, or one taken without naming its id.

    The side keeps ``create_started_at`` (and a ``last_error`` starting with this code); while it does, the
    push never creates the promo again.
    """

    kind = ErrorKind.UNAVAILABLE
    code = "topomer_promo_parked"

    def __init__(self, message: str, started_at: str) -> None:
        super().__init__("topomer", message)
        self.started_at = started_at


class CreateClaimedElsewhere(Exception):
    """Another push claimed this side's create first: it sends the create and records the answer."""


class TopomerPromoBehind(UpstreamError):
    """Topomer created the promo (``remote_id``) but the update that follows failed: the id must be kept.
    Never reaches a caller (the sync records it on the side and retries); its message carries the cause's code."""

    kind = ErrorKind.UNAVAILABLE
    code = "topomer_promo_behind"

    def __init__(self, remote_id: str, cause: UpstreamError) -> None:
        super().__init__("topomer", f"created as {remote_id}, then the update failed: {cause.code}: {cause.message}")
        self.remote_id = remote_id


def utcnow() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


class PromoService:
    def __init__(
        self,
        store: PromoStore,
        topomer: PromoTopomer,
        shop: PromoShop,
        ttl: timedelta,
        clock: Callable[[], datetime] = utcnow,
        intervals_cache_seconds: float = INTERVALS_CACHE_SECONDS,
    ) -> None:
        self.store = store
        self.topomer = topomer
        self.shop = shop
        self.ttl = ttl
        self.clock = clock
        self.intervals_cache_seconds = intervals_cache_seconds
        self._intervals: tuple[list[Interval], float] | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls) -> PromoService:
        settings = PromoSettings.from_env()
        return cls(
            PromoStore(settings.table),
            TopomerClient(TopomerSettings.from_env()),
            WooCommerceClient(WooCommerceSettings.from_env()),
            timedelta(hours=float(settings.ttl_hours)),
            intervals_cache_seconds=float(settings.intervals_cache_seconds),
        )

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
            changed = self._intervals is None or self._intervals[0] != intervals
            self._intervals = (intervals, now + self.intervals_cache_seconds)
        if changed:
            self.store.save_intervals(intervals, _iso(self.clock()))
        return intervals, False

    # -------------------------------------------------------------- automatic codes
    def quote(self, cart_id: str, total: Decimal, email: str | None) -> tuple[dict[str, Any], bool]:
        """The cart's automatic code for ``total``: (answer, created)."""
        intervals, stale = self.intervals()
        interval = find_interval(intervals, total)
        for _ in range(MAX_CART_ATTEMPTS):
            cart = self.store.get_cart(cart_id)
            current = self.store.get(cart.code) if cart else None
            if interval is None:
                if current is not None and current.active:
                    self._retire(current)
                return {"eligible": False, "stale": stale}, False
            if cart is not None and current is not None and self._still_serves(current, cart, interval):
                return self._quote_answer(current, total, stale), False
            try:
                code = self._new_auto_code(cart_id, cart, current, interval, email)
            except CartMoved:
                continue  # another quote for this cart won: look again
            return self._quote_answer(code, total, stale), True
        raise Busy("this cart is being quoted by many requests at once; retry")

    def _still_serves(self, code: PromoCode, cart: CartCode, interval: Interval) -> bool:
        """The cart's code answers again while it is active, unexpired and for the same interval."""
        unexpired = code.expires_at is None or datetime.fromisoformat(code.expires_at) > self.clock()
        return code.active and unexpired and cart.interval == interval.key

    def _quote_answer(self, code: PromoCode, total: Decimal, stale: bool) -> dict[str, Any]:
        return {
            "eligible": True,
            "code": code.code,
            "percentage": str(code.percentage),
            "discount": str(discount(total, code.percentage)),
            "minimum_amount": str(code.minimum_amount),
            "expires_at": code.expires_at,
            "stale": stale,
        }

    def _new_auto_code(
        self,
        cart_id: str,
        cart: CartCode | None,
        current: PromoCode | None,
        interval: Interval,
        email: str | None,
    ) -> PromoCode:
        now = self.clock()
        retired = self._changed(current, active=False) if current is not None and current.active else None
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
                expires_at=_iso(now + self.ttl),
                created_at=_iso(now),
                updated_at=_iso(now),
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
                self.push(retired.code, retired)
            return self.push(code.code, code) or code
        raise Busy("could not draw a free code")

    def _retire(self, code: PromoCode) -> None:
        changed = self._changed(code, active=False)
        try:
            self.store.save_change(changed)
        except CodeChanged:
            return  # changed meanwhile (by an admin or another quote): that change stands
        self.push(code.code, changed)

    def _changed(self, code: PromoCode, **fields: Any) -> PromoCode:
        return code.model_copy(update={**fields, "version": code.version + 1, "updated_at": _iso(self.clock())})

    # -------------------------------------------------------------- admin codes
    def create(self, code: PromoCode) -> PromoCode:
        self.store.create(code)
        metrics.add_metric(name="PromoCodeCreated", unit="Count", value=1)
        return self.push(code.code, code) or code

    def get(self, code: str) -> PromoCode:
        found = self.store.get(code)
        if found is None:
            raise CodeNotFound(f"no promo code {code}")
        return found

    def update(self, code: str, fields: dict[str, Any]) -> PromoCode:
        current = self.get(code)
        if all(getattr(current, name) == value for name, value in fields.items()):
            return current  # nothing changes: no new version, nothing to push
        changed = self._changed(current, **fields)
        try:
            self.store.save_change(changed)
        except CodeChanged:
            raise ConcurrentUpdate("the code was changed meanwhile; read it and retry") from None
        return self.push(code, changed) or changed

    def list(
        self, limit: int, cursor: str | None, promo_type: str | None, active: bool | None
    ) -> tuple[list[PromoCode], str | None]:
        return self.store.list_codes(limit, cursor, promo_type, active)

    # -------------------------------------------------------------- pushing to WooCommerce and Topomer
    def push(self, code: str, record: PromoCode | None = None) -> PromoCode | None:
        """Bring both sides up to the record's version; failures are recorded, never raised.

        ``record``: the record just written by the caller, which saves reading it again.
        """
        record = record or self.store.get(code)
        if record is None:
            return None
        latest: PromoCode | None = record
        for side in record.pending():
            state = record.side(side)
            try:
                remote_id = self._push_side(side, record, state)
            except CreateClaimedElsewhere:
                continue
            except UpstreamError as exc:
                logger.warning("promo sync failed", extra={"code": code, "side": side.value, "error": exc.code})
                metrics.add_metric(name="PromoSyncFailed", unit="Count", value=1)
                failed = state.model_copy(
                    update={
                        "attempts": state.attempts + 1,
                        "last_error": f"{exc.code}: {exc.message}"[:300],
                        # A Topomer promo created before the failure keeps its id: it is never created again.
                        "remote_id": exc.remote_id if isinstance(exc, TopomerPromoBehind) else state.remote_id,
                        # A create of unknown fate stays claimed (parked); one that surely failed may be sent again.
                        "create_started_at": exc.started_at if isinstance(exc, TopomerPromoParked) else None,
                    }
                )
                latest = self.store.record_side(code, side, failed, synced=False)
                continue
            done = SideSync(
                remote_id=remote_id,
                synced_version=record.version,
                attempts=state.attempts + 1,
                synced_at=_iso(self.clock()),
            )
            latest = self.store.record_side(code, side, done, synced=True)
        if latest is None or latest is record:  # another run moved it on meanwhile, or nothing to do
            latest = self.store.get(code)
        if latest is not None and not latest.pending():
            self.store.clear_pending(code, latest.version)
        return latest

    def _push_side(self, side: Side, record: PromoCode, state: SideSync) -> str:
        if side is Side.WOOCOMMERCE:
            fields = coupon_fields(record, self.clock())
            coupon_id = state.remote_id
            if coupon_id is None and state.attempts > 0:
                # An earlier attempt may have created it and lost the answer, a draft as well: find_coupon()
                # looks in every status (``?code=`` sees only a published coupon; WooCommerce would then take
                # a second coupon with the draft's code).
                found = self.shop.find_coupon(record.code)
                coupon_id = str(found.id) if found else None
            if coupon_id is None:
                coupon = self.shop.create_coupon({"code": record.code, **fields})
            else:
                coupon = self.shop.update_coupon(int(coupon_id), fields)
            # The answer shows the expiry WooCommerce stored, in GMT: it must be the instant sent.
            if "date_expires_gmt" in coupon.model_fields_set and not coupon_expiry_confirmed(
                fields["date_expires"], coupon.date_expires_gmt
            ):
                raise UpstreamInvalidResponse(
                    "woocommerce",
                    f"coupon {coupon.id} expires at {coupon.date_expires_gmt} GMT, not {fields['date_expires']}",
                )
            return str(coupon.id)
        return self._push_topomer(record, state)

    def _push_topomer(self, record: PromoCode, state: SideSync) -> str:
        """Topomer's side: create the promo once, then update it by the id its create answer named.

        Topomer has no lookup by code and a server may keep every create it receives, so a create whose
        fate is unknown (no answer once sent, a dropped connection, 502/504) is never sent again on its
        own: the side is parked (``pending``, ``create_started_at`` kept, ``last_error`` starting
        ``topomer_promo_parked``) for a person, who checks Topomer and then records the promo's id on the side,
        or clears ``create_started_at`` to have it created. A create refused or failed for sure (4xx, 500/503,
        connection refused) is retried by the sync. A create taken without naming an id is parked the same
        way (updates need the id). The create is claimed in DynamoDB before it is sent (``claim_create``), so
        two pushes at once send it once, and a run stopped mid-call leaves the claim behind: parked, not resent.
        The ``Idempotency-Key`` (from the code) lets a server that honours it dedupe; nothing more is relied on.
        """
        if state.remote_id is not None:
            self.topomer.update_promo(state.remote_id, topomer_fields(record))
            return state.remote_id
        if state.create_started_at is not None:  # sent before, answer never recorded, not cleared by a person
            parked = f"{TopomerPromoParked.code}: topomer: "
            why = state.last_error or ""
            raise TopomerPromoParked(
                why.removeprefix(parked)
                if why.startswith(parked)  # the reason given when it was parked
                else f"a create of {record.code} sent at {state.create_started_at} has no recorded answer; check"
                " Topomer, then record its id or clear create_started_at to create it",
                state.create_started_at,
            )
        started_at = _iso(self.clock())
        if not self.store.claim_create(record.code, Side.TOPOMER, state.attempts, started_at):
            raise CreateClaimedElsewhere(record.code)
        try:
            created = self.topomer.create_promo(record.code, record.percentage, record.type.value)
        except UpstreamOutcomeUnknown as exc:
            raise TopomerPromoParked(
                f"create of {record.code} may have been taken ({exc.message}); check Topomer, then record its id"
                " or clear create_started_at to create it",
                started_at,
            ) from exc
        if created.id is None:
            raise TopomerPromoParked(
                f"Topomer took {record.code} but named no id; find it in Topomer and record its id", started_at
            )
        promo_id = str(created.id)
        if record.version > 1 or not record.active:
            try:
                self.topomer.update_promo(promo_id, topomer_fields(record))
            except UpstreamError as exc:
                raise TopomerPromoBehind(promo_id, exc) from exc
        return promo_id

    def sync_pending(self) -> dict[str, int]:
        """The scheduled retry: push every code with a side behind its record."""
        counts = {"synced": 0, "pending": 0}
        for code in self.store.pending_codes():
            record = self.push(code)
            counts["pending" if record is not None and record.pending() else "synced"] += 1
        return counts
