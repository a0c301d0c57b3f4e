"""The credit ledger's DynamoDB semantics against moto: one conditional write per move, the ledger derived from
it by sequence number, replays, crash repair, cursors; Stubber for the engine's answers moto never gives."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from tests.fakes import FakeShop
from woo_backend.domain.credits import (
    ConsumeRefused,
    CreditAccount,
    IdempotencyKeyReused,
    InsufficientCredits,
    Replayed,
    UnknownOrder,
    request_fingerprint,
)
from woo_backend.dynamo import from_item, to_item
from woo_backend.services.credits import CreditsService
from woo_backend.services.order_poll import ORDERS_CURSOR
from woo_backend.store.credits import CreditsStore
from woo_backend.store.credits_moves import FLUSH_AT, KEY_GRACE, recorded
from woo_backend.store.paging import InvalidCursor
from woo_backend.woocommerce import Order

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_a_key_leaves_the_account_item_after_its_grace_and_still_replays(store: CreditsStore) -> None:
    granted(store)
    first = store.consume("wc_order_a", 3, "tx_keyed", NOW, "key-old", request_fingerprint(3))
    for i in range(2 * FLUSH_AT):  # flushes: the key's IDEM record written, its flush time noted
        store.consume("wc_order_a", 1, f"tx_{i}", NOW)
    later = NOW + KEY_GRACE + timedelta(seconds=1)
    for i in range(2 * FLUSH_AT):
        store.consume("wc_order_a", 1, f"tx_late_{i}", later)
    assert "key-old" not in state_item(store)["keys"]  # the item stays small
    service = CreditsService(store, None, clock=lambda: later)
    assert service.consume("wc_order_a", 3, "key-old") == first  # its IDEM record answers
    with pytest.raises(IdempotencyKeyReused):
        service.consume("wc_order_a", 4, "key-old")


@pytest.fixture
def store(aws: Any) -> CreditsStore:
    return CreditsStore("CreditsTable", aws)


def granted(store: CreditsStore, credits: int = 100, key: str = "wc_order_a") -> CreditAccount:
    assert store.grant(key, 1, credits, "2026-11-22T11:00:00", "tx_grant", NOW)
    account = store.get_account(key)
    assert account is not None
    return account


def moves(store: CreditsStore, key: str = "wc_order_a") -> list[tuple[str, int, int]]:
    entries, _ = store.ledger(key, 100, None, NOW)
    return [(e.type, e.amount, e.balance_after) for e in entries]


def state_item(store: CreditsStore, key: str = "wc_order_a") -> dict[str, Any]:
    item = store.client.get_item(TableName="CreditsTable", Key=to_item({"pk": f"ORDER#{key}", "sk": "STATE"}))
    return from_item(item["Item"])


def test_grant_happens_once(store: CreditsStore) -> None:
    account = granted(store)
    assert (account.granted, account.balance, account.version, account.status) == (100, 100, 1, "completed")
    assert not store.grant("wc_order_a", 1, 100, "2026-11-22T11:00:00", "tx_again", NOW)
    assert moves(store) == [("grant", 100, 100)]


def test_consume_applies_to_the_balance_as_it_is_and_refuses_only_a_real_lack(store: CreditsStore) -> None:
    granted(store)
    assert store.consume("wc_order_a", 30, "tx_1", NOW).balance == 70
    assert store.consume("wc_order_a", 30, "tx_2", NOW).balance == 40  # no version read before: nothing stale
    with pytest.raises(ConsumeRefused) as refused:
        store.consume("wc_order_a", 41, "tx_3", NOW)
    assert refused.value.current is not None
    assert (refused.value.current.balance, refused.value.current.version) == (40, 3)
    assert moves(store) == [("consume", -30, 40), ("consume", -30, 70), ("grant", 100, 100)]


def test_max_takes_the_whole_balance_in_the_write(store: CreditsStore) -> None:
    granted(store)
    store.consume("wc_order_a", 25, "tx_1", NOW)
    result = store.consume("wc_order_a", "max", "tx_2", NOW)
    assert (result.consumed, result.balance) == (75, 0)
    with pytest.raises(ConsumeRefused):
        store.consume("wc_order_a", "max", "tx_3", NOW)  # nothing left: refused, nothing written
    after = store.get_account("wc_order_a")
    assert after is not None
    assert (after.balance, after.consumed, after.version) == (0, 100, 3)


def test_consume_of_a_missing_order_reports_no_state(store: CreditsStore) -> None:
    with pytest.raises(ConsumeRefused) as refused:
        store.consume("wc_order_ghost", 1, "tx", NOW)
    assert refused.value.current is None
    assert store.get_account("wc_order_ghost") is None


def test_idempotency_key_is_guarded_in_the_write_and_replayed(store: CreditsStore) -> None:
    granted(store)
    first = store.consume("wc_order_a", 10, "tx_1", NOW, "key-1", "fp")
    with pytest.raises(Replayed) as replay:
        store.consume("wc_order_a", 10, "tx_2", NOW, "key-1", "fp")
    assert (replay.value.result, replay.value.fingerprint) == (first, "fp")
    record = store.idempotency_record("wc_order_a", "key-1")  # written with the ledger entry
    assert record is not None
    assert record.result == first
    account = store.get_account("wc_order_a")
    assert account is not None
    assert account.balance == 90  # the replay debited nothing


def test_recorded_moves_are_flushed_and_the_sequence_has_no_gap(store: CreditsStore) -> None:
    granted(store, 100)
    for i in range(3 * FLUSH_AT):
        store.consume("wc_order_a", 1, f"tx_{i}", NOW, f"key-{i}", "fp")
    assert len(recorded(state_item(store))) <= 2 * FLUSH_AT  # bounded
    entries = moves(store)
    assert [after for _, _, after in entries] == list(range(100 - 3 * FLUSH_AT, 101))
    with pytest.raises(Replayed) as replay:  # the key of a flushed move is still remembered
        store.consume("wc_order_a", 1, "tx_again", NOW, "key-0", "fp")
    assert replay.value.result is not None
    assert replay.value.result.balance == 99


def crash_next_ledger_write(store: CreditsStore) -> list[int]:
    """The next ledger write fails, as a container dying just after the account's write would."""
    failures: list[int] = []

    def crash(**_: Any) -> None:
        if not failures:
            failures.append(1)
            raise RuntimeError("the container died")

    store.client.meta.events.register("before-call.dynamodb.BatchWriteItem", crash)
    return failures


