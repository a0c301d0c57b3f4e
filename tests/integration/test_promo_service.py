"""Promo use cases against moto's DynamoDB with in-memory Topomer and WooCommerce that can fail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.fakes import FakeShop, FakeTopomer
from woo_backend.domain.promo import IntervalsUnavailable, PromoCode, PromoType, Side
from woo_backend.errors import UpstreamUnavailable
from woo_backend.services.promo import PromoService
from woo_backend.store.promo import PromoStore

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def parts(aws: Any) -> tuple[PromoService, FakeTopomer, FakeShop]:
    topomer, shop = FakeTopomer(), FakeShop()
    service = PromoService(PromoStore("PromoTable", aws), topomer, shop, timedelta(hours=48), clock=lambda: NOW)
    return service, topomer, shop


def test_intervals_are_cached_in_memory(parts: tuple[PromoService, FakeTopomer, FakeShop]) -> None:
    service, topomer, _ = parts
    service.quote("c1", Decimal("120.00"), None)
    service.quote("c2", Decimal("60.00"), None)
    assert topomer.interval_calls == 1


def test_no_intervals_ever_and_topomer_down_is_unavailable(parts: tuple[PromoService, FakeTopomer, FakeShop]) -> None:
    service, topomer, _ = parts
    topomer.intervals = UpstreamUnavailable("topomer", "down")
    with pytest.raises(IntervalsUnavailable):
        service.quote("c1", Decimal("120.00"), None)


def test_a_new_container_falls_back_to_the_copy_another_one_kept(
    parts: tuple[PromoService, FakeTopomer, FakeShop], aws: Any
) -> None:
    service, topomer, shop = parts
    service.intervals()
    topomer.intervals = UpstreamUnavailable("topomer", "down")
    fresh = PromoService(PromoStore("PromoTable", aws), topomer, shop, timedelta(hours=48), clock=lambda: NOW)
    intervals, stale = fresh.intervals()
    assert stale is True
    assert [str(i.percentage) for i in intervals] == ["5", "10"]


def test_a_lost_coupon_answer_is_found_again_not_created_twice(
    parts: tuple[PromoService, FakeTopomer, FakeShop],
) -> None:
    service, _, shop = parts
    shop.lost["create_coupon"] = 1
    stamp = NOW.isoformat()
    code = PromoCode(code="LOST-1", type=PromoType.MANUAL, percentage=Decimal("10"), created_at=stamp, updated_at=stamp)
    created = service.create(code)
    assert created.side(Side.WOOCOMMERCE).last_error
    assert service.sync_pending() == {"synced": 1, "pending": 0}
    assert shop.found == ["LOST-1"]
    assert [c["code"] for c in shop.coupons.values()] == ["LOST-1"]
    assert service.get("LOST-1").side(Side.WOOCOMMERCE).remote_id == "1"


def test_a_failed_side_is_retried_until_done(parts: tuple[PromoService, FakeTopomer, FakeShop]) -> None:
    service, topomer, _ = parts
    topomer.fail["create_promo"] = 2
    answer, created = service.quote("c1", Decimal("150.00"), "a@example.com")
    assert created is True
    assert service.get(answer["code"]).pending() == [Side.TOPOMER]
    assert service.sync_pending() == {"synced": 0, "pending": 1}
    assert service.sync_pending() == {"synced": 1, "pending": 0}
    record = service.get(answer["code"])
    assert record.pending() == []
    assert record.side(Side.TOPOMER).attempts == 3
    assert service.sync_pending() == {"synced": 0, "pending": 0}


class Stopped(BaseException):
    """A Lambda run ended (timeout) in the middle of a call."""


def _manual(code: str) -> PromoCode:
    stamp = NOW.isoformat()
    return PromoCode(code=code, type=PromoType.MANUAL, percentage=Decimal("10"), created_at=stamp, updated_at=stamp)


def test_two_pushes_at_once_send_the_topomer_create_once(parts: tuple[PromoService, FakeTopomer, FakeShop]) -> None:
    service, topomer, _ = parts
    # A second push (the sync) arrives while the first one waits for Topomer's answer.
    topomer.while_creating = lambda: (setattr(topomer, "while_creating", None), service.push("RACE-1"))[1]
    created = service.create(_manual("RACE-1"))
    assert topomer.creates_sent == ["RACE-1"]
    assert created.pending() == []
    assert created.side(Side.TOPOMER).remote_id == "1"


def test_a_run_stopped_during_the_topomer_create_is_parked_not_resent(
    parts: tuple[PromoService, FakeTopomer, FakeShop],
) -> None:
    service, topomer, _ = parts

    def stop() -> None:
        raise Stopped

    topomer.while_creating = stop
    with pytest.raises(Stopped):
        service.create(_manual("STOP-1"))
    topomer.while_creating = None
    assert service.sync_pending() == {"synced": 0, "pending": 1}
    assert service.sync_pending() == {"synced": 0, "pending": 1}
    assert topomer.creates_sent == ["STOP-1"]  # never sent again on its own
    side = service.get("STOP-1").side(Side.TOPOMER)
    assert side.last_error is not None
    assert side.last_error.startswith("topomer_promo_parked: ")
    # A person checked Topomer (nothing there) and cleared the claim: the next run creates it once.
    service.store.record_side("STOP-1", Side.TOPOMER, side.model_copy(update={"create_started_at": None}), synced=False)
    assert service.sync_pending() == {"synced": 1, "pending": 0}
    assert topomer.creates_sent == ["STOP-1", "STOP-1"]
    assert service.get("STOP-1").side(Side.TOPOMER).remote_id == "1"
