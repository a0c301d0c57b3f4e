"""The credits journal against moto: a write DynamoDB applied but whose answer was lost is re-sent by the SDK and
must not move credits twice; flushes stay under DynamoDB's 4 KB expression limit however long the journal grew;
an idempotency record written late still answers its key for the whole TTL."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, cast

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.integration.test_credits_store import NOW, granted, moves, state_item
from woo_backend.domain.credits import LedgerEntry, request_fingerprint
from woo_backend.dynamo import from_item, to_item
from woo_backend.services.credits import CreditsService
from woo_backend.store.credits import CreditsStore
from woo_backend.store.credits_moves import (
    DONE,
    FLUSH_AT,
    FLUSH_FORGET,
    FLUSH_MOVES,
    IDEMPOTENCY_TTL,
    KEY_GRACE,
    Move,
    Stale,
    flush_expression,
    recorded,
)


@pytest.fixture
def store(aws: Any) -> CreditsStore:
    return CreditsStore("CreditsTable", aws)


EXPRESSION_LIMIT = 4096  # DynamoDB: "the maximum length of any expression string is 4 KB" (moto does not check)


def resend_once(store: CreditsStore, when: Callable[[dict[str, Any]], bool], between: Callable[[], None]) -> list[int]:
    """The SDK re-sends the first successful ``UpdateItem`` matching ``when`` as if its answer had been lost:
    botocore's own retry loop runs again (a ``needs-retry`` handler answering "retry now"), after ``between``."""
    resent: list[int] = []

    def lost_answer(response: Any, request_dict: dict[str, Any], **_: Any) -> int | None:
        body = request_dict.get("body", b"")
        if resent or response is None or response[0].status_code != 200 or not when({"body": body}):
            return None
        resent.append(1)
        between()
        return 0  # seconds to wait before botocore sends the same request again

    store.client.meta.events.register("needs-retry.dynamodb.UpdateItem", cast(Any, lost_answer))  # returns a delay
    return resent


def about(tx: str) -> Callable[[dict[str, Any]], bool]:
    return lambda request: tx.encode() in request["body"]


def other_store(store: CreditsStore) -> CreditsStore:
    """Another container: its own client on the same (moto) tables."""
    return CreditsStore(store.table, boto3.client("dynamodb"))


def test_a_consume_whose_answer_was_lost_is_applied_once_when_the_sdk_resends_it(store: CreditsStore) -> None:
    granted(store)
    resent = resend_once(store, about("tx_lost"), lambda: None)
    result = store.consume("wc_order_a", 7, "tx_lost", NOW)  # no Idempotency-Key: only the tx guards it
    assert resent == [1]
    assert (result.consumed, result.balance, result.transaction_id) == (7, 93, "tx_lost")
    account = store.get_account("wc_order_a")
    assert account is not None
    assert (account.balance, account.consumed, account.version) == (93, 7, 2)
    assert moves(store) == [("consume", -7, 93), ("grant", 100, 100)]


def test_a_resent_consume_is_recognised_after_another_writer_flushed_its_move(store: CreditsStore) -> None:
    granted(store)
    other = other_store(store)

    def others_flush() -> None:  # between the lost answer and the re-send, another container flushes
        other.journal.flush("wc_order_a", state_item(other), NOW)
        item = state_item(other)
        assert "tx_lost" not in item["moves"]
        assert "tx_lost" not in item[DONE]  # no key: only its writer's last move remembers it
        assert [last["tx"] for last in item["writers"].values()] == ["tx_lost"]

    resent = resend_once(store, about("tx_lost"), others_flush)
    result = store.consume("wc_order_a", 7, "tx_lost", NOW)
    assert resent == [1]
    assert (result.consumed, result.balance, result.transaction_id) == (7, 93, "tx_lost")  # from its entry
    assert moves(store) == [("consume", -7, 93), ("grant", 100, 100)]


def test_a_resent_grant_and_revoke_are_their_own_success(store: CreditsStore) -> None:
    resend_once(store, about("tx_grant"), lambda: None)
    account = granted(store)  # asserts grant() said granted, though the re-sent write was refused
    assert account.balance == 100
    store.consume("wc_order_a", 30, "tx_1", NOW)
    resend_once(store, about("tx_revoke"), lambda: None)
    assert store.revoke("wc_order_a", "refunded", "2026-11-22T12:00:00", "tx_revoke", NOW) == 70
    assert moves(store)[0] == ("revoke", -70, 0)


def test_the_worst_flush_expression_fits_dynamodbs_limit() -> None:
    entry = LedgerEntry(transaction_id="tx", type="consume", amount=-1, balance_after=0, created_at="x")
    many = [Move(seq, entry.model_copy(update={"idempotency_key": f"k{seq}"}), "fp") for seq in range(200)]
    forget = Stale([f"tx_{i}" for i in range(200)], [f"key-{i}" for i in range(200)], [f"w_{i}" for i in range(200)])
    expression, values, attribute_names = flush_expression(many, forget, NOW)
    assert len(expression) < EXPRESSION_LIMIT
    assert len(values) == FLUSH_MOVES
    assert len(attribute_names) == FLUSH_MOVES + 3 * FLUSH_FORGET + 7