def test_a_crash_after_the_write_loses_no_entry_a_reader_repairs_it(store: CreditsStore) -> None:
    granted(store)
    failing_ledger_writes = crash_next_ledger_write(store)
    with pytest.raises(RuntimeError):
        store.consume("wc_order_a", 7, "tx_lost", NOW, "key-lost", "fp")
    assert failing_ledger_writes == [1]
    account = store.get_account("wc_order_a")
    assert account is not None
    assert account.balance == 93  # the move happened: the answer was lost, not the credits
    assert moves(store) == [("consume", -7, 93), ("grant", 100, 100)]  # the first read wrote the entry
    with pytest.raises(Replayed) as replay:  # the retry with the key gets the first answer
        store.consume("wc_order_a", 7, "tx_retry", NOW, "key-lost", "fp")
    assert replay.value.result is not None
    assert (replay.value.result.transaction_id, replay.value.result.balance) == ("tx_lost", 93)


def test_a_crash_after_the_write_is_repaired_by_the_next_writers_flush(store: CreditsStore) -> None:
    granted(store)
    crash_next_ledger_write(store)
    with pytest.raises(RuntimeError):
        store.consume("wc_order_a", 1, "tx_lost", NOW)
    for i in range(2 * FLUSH_AT):
        store.consume("wc_order_a", 1, f"tx_{i}", NOW)
    listed = store.client.query(
        TableName="CreditsTable",
        KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
        ExpressionAttributeValues={":pk": {"S": "ORDER#wc_order_a"}, ":p": {"S": "LEDGER#"}},
    )["Items"]
    assert len(listed) == 2 + 2 * FLUSH_AT  # grant, the lost move and every later one: written by a flush


