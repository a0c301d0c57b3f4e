"""The credit ledger's DynamoDB semantics against moto: conditions, transactions, replays, cursors."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.fakes import FakeShop
from woo_backend.domain.credits import CreditAccount, InsufficientCredits, Replayed, StaleAccount, UnknownOrder
from woo_backend.services.credits import CreditsService
from woo_backend.services.order_poll import ORDERS_CURSOR
from woo_backend.store.credits import CreditsStore
from woo_backend.store.paging import InvalidCursor
from woo_backend.woocommerce import Order

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(aws: Any) -> CreditsStore:
    return CreditsStore("CreditsTable", aws)


def granted(store: CreditsStore, credits: int = 100, key: str = "wc_order_a") -> CreditAccount:
    assert store.grant(key, 1, credits, "2026-11-22T11:00:00", "tx_grant", NOW)
    account = store.get_account(key)
    assert account is not None
    return account


def test_grant_happens_once(store: CreditsStore) -> None:
    account = granted(store)
    assert (account.granted, account.balance, account.version, account.status) == (100, 100, 1, "completed")
    assert not store.grant("wc_order_a", 1, 100, "2026-11-22T11:00:00", "tx_again", NOW)
    entries, _ = store.ledger("wc_order_a", 10, None)
    assert [(e.type, e.amount, e.balance_after) for e in entries] == [("grant", 100, 100)]


def test_consume_is_conditioned_on_the_version(store: CreditsStore) -> None:
    account = granted(store)
    result = store.consume(account, 30, "tx_1", NOW)
    assert (result.consumed, result.balance) == (30, 70)
    with pytest.raises(StaleAccount) as stale:
        store.consume(account, 30, "tx_2", NOW)  # the state it was computed from is gone
    assert stale.value.current is not None
    assert (stale.value.current.balance, stale.value.current.version) == (70, 2)
    after = store.get_account("wc_order_a")
    assert after is not None
    assert (after.balance, after.consumed) == (70, 30)


def test_consume_of_a_missing_order_reports_no_state(store: CreditsStore) -> None:
    ghost = CreditAccount(order_key="wc_order_ghost", order_id=9, status="completed", balance=10, version=1)
    with pytest.raises(StaleAccount) as stale:
        store.consume(ghost, 1, "tx", NOW)
    assert stale.value.current is None
    assert store.get_account("wc_order_ghost") is None


def test_idempotency_record_is_written_with_the_debit_and_replayed(store: CreditsStore) -> None:
    account = granted(store)
    first = store.consume(account, 10, "tx_1", NOW, "key-1", "fp")
    fresh = store.get_account("wc_order_a")
    assert fresh is not None
    with pytest.raises(Replayed) as replay:
        store.consume(fresh, 10, "tx_2", NOW, "key-1", "fp")
    assert replay.value.result == first
    assert replay.value.fingerprint == "fp"
    refreshed = store.get_account("wc_order_a")
    assert refreshed is not None
    assert refreshed.balance == 90  # the replay debited nothing


def test_revoke_takes_what_is_left_and_closes(store: CreditsStore) -> None:
    account = granted(store)
    store.consume(account, 40, "tx_1", NOW)
    current = store.get_account("wc_order_a")
    assert current is not None
    store.revoke(current, "refunded", "2026-11-22T12:00:00", "tx_r", NOW)
    closed = store.get_account("wc_order_a")
    assert closed is not None
    assert (closed.balance, closed.revoked, closed.status, closed.closed_at is not None) == (0, 60, "refunded", True)
    assert not store.grant("wc_order_a", 1, 100, "2026-11-22T13:00:00", "tx_g", NOW)
    assert not store.track_status("wc_order_a", 1, "completed", "2026-11-22T14:00:00", close=False, now=NOW)


def test_status_never_goes_back_to_an_older_one(store: CreditsStore) -> None:
    assert store.track_status("wc_order_b", 2, "processing", "2026-11-22T10:00:00", close=False, now=NOW)
    assert not store.track_status("wc_order_b", 2, "pending", "2026-11-22T09:00:00", close=False, now=NOW)
    account = store.get_account("wc_order_b")
    assert account is not None
    assert (account.status, account.balance) == ("processing", 0)


def test_ledger_pages_and_rejects_forged_cursors(store: CreditsStore) -> None:
    account = granted(store, 10)
    for i in range(3):
        account = store.get_account("wc_order_a") or account
        store.consume(account, 1, f"tx_{i}", datetime(2026, 11, 22, 12, i + 1, tzinfo=UTC))
    page, cursor = store.ledger("wc_order_a", 2, None)
    assert [e.balance_after for e in page] == [7, 8]
    assert cursor is not None
    rest, end = store.ledger("wc_order_a", 2, cursor)
    assert [e.balance_after for e in rest] == [9, 10]
    assert end is None or store.ledger("wc_order_a", 2, end)[0] == []
    for forged in ("abc", "eyJzayI6ICJTVEFURSJ9", "eyJ4IjogMX0"):
        with pytest.raises(InvalidCursor):
            store.ledger("wc_order_a", 2, forged)


def test_a_cursor_issued_before_the_shared_codec_still_pages(store: CreditsStore) -> None:
    account = granted(store, 10)
    for i in range(2):
        account = store.get_account("wc_order_a") or account
        store.consume(account, 1, f"tx_{i}", datetime(2026, 11, 22, 12, i + 1, tzinfo=UTC))
    _, cursor = store.ledger("wc_order_a", 1, None)
    assert cursor is not None
    sort_key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["sk"]
    # The credits store used to write json.dumps' default separators ({"sk": "..."}): still one of ours.
    old = base64.urlsafe_b64encode(json.dumps({"sk": sort_key}).encode()).decode().rstrip("=")
    assert old != cursor
    assert store.ledger("wc_order_a", 1, old) == store.ledger("wc_order_a", 1, cursor)


def test_sync_cursor_only_moves_forward(store: CreditsStore) -> None:
    assert store.cursors.get(ORDERS_CURSOR) is None
    store.cursors.advance(ORDERS_CURSOR, "2026-11-22T10:00:00")
    store.cursors.advance(ORDERS_CURSOR, "2026-11-22T09:00:00")  # a slower run, later
    assert store.cursors.get(ORDERS_CURSOR) == "2026-11-22T10:00:00"


def test_service_grants_consumes_and_caches_products(store: CreditsStore) -> None:
    shop = FakeShop()
    service = CreditsService(store, shop, clock=lambda: NOW)
    order = Order(
        id=5,
        order_key="wc_order_s",
        status="processing",
        payment_method="stripe",
        date_modified_gmt="2026-11-22T11:00:00",
        line_items=[{"id": 1, "product_id": 10, "quantity": 2}],
    )
    shop.orders[order.id] = order
    assert service.apply_order(order) == "granted"
    assert shop.updates == [(5, {"status": "completed"})]
    assert service.apply_order(order.model_copy(update={"status": "completed"})) == "already_granted"
    assert shop.product_calls == 1  # the product's credits were cached
    assert service.consume("wc_order_s", 50).balance == 150
    assert service.consume("wc_order_s", "max").consumed == 150
    with pytest.raises(InsufficientCredits):
        service.consume("wc_order_s", 1)
    with pytest.raises(UnknownOrder):
        service.consume("wc_order_nope", 1)


def test_service_recovers_from_a_stale_cached_state(store: CreditsStore) -> None:
    granted(store, 100, "wc_order_c")
    one = CreditsService(store, None, clock=lambda: NOW)
    two = CreditsService(store, None, clock=lambda: NOW)
    assert one.account("wc_order_c").balance == 100  # both containers remember balance 100
    assert two.account("wc_order_c").balance == 100
    assert one.consume("wc_order_c", 60).balance == 40
    assert two.consume("wc_order_c", 40).balance == 0  # its memory was stale; the condition caught it
    with pytest.raises(InsufficientCredits):
        one.consume("wc_order_c", 1)
