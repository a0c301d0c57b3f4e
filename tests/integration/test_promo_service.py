"""Promo use cases against moto's DynamoDB with in-memory Topomer and WooCommerce that can fail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.fakes import FakeShop, FakeTopomer
from woo_backend.api import status_of
from woo_backend.bootstrap.promo import PromoServices, services
from woo_backend.domain.promo import CartMoved, IntervalsUnavailable, Side
from woo_backend.errors import Busy, ConcurrentUpdate, UpstreamUnavailable
from woo_backend.store.promo import PromoStore

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def wired(aws: Any, topomer: FakeTopomer, shop: FakeShop) -> PromoServices:
    return services(PromoStore("PromoTable", aws), topomer, shop, ttl=timedelta(hours=48), clock=lambda: NOW)


@pytest.fixture
def parts(aws: Any) -> tuple[PromoServices, FakeTopomer, FakeShop]:
    topomer, shop = FakeTopomer(), FakeShop()
    return wired(aws, topomer, shop), topomer, shop


def test_intervals_are_cached_in_memory(parts: tuple[PromoServices, FakeTopomer, FakeShop]) -> None:
    promo, topomer, _ = parts
    promo.quotes.quote("c1", Decimal("120.00"), None)
    promo.quotes.quote("c2", Decimal("60.00"), None)
    assert topomer.interval_calls == 1


def test_no_intervals_ever_and_topomer_down_is_unavailable(parts: tuple[PromoServices, FakeTopomer, FakeShop]) -> None:
    promo, topomer, _ = parts
    topomer.intervals = UpstreamUnavailable("topomer", "down")
    with pytest.raises(IntervalsUnavailable):
        promo.quotes.quote("c1", Decimal("120.00"), None)


def test_a_new_container_falls_back_to_the_copy_another_one_kept(
    parts: tuple[PromoServices, FakeTopomer, FakeShop], aws: Any
) -> None:
    promo, topomer, shop = parts
    promo.quotes.intervals()
    topomer.intervals = UpstreamUnavailable("topomer", "down")
    fresh = wired(aws, topomer, shop)
    intervals, stale = fresh.quotes.intervals()
    assert stale is True
    assert [str(i.percentage) for i in intervals] == ["5", "10"]


def test_a_lost_coupon_answer_is_found_again_not_created_twice(
    parts: tuple[PromoServices, FakeTopomer, FakeShop],
) -> None:
    promo, _, shop = parts
    shop.lost["create_coupon"] = 1
    created = promo.codes.create("LOST-1", "10")
    assert created.side(Side.WOOCOMMERCE).last_error
    assert promo.sync.sync_pending() == {"synced": 1, "pending": 0}
    assert shop.found == ["LOST-1"]
    assert [c["code"] for c in shop.coupons.values()] == ["LOST-1"]
    assert promo.codes.get("LOST-1").side(Side.WOOCOMMERCE).remote_id == "1"


def test_a_failed_side_is_retried_until_done(parts: tuple[PromoServices, FakeTopomer, FakeShop]) -> None:
    promo, topomer, _ = parts
    topomer.fail["create_promo"] = 2
    quote = promo.quotes.quote("c1", Decimal("150.00"), "a@example.com")
    assert quote.created is True
    assert quote.code is not None
    assert promo.codes.get(quote.code.code).pending() == [Side.TOPOMER]
    assert promo.sync.sync_pending() == {"synced": 0, "pending": 1}
    assert promo.sync.sync_pending() == {"synced": 1, "pending": 0}
    record = promo.codes.get(quote.code.code)
    assert record.pending() == []
    assert record.side(Side.TOPOMER).attempts == 3
    assert promo.sync.sync_pending() == {"synced": 0, "pending": 0}


class Stopped(BaseException):
    """A Lambda run ended (timeout) in the middle of a call."""


def test_two_pushes_at_once_send_the_topomer_create_once(parts: tuple[PromoServices, FakeTopomer, FakeShop]) -> None:
    promo, topomer, _ = parts
    # A second push (the sync) arrives while the first one waits for Topomer's answer.
    topomer.while_creating = lambda: (setattr(topomer, "while_creating", None), promo.sync.push("RACE-1"))[1]
    created = promo.codes.create("RACE-1", "10")
    assert topomer.creates_sent == ["RACE-1"]
    assert created.pending() == []
    assert created.side(Side.TOPOMER).remote_id == "1"


def test_a_run_stopped_during_the_topomer_create_is_parked_not_resent(
    parts: tuple[PromoServices, FakeTopomer, FakeShop],
) -> None:
    promo, topomer, _ = parts

    def stop() -> None:
        raise Stopped

    topomer.while_creating = stop
    with pytest.raises(Stopped):
        promo.codes.create("STOP-1", "10")
    topomer.while_creating = None
    assert promo.sync.sync_pending() == {"synced": 0, "pending": 1}
    assert promo.sync.sync_pending() == {"synced": 0, "pending": 1}
    assert topomer.creates_sent == ["STOP-1"]  # never sent again on its own
    side = promo.codes.get("STOP-1").side(Side.TOPOMER)
    assert side.last_error is not None
    assert side.last_error.startswith("topomer_promo_parked: ")
    # A person checked Topomer (nothing there) and cleared the claim: the next run creates it once.
    cleared = side.model_copy(update={"create_started_at": None})
    promo.sync.store.record_side("STOP-1", Side.TOPOMER, cleared, synced=False)
    assert promo.sync.sync_pending() == {"synced": 1, "pending": 0}
    assert topomer.creates_sent == ["STOP-1", "STOP-1"]
    assert promo.codes.get("STOP-1").side(Side.TOPOMER).remote_id == "1"


def test_a_topomer_update_failing_after_the_create_keeps_the_id_and_the_causes_code(
    parts: tuple[PromoServices, FakeTopomer, FakeShop], monkeypatch: pytest.MonkeyPatch
) -> None:
    promo, topomer, _ = parts

    def down(promo_id: int | str, fields: dict[str, Any]) -> None:
        raise UpstreamUnavailable("topomer", "update failed")

    with monkeypatch.context() as patched:
        patched.setattr(topomer, "update_promo", down)
        created = promo.codes.create("LATE-1", "10", active=False)  # inactive: the create is followed by an update
    side = created.side(Side.TOPOMER)
    assert (side.remote_id, side.synced_version) == ("1", 0)
    assert (
        side.last_error == "upstream_unavailable: topomer: created as 1, then the update failed: topomer: update failed"
    )
    assert promo.sync.sync_pending() == {"synced": 1, "pending": 0}
    assert topomer.creates_sent == ["LATE-1"]  # the kept id is updated, never created again
    assert topomer.promos["LATE-1"]["active"] is False


def test_an_admin_change_over_a_code_changed_meanwhile_is_a_409_conflict(
    parts: tuple[PromoServices, FakeTopomer, FakeShop], monkeypatch: pytest.MonkeyPatch
) -> None:
    promo, _, _ = parts
    promo.codes.create("EDIT-1", "10")
    read = promo.codes.get("EDIT-1")
    promo.codes.update("EDIT-1", percentage="20")  # another admin's change lands first
    with monkeypatch.context() as patched:
        patched.setattr(promo.codes.store, "get", lambda code: read)  # this admin read before it
        with pytest.raises(ConcurrentUpdate) as caught:
            promo.codes.update("EDIT-1", percentage="30")
    assert (status_of(caught.value), caught.value.code) == (409, "conflict")
    stored = promo.codes.get("EDIT-1")
    assert (stored.percentage, stored.version) == (Decimal("20"), 2)


def test_a_cart_moved_by_other_quotes_every_time_is_busy_503(
    parts: tuple[PromoServices, FakeTopomer, FakeShop], monkeypatch: pytest.MonkeyPatch
) -> None:
    promo, _, _ = parts
    attempts: list[str] = []

    def another_quote_won(code: Any, **_: Any) -> None:
        attempts.append(code.code)
        raise CartMoved("c1")

    monkeypatch.setattr(promo.quotes.store, "create", another_quote_won)
    with pytest.raises(Busy) as caught:
        promo.quotes.quote("c1", Decimal("120.00"), None)
    assert (status_of(caught.value), caught.value.code) == (503, "busy")
    assert len(attempts) == 5  # each attempt looked at the cart again