def test_a_ledger_write_failing_after_the_move_answers_the_move_and_is_repaired(store: CreditsStore) -> None:
    """The move is applied: an error writing its entry must not tell a caller (without a key) to spend again."""
    granted(store)
    failures: list[int] = []

    def throttled(**_: Any) -> None:
        if not failures:
            failures.append(1)
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
                "BatchWriteItem",
            )

    store.client.meta.events.register("before-call.dynamodb.BatchWriteItem", throttled)
    result = store.consume("wc_order_a", 7, "tx_once", NOW)
    assert failures == [1]
    assert (result.consumed, result.balance, result.transaction_id) == (7, 93, "tx_once")
    assert moves(store) == [("consume", -7, 93), ("grant", 100, 100)]  # the first read wrote the entry


def test_an_account_written_before_moves_were_recorded_still_moves(store: CreditsStore) -> None:
    old = {"pk": "ORDER#wc_order_old", "sk": "STATE", "order_key": "wc_order_old", "order_id": 3}
    old |= {"status": "completed", "granted": 50, "consumed": 0, "revoked": 0, "balance": 50, "version": 1}
    store.client.put_item(TableName="CreditsTable", Item=to_item(old | {"granted_at": "2026-01-01T00:00:00Z"}))
    assert store.consume("wc_order_old", 5, "tx_1", NOW).balance == 45
    assert store.revoke("wc_order_old", "refunded", "2026-11-22T12:00:00", "tx_r", NOW) == 45


def test_revoke_takes_what_is_left_and_closes(store: CreditsStore) -> None:
    granted(store)
    store.consume("wc_order_a", 40, "tx_1", NOW)
    assert store.revoke("wc_order_a", "refunded", "2026-11-22T12:00:00", "tx_r", NOW) == 60
    assert store.revoke("wc_order_a", "refunded", "2026-11-22T12:00:00", "tx_r2", NOW) is None
    closed = store.get_account("wc_order_a")
    assert closed is not None
    assert (closed.balance, closed.revoked, closed.status, closed.closed_at is not None) == (0, 60, "refunded", True)
    assert moves(store)[0] == ("revoke", -60, 0)
    with pytest.raises(ConsumeRefused):
        store.consume("wc_order_a", 1, "tx_late", NOW)
    assert not store.grant("wc_order_a", 1, 100, "2026-11-22T13:00:00", "tx_g", NOW)
    assert not store.track_status("wc_order_a", 1, "completed", "2026-11-22T14:00:00", close=False, now=NOW)


def test_status_never_goes_back_to_an_older_one(store: CreditsStore) -> None:
    assert store.track_status("wc_order_b", 2, "processing", "2026-11-22T10:00:00", close=False, now=NOW)
    assert not store.track_status("wc_order_b", 2, "pending", "2026-11-22T09:00:00", close=False, now=NOW)
    account = store.get_account("wc_order_b")
    assert account is not None
    assert (account.status, account.balance) == ("processing", 0)


def test_ledger_pages_and_rejects_forged_cursors(store: CreditsStore) -> None:
    granted(store, 10)
    for i in range(3):
        store.consume("wc_order_a", 1, f"tx_{i}", datetime(2026, 11, 22, 12, i + 1, tzinfo=UTC))
    page, cursor = store.ledger("wc_order_a", 2, None, NOW)
    assert [e.balance_after for e in page] == [7, 8]
    assert cursor is not None
    rest, end = store.ledger("wc_order_a", 2, cursor, NOW)
    assert [e.balance_after for e in rest] == [9, 10]
    assert end is None or store.ledger("wc_order_a", 2, end, NOW)[0] == []
    for forged in ("abc", "eyJzayI6ICJTVEFURSJ9", "eyJ4IjogMX0"):
        with pytest.raises(InvalidCursor):
            store.ledger("wc_order_a", 2, forged, NOW)


def test_a_cursor_issued_before_the_shared_codec_still_pages(store: CreditsStore) -> None:
    granted(store, 10)
    for i in range(2):
        store.consume("wc_order_a", 1, f"tx_{i}", datetime(2026, 11, 22, 12, i + 1, tzinfo=UTC))
    _, cursor = store.ledger("wc_order_a", 1, None, NOW)
    assert cursor is not None
    sort_key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["sk"]
    # The credits store used to write json.dumps' default separators ({"sk": "..."}): still one of ours.
    old = base64.urlsafe_b64encode(json.dumps({"sk": sort_key}).encode()).decode().rstrip("=")
    assert old != cursor
    assert store.ledger("wc_order_a", 1, old, NOW) == store.ledger("wc_order_a", 1, cursor, NOW)


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
    assert service.consume("wc_order_s", "max").consumed == 0  # nothing left: takes nothing
    with pytest.raises(InsufficientCredits):
        service.consume("wc_order_s", 1)
    with pytest.raises(UnknownOrder):
        service.consume("wc_order_nope", 1)
    assert service.apply_order(order.model_copy(update={"status": "refunded"})) == "revoked"
    assert service.apply_order(order.model_copy(update={"status": "refunded"})) == "already_revoked"


