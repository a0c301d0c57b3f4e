"""Pushing promo codes to WooCommerce and Topomer: each side brought up to the record's version.

Every change is recorded first (with a work-list entry in the same transaction), then pushed to both sides
at once; a side that fails keeps its error and attempts on the record and is pushed again by the scheduled
sync (``sync_pending``). Nothing is lost between the three places.
"""

from __future__ import annotations

from woo_backend.clock import Clock, iso_seconds, utcnow
from woo_backend.domain.promo import (
    PromoCode,
    Side,
    SideSync,
    coupon_expiry_confirmed,
    coupon_fields,
    topomer_fields,
)
from woo_backend.errors import ErrorKind, UpstreamError, UpstreamInvalidResponse
from woo_backend.http import UpstreamOutcomeUnknown
from woo_backend.observability import logger, metrics
from woo_backend.services.promo_ports import PromoShop, PromoTopomer, SyncStore


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
    Never reaches a caller: the push records it on the side under its cause's code (``cause_code``, as the side's
    ``last_error`` and the log have always named it) and the sync retries."""

    kind = ErrorKind.UNAVAILABLE
    code = "topomer_promo_behind"

    def __init__(self, remote_id: str, cause: UpstreamError) -> None:
        super().__init__("topomer", f"created as {remote_id}, then the update failed: {cause.message}")
        self.remote_id = remote_id
        self.cause_code = cause.code


class PromoSync:
    """Pushes records to both sides; ``push`` after each change, ``sync_pending`` on a schedule."""

    def __init__(self, store: SyncStore, topomer: PromoTopomer, shop: PromoShop, clock: Clock = utcnow) -> None:
        self.store = store
        self.topomer = topomer
        self.shop = shop
        self.clock = clock

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
                error = exc.cause_code if isinstance(exc, TopomerPromoBehind) else exc.code
                logger.warning("promo sync failed", extra={"code": code, "side": side.value, "error": error})
                metrics.add_metric(name="PromoSyncFailed", unit="Count", value=1)
                failed = state.model_copy(
                    update={
                        "attempts": state.attempts + 1,
                        "last_error": f"{error}: {exc.message}"[:300],
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
                synced_at=iso_seconds(self.clock()),
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
        started_at = iso_seconds(self.clock())
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
