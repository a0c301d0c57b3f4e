"""Admin credits against moto: adjustments are money moves like consumes (one conditional write, never below
zero, idempotent, a re-sent write applied once, audited once), accounts listed by status, credits per day."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.integration.test_credits_journal import about, resend_once
from tests.integration.test_credits_store import NOW, granted, moves, state_item
from woo_backend.clock import iso
from woo_backend.domain.credits import (
    AdjustmentResult,
    IdempotencyKeyReused,
    InsufficientCredits,
    MissingIdempotencyKey,
    OrderNotCompleted,
    UnknownOrder,
)
from woo_backend.dynamo import from_item, to_item
from woo_backend.services.admin_credits import AdminCredits
from woo_backend.services.credits import CreditsService
from woo_backend.store.audit import AuditTrail
from woo_backend.store.credits import CreditsStore
from woo_backend.store.credits_admin import CreditsReports
from woo_backend.store.paging import InvalidCursor


@pytest.fixture
def store(aws: Any) -> CreditsStore:
    return CreditsStore("CreditsTable", aws)


@pytest.fixture
def audit(aws: Any) -> AuditTrail:
    return AuditTrail("AdminTable", aws)


@pytest.fixture
def admin(store: CreditsStore, audit: AuditTrail) -> AdminCredits:
    clock = lambda: NOW  # noqa: E731
    reports = CreditsReports(store.table, store.client)
    return AdminCredits(CreditsService(store, None, clock=clock), store, reports, audit, clock=clock)


def ledger_item(store: CreditsStore, seq: int, key: str = "wc_order_a") -> dict[str, Any]:
    item = store.client.get_item(TableName=store.table, Key=to_item({"pk": f"ORDER#{key}", "sk": f"LEDGER#{seq:012d}"}))
    return from_item(item["Item"])


def test_adjustments_add_and_take_and_the_totals_still_add_up(admin: AdminCredits, store: CreditsStore) -> None:
    granted(store)
    added, replayed = admin.adjust("wc_order_a", 5, "goodwill", "key-1", "alice")
    assert not replayed
    assert (added.amount, added.balance) == (5, 105)
    taken, _ = admin.adjust("wc_order_a", -3, "typo", "key-2", "alice")
    assert (taken.amount, taken.balance) == (-3, 102)
    account = admin.credits.account("wc_order_a")
    assert (account.granted, account.consumed, account.revoked, account.adjusted, account.balance) == (
        100,
        0,
        0,
        2,
        102,
    )
    assert account.granted - account.consumed - account.revoked + account.adjusted == account.balance
    assert moves(store) == [("adjustment", -3, 102), ("adjustment", 5, 105), ("grant", 100, 100)]
    _, entries, _ = admin.order("wc_order_a", 10, None)
    assert [(e.reason, e.idempotency_key) for e in entries] == [("typo", "key-2"), ("goodwill", "key-1"), (None, None)]
    written = ledger_item(store, 2)  # listed by day for the daily totals
    assert (written["gsi1pk"], written["gsi1sk"]) == ("DAY#2026-11-22", f"{iso(NOW)}#wc_order_a#000000000002")


def test_each_adjustment_is_audited_with_who_before_and_after(
    admin: AdminCredits, store: CreditsStore, audit: AuditTrail
) -> None:
    granted(store)
    admin.adjust("wc_order_a", -40, "refund by hand", "key-1", "bob")
    entries, _ = audit.list(10, None)
    assert [(e.who, e.action, e.target, e.before, e.after, e.note) for e in entries] == [
        ("bob", "credits.adjust", "wc_order_a", {"balance": 100}, {"balance": 60, "amount": -40}, "refund by hand")
    ]


def test_an_adjustment_below_zero_is_refused_and_changes_nothing(
    admin: AdminCredits, store: CreditsStore, audit: AuditTrail
) -> None:
    granted(store)
    before = state_item(store)
    with pytest.raises(InsufficientCredits):
        admin.adjust("wc_order_a", -101, "too much", "key-1", "alice")
    assert state_item(store) == before
    assert moves(store) == [("grant", 100, 100)]
    assert audit.list(10, None)[0] == []
    assert admin.adjust("wc_order_a", -100, "all of it", "key-1", "alice")[0].balance == 0  # the key is still free


def test_only_a_completed_open_account_is_adjusted(admin: AdminCredits, store: CreditsStore) -> None:
    with pytest.raises(UnknownOrder):
        admin.adjust("wc_order_none", 5, "x", "key-1", "alice")
    granted(store)
    assert store.revoke("wc_order_a", "refunded", "2026-11-22T12:00:00", "tx_revoke", NOW) == 100
    with pytest.raises(OrderNotCompleted):
        admin.adjust("wc_order_a", 5, "reopen?", "key-1", "alice")
    with pytest.raises(MissingIdempotencyKey):
        admin.adjust("wc_order_a", 5, "no key", None, "alice")


def test_the_same_key_and_body_replay_the_first_answer_and_record_nothing_new(
    admin: AdminCredits, store: CreditsStore, audit: AuditTrail
) -> None:
    granted(store)
    first, _ = admin.adjust("wc_order_a", 5, "goodwill", "key-1", "alice")
    again, replayed = admin.adjust("wc_order_a", 5, "goodwill", "key-1", "alice")
    assert replayed
    assert again == first
    with pytest.raises(IdempotencyKeyReused):
        admin.adjust("wc_order_a", 6, "goodwill", "key-1", "alice")
    with pytest.raises(IdempotencyKeyReused):
        admin.adjust("wc_order_a", 5, "another reason", "key-1", "alice")
    with pytest.raises(IdempotencyKeyReused):  # a consume may not spend an adjustment's key either
        admin.credits.consume("wc_order_a", 5, "key-1")
    assert admin.credits.account("wc_order_a").balance == 105
    assert len(audit.list(10, None)[0]) == 1


def test_a_key_the_account_let_go_still_replays_from_its_record(admin: AdminCredits, store: CreditsStore) -> None:
    granted(store)
    first, _ = admin.adjust("wc_order_a", 5, "goodwill", "key-1", "alice")
    store.journal.flush("wc_order_a", state_item(store), NOW)
    store.journal.flush("wc_order_a", state_item(store), NOW + timedelta(minutes=5))  # past the grace: forgotten
    assert "key-1" not in state_item(store)["keys"]
    assert admin.adjust("wc_order_a", 5, "goodwill", "key-1", "alice") == (first, True)
    with pytest.raises(IdempotencyKeyReused):
        admin.adjust("wc_order_a", -5, "goodwill", "key-1", "alice")


def test_an_adjustment_whose_answer_was_lost_is_applied_once_when_resent(
    admin: AdminCredits, store: CreditsStore, audit: AuditTrail
) -> None:
    granted(store)
    resent = resend_once(store, about("adjustment"), lambda: None)
    result, replayed = admin.adjust("wc_order_a", 7, "goodwill", "key-1", "alice")
    assert resent == [1]
    assert not replayed
    assert (result.amount, result.balance) == (7, 107)
    assert moves(store) == [("adjustment", 7, 107), ("grant", 100, 100)]
    assert admin.credits.account("wc_order_a").adjusted == 7
    assert len(audit.list(10, None)[0]) == 1


def test_accounts_are_listed_by_status_newest_first_in_pages(admin: AdminCredits, store: CreditsStore) -> None:
    for i in range(3):
        assert store.grant(f"wc_order_{i}", i, 10, f"2026-11-22T1{i}:00:00", f"tx_{i}", NOW)
    assert store.revoke("wc_order_1", "refunded", "2026-11-22T13:00:00", "tx_r", NOW) == 10
    store.track_status("wc_order_9", 9, "processing", "2026-11-22T09:00:00", close=False, now=NOW)
    page, cursor = admin.accounts("completed", 1, None)
    assert [a.order_key for a in page] == ["wc_order_2"]
    assert cursor is not None
    page, cursor = admin.accounts("completed", 1, cursor)
    assert [a.order_key for a in page] == ["wc_order_0"]
    if cursor is not None:
        assert admin.accounts("completed", 1, cursor) == ([], None)
    refunded, _ = admin.accounts("refunded", 10, None)
    assert [(a.order_key, a.balance, a.revoked, a.closed_at is not None) for a in refunded] == [
        ("wc_order_1", 0, 10, True)
    ]
    assert [a.order_key for a in admin.accounts("processing", 10, None)[0]] == ["wc_order_9"]
    with pytest.raises(InvalidCursor):
        admin.accounts("completed", 1, "eyJvcmRlciI6IklERU0jeCIsImF0IjoieCJ9")  # {"order":"IDEM#x","at":"x"}


def test_a_consume_writes_nothing_to_the_accounts_index(store: CreditsStore) -> None:
    granted(store)
    listed = {k: v for k, v in state_item(store).items() if k.startswith("gsi1")}
    store.consume("wc_order_a", 5, "tx_c", NOW)
    assert {k: v for k, v in state_item(store).items() if k.startswith("gsi1")} == listed


def test_daily_totals_per_utc_day_oldest_first_with_zeros(admin: AdminCredits, store: CreditsStore) -> None:
    yesterday = NOW - timedelta(days=1)
    assert store.grant("wc_order_y", 1, 50, "2026-11-21T10:00:00", "tx_y", yesterday)
    store.consume("wc_order_y", 20, "tx_yc", yesterday)
    granted(store)
    store.consume("wc_order_a", 30, "tx_c", NOW)
    admin.adjust("wc_order_a", 4, "goodwill", "key-1", "alice")
    admin.adjust("wc_order_a", -6, "typo", "key-2", "alice")
    store.revoke("wc_order_y", "refunded", "2026-11-22T12:00:00", "tx_r", NOW)
    days = admin.daily(3)
    assert [(d.day, d.granted, d.consumed, d.revoked) for d in days] == [
        ("2026-11-20", 0, 0, 0),
        ("2026-11-21", 50, 20, 0),
        ("2026-11-22", 104, 36, 30),
    ]


def test_an_adjustment_result_is_the_answer_shape(admin: AdminCredits, store: CreditsStore) -> None:
    granted(store)
    result, _ = admin.adjust("wc_order_a", 1, "x", "k", "alice")
    assert isinstance(result, AdjustmentResult)
    assert result.order_key == "wc_order_a"
    assert result.transaction_id.startswith("tx_")