# ------------------------------------------------------------------ the real engine's answers (Stubber)
@pytest.fixture
def stubbed() -> Iterator[tuple[CreditsStore, Stubber]]:
    client = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield CreditsStore("CreditsTable", client), stubber
        stubber.assert_no_pending_responses()


def account_item(balance: int, version: int, **extra: Any) -> dict[str, Any]:
    values = {"pk": "ORDER#wc_order_a", "sk": "STATE", "order_key": "wc_order_a", "order_id": 1}
    values |= {"status": "completed", "granted": 100, "consumed": 100 - balance, "revoked": 0}
    values |= {
        "balance": balance,
        "version": version,
        "moves": {},
        "move_seq": {},
        "move_before": {},
        "keys": {},
        "done": {},
        "writers": {},
        "writer_seq": {},
    }
    return to_item(values | extra)


def test_transaction_conflict_on_the_write_is_retried_not_answered_busy(
    stubbed: tuple[CreditsStore, Stubber], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No credits write is a transaction, so DynamoDB never cancels one for TransactionConflict; a plain write
    can still meet another tool's transaction on the item (TransactionConflictException): it is retried."""
    store, stubber = stubbed
    monkeypatch.setattr("woo_backend.store.credits.sleep_backoff", lambda *_, **__: None)
    stubber.add_client_error("update_item", "TransactionConflictException", "conflict with a transaction")
    move = {"tx_1": {"M": {"type": {"S": "consume"}, "at": {"S": "2026-11-22T12:00:00Z"}, "n": {"N": "1"}}}}
    after = account_item(41, 60, moves={}, move_seq={}, move_before={}) | {
        "moves": {"M": move},
        "move_seq": {"M": {"tx_1": {"N": "60"}}},
        "move_before": {"M": {"tx_1": {"N": "42"}}},
    }
    stubber.add_response("update_item", {"Attributes": after})
    stubber.add_response("batch_write_item", {"UnprocessedItems": {}})
    result = store.consume("wc_order_a", 1, "tx_1", NOW)
    assert (result.consumed, result.balance, result.transaction_id) == (1, 41, "tx_1")


def test_a_refused_write_carries_the_state_it_found(stubbed: tuple[CreditsStore, Stubber]) -> None:
    store, stubber = stubbed
    stubber.add_client_error(
        "update_item",
        "ConditionalCheckFailedException",
        "The conditional request failed",
        modeled_fields={"Item": account_item(0, 101)},
    )
    with pytest.raises(ConsumeRefused) as refused:
        store.consume("wc_order_a", 1, "tx_1", NOW)
    assert refused.value.current is not None
    assert (refused.value.current.balance, refused.value.current.version) == (0, 101)


def test_a_refused_write_whose_key_is_recorded_is_a_replay(stubbed: tuple[CreditsStore, Stubber]) -> None:
    store, stubber = stubbed
    keys = {"k1": {"M": {"tx": {"S": "tx_first"}, "fp": {"S": "fp"}, "at": {"S": "2026-11-22T12:00:00Z"}}}}
    move = {"tx_first": {"M": {"type": {"S": "consume"}, "at": {"S": "2026-11-22T12:00:00Z"}, "n": {"N": "5"}}}}
    found = account_item(95, 2) | {
        "keys": {"M": keys},
        "moves": {"M": move},
        "move_seq": {"M": {"tx_first": {"N": "2"}}},
        "move_before": {"M": {"tx_first": {"N": "100"}}},
    }
    stubber.add_client_error("update_item", "ConditionalCheckFailedException", "failed", modeled_fields={"Item": found})
    with pytest.raises(Replayed) as replay:
        store.consume("wc_order_a", 5, "tx_second", NOW, "k1", "fp")
    assert replay.value.result is not None
    assert (replay.value.result.transaction_id, replay.value.result.balance) == ("tx_first", 95)
