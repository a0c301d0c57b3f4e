"""The promo store against moto's DynamoDB: codes, the cart pointer, the work list, listing pages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from woo_backend.domain.promo import (
    CartCode,
    CartMoved,
    CodeChanged,
    DuplicateCode,
    PromoCode,
    PromoType,
    Side,
    SideSync,
)
from woo_backend.store.paging import InvalidCursor
from woo_backend.store.promo import PromoStore


@pytest.fixture
def store(aws: Any) -> PromoStore:
    return PromoStore("PromoTable", aws)


def code(name: str, minute: int = 0, *, promo_type: PromoType = PromoType.MANUAL, active: bool = True) -> PromoCode:
    stamp = f"2026-11-23T10:{minute:02d}:00+00:00"
    return PromoCode(
        code=name, type=promo_type, percentage=Decimal("10"), active=active, created_at=stamp, updated_at=stamp
    )


def test_a_new_code_is_stored_once_and_put_on_the_work_list(store: PromoStore) -> None:
    store.create(code("SPRING-10"))
    stored = store.get("SPRING-10")
    assert stored is not None
    assert stored.model_dump(exclude={"sync"}) == code("SPRING-10").model_dump(exclude={"sync"})
    assert stored.pending() == [Side.WOOCOMMERCE, Side.TOPOMER]
    assert store.pending_codes() == ["SPRING-10"]
    with pytest.raises(DuplicateCode):
        store.create(code("SPRING-10").model_copy(update={"percentage": Decimal("90")}))
    stored = store.get("SPRING-10")
    assert stored is not None
    assert stored.percentage == Decimal("10")


def test_side_progress_never_moves_backwards_and_the_work_list_empties(store: PromoStore) -> None:
    store.create(code("SYNC-ME"))
    newer = SideSync(remote_id="7", synced_version=2, attempts=2)
    older = SideSync(remote_id="7", synced_version=1, attempts=1)
    assert store.record_side("SYNC-ME", Side.WOOCOMMERCE, newer, synced=True) is not None
    assert store.record_side("SYNC-ME", Side.WOOCOMMERCE, older, synced=True) is None  # a late, slower run
    stored = store.get("SYNC-ME")
    assert stored is not None
    assert stored.side(Side.WOOCOMMERCE).synced_version == 2
    store.clear_pending("SYNC-ME", 0)  # a newer change is on the list: it stays
    assert store.pending_codes() == ["SYNC-ME"]
    store.clear_pending("SYNC-ME", 1)
    assert store.pending_codes() == []


def test_a_late_failure_never_overwrites_a_success_recorded_meanwhile(store: PromoStore) -> None:
    store.create(code("RACED"))
    read = store.get("RACED")
    assert read is not None
    seen = read.side(Side.TOPOMER)  # a second push read the side before the first one's create was answered
    done = SideSync(remote_id="7", synced_version=1, attempts=1)
    assert store.record_side("RACED", Side.TOPOMER, done, synced=True) is not None
    failed = seen.model_copy(update={"attempts": 2, "last_error": "topomer_promo_parked: topomer: in flight"})
    assert store.record_side("RACED", Side.TOPOMER, failed, synced=False) is None
    stored = store.get("RACED")
    assert stored is not None
    assert (stored.side(Side.TOPOMER).remote_id, stored.pending()) == ("7", [Side.WOOCOMMERCE])
    # A failure over the progress it read is recorded.
    assert store.record_side("RACED", Side.WOOCOMMERCE, SideSync(attempts=1, last_error="x"), synced=False)


def test_a_change_needs_the_version_it_was_based_on(store: PromoStore) -> None:
    first = code("EDIT-ME")
    store.create(first)
    store.save_change(first.model_copy(update={"percentage": Decimal("20"), "version": 2}))
    with pytest.raises(CodeChanged):  # based on version 1 again: someone else changed it meanwhile
        store.save_change(first.model_copy(update={"percentage": Decimal("30"), "version": 2}))
    stored = store.get("EDIT-ME")
    assert stored is not None
    assert (stored.percentage, stored.version) == (Decimal("20"), 2)


def test_the_cart_pointer_moves_only_from_the_version_read(store: PromoStore) -> None:
    store.create(code("TPM-AAAA", promo_type=PromoType.AUTO), cart=CartCode("cart-1", "TPM-AAAA", "100-250", 1))
    with pytest.raises(CartMoved):  # a second "first" quote for the same cart
        store.create(code("TPM-BBBB", promo_type=PromoType.AUTO), cart=CartCode("cart-1", "TPM-BBBB", "100-250", 1))
    assert store.get("TPM-BBBB") is None  # the transaction wrote nothing
    retired = store.get("TPM-AAAA")
    assert retired is not None
    store.create(
        code("TPM-CCCC", promo_type=PromoType.AUTO),
        cart=CartCode("cart-1", "TPM-CCCC", "250-", 2),
        cart_expected_version=1,
        retired=retired.model_copy(update={"active": False, "version": 2}),
    )
    cart = store.get_cart("cart-1")
    assert cart is not None
    assert (cart.code, cart.interval, cart.version) == ("TPM-CCCC", "250-", 2)
    old = store.get("TPM-AAAA")
    assert old is not None
    assert old.active is False


def test_listing_pages_newest_first_with_filters(store: PromoStore) -> None:
    for minute in range(12):
        store.create(code(f"CODE-{minute:02d}", minute, active=minute % 3 != 0))
    store.create(code("TPM-AUTO", 30, promo_type=PromoType.AUTO))
    seen: list[str] = []
    cursor = None
    while True:
        page, cursor = store.list_codes(5, cursor, "manual", True)
        seen.extend(c.code for c in page)
        if cursor is None:
            break
    assert seen == [f"CODE-{m:02d}" for m in reversed(range(12)) if m % 3 != 0]
    everything, _ = store.list_codes(100, None, None, None)
    assert everything[0].code == "TPM-AUTO"
    assert len(everything) == 13


@pytest.mark.parametrize("cursor", ["nope", "eyJjb2RlIjogIlgifQ", "e30"])
def test_a_forged_cursor_is_refused(store: PromoStore, cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        store.list_codes(5, cursor, None, None)