def test_a_journal_that_piled_up_shrinks_in_flushes_under_the_expression_limit(store: CreditsStore) -> None:
    granted(store, 1000)
    lengths: list[int] = []
    failing = [True]

    def strict(params: dict[str, Any], **_: Any) -> None:  # the real engine's 4 KB check, and a flush outage
        lengths.append(len(params["UpdateExpression"]))
        if lengths[-1] > EXPRESSION_LIMIT:
            raise ClientError({"Error": {"Code": "ValidationException", "Message": "too long"}}, "UpdateItem")
        if failing[0] and "ConditionExpression" not in params:  # flushes are the only unconditioned updates
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": ""}}, "UpdateItem"
            )

    store.client.meta.events.register("before-parameter-build.dynamodb.UpdateItem", strict)
    for i in range(45):  # every flush fails: 46 moves and 45 keys pile up in the item
        store.consume("wc_order_a", 1, f"tx_{i}", NOW, f"key-{i}", request_fingerprint(1))
    assert len(recorded(state_item(store))) == 46
    failing[0] = False
    later = NOW + KEY_GRACE + timedelta(seconds=1)
    for i in range(12):
        store.consume("wc_order_a", 1, f"tx_late_{i}", later)
    for j in range(1, 5):  # an order nobody moves any more: its ledger reads shrink it too
        store.ledger("wc_order_a", 10, None, later + KEY_GRACE * 2 * j)
    assert max(lengths) <= EXPRESSION_LIMIT
    item = state_item(store)
    assert len(recorded(item)) == 0
    assert item["keys"] == {}
    assert item[DONE] == {}
    assert [after for _, _, after in moves(store)] == list(range(1000 - 57, 1001))  # no entry lost, no gap
    service = CreditsService(store, None, clock=lambda: later)
    assert service.consume("wc_order_a", 1, "key-0").transaction_id == "tx_0"  # a forgotten key: its IDEM record


def test_an_idempotency_record_written_late_still_answers_for_the_whole_ttl(store: CreditsStore) -> None:
    granted(store)

    def crash(**_: Any) -> None:
        store.client.meta.events.unregister("before-call.dynamodb.BatchWriteItem", crash)
        raise RuntimeError("the container died")

    store.client.meta.events.register("before-call.dynamodb.BatchWriteItem", crash)
    with pytest.raises(RuntimeError):
        store.consume("wc_order_a", 7, "tx_slow", NOW, "key-slow", request_fingerprint(7))
    repaired: datetime = NOW + timedelta(days=8)  # nobody touched the order for 8 days, then a read repairs it
    store.ledger("wc_order_a", 10, None, repaired)
    record = store.client.get_item(
        TableName="CreditsTable", Key=to_item({"pk": "IDEM#wc_order_a#key-slow", "sk": "IDEM"})
    )["Item"]
    assert int(from_item(record)["expires_at"]) == int((repaired + IDEMPOTENCY_TTL).timestamp())
    for j in range(3 * FLUSH_AT):  # others move the order: the key leaves the item after its grace
        store.consume("wc_order_a", 1, f"tx_{j}", repaired + KEY_GRACE * 2 * (j + 1))
    assert "key-slow" not in state_item(store)["keys"]
    service = CreditsService(store, None, clock=lambda: repaired + timedelta(days=6))
    assert service.consume("wc_order_a", 7, "key-slow").transaction_id == "tx_slow"  # not spent again


def test_a_hot_order_keeps_a_small_item_one_guard_per_writer_not_per_move(store: CreditsStore) -> None:
    """Keyless moves leave nothing behind once flushed but their writer's last move: the item does not grow
    with the order's traffic (each move's write costs write units by the item's size)."""
    granted(store, 1000)
    for i in range(200):
        store.consume("wc_order_a", 1, f"tx_{i}", NOW)
    item = state_item(store)
    assert len(item["moves"]) <= 2 * FLUSH_AT
    assert item[DONE] == {}
    assert [last["tx"] for last in item["writers"].values()] == ["tx_199"]
    later = NOW + KEY_GRACE + timedelta(seconds=1)
    other = other_store(store)

    def another_writer() -> None:  # another thread is another writer
        for i in range(FLUSH_AT):
            other.consume("wc_order_a", 1, f"tx_later_{i}", later)

    with ThreadPoolExecutor(max_workers=1) as pool:  # a minute later: the idle writer's entry leaves
        pool.submit(another_writer).result()
    assert [last["tx"] for last in state_item(store)["writers"].values()] == [f"tx_later_{FLUSH_AT - 1}"]
