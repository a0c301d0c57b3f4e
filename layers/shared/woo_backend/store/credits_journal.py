"""Writing what an account item's journal records (``store.credits_moves``): ledger entries, idempotency
records, flushes, and recognising a move of ours that DynamoDB applied though its answer was lost."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from woo_backend.backoff import sleep_backoff
from woo_backend.domain.credits import LedgerEntry, ledger_sort_key
from woo_backend.dynamo import conditional_update, from_item, to_item, to_values
from woo_backend.errors import Busy
from woo_backend.observability import logger
from woo_backend.store.credits_moves import (
    FLUSH_AT,
    FLUSH_MOVES,
    JOURNAL,
    LEDGER_PREFIX,
    Move,
    done_seq,
    flush_expression,
    ledger_items,
    order_pk,
    recorded,
    stale,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

STATE = "STATE"
BATCH = 25  # BatchWriteItem's limit
INIT_JOURNAL = "SET " + ", ".join(f"#{name} = if_not_exists(#{name}, :empty)" for name in JOURNAL)


def state_key(order_key: str) -> dict[str, Any]:
    return to_item({"pk": order_pk(order_key), "sk": STATE})


class CreditsJournal:
    def __init__(self, table: str, client: DynamoDBClient) -> None:
        self.table = table
        self.client = client

    def init(self, order_key: str) -> None:
        """Give an account written before moves were recorded its (empty) maps."""
        conditional_update(
            self.client, self.table, state_key(order_key), INIT_JOURNAL, "attribute_exists(pk)", {":empty": {}}
        )

    def record(self, order_key: str, after: dict[str, Any], tx: str, now: datetime) -> Move:
        """Write the entry (and idempotency record) of move ``tx`` from an item that records it; flush now and
        then: every ``FLUSH_AT``-th move once that many are recorded, or at once when they pile up."""
        moves = recorded(after)
        move = moves[tx]
        forget = stale(after, now)
        many = len(moves) > FLUSH_AT or bool(forget.txs)
        try:
            self.write(order_key, int(after["order_id"]), [move], now)
            if (many and move.seq % FLUSH_AT == 0) or len(moves) > 2 * FLUSH_AT:
                self.flush(order_key, after, now)
        except (ClientError, BotoCoreError, Busy) as error:
            # The move is applied and recorded: failing would make a keyless caller spend again (flush/read repair it).
            code = error.response["Error"]["Code"] if isinstance(error, ClientError) else type(error).__name__
            logger.warning("credits ledger entry deferred", extra={"error": code, "seq": move.seq})
        return move

    def applied(self, order_key: str, current: dict[str, Any], tx: str, now: datetime) -> Move | None:
        """Move ``tx`` if a refused write of it found it applied already (a re-sent write whose first answer
        was lost): from the item while it records the move, else from its ledger entry."""
        if tx in recorded(current):
            logger.info("credits move recognised as applied", extra={"where": "journal"})
            return self.record(order_key, current, tx, now)
        seq = done_seq(current, tx)
        if seq is None:
            return None
        key = to_item({"pk": order_pk(order_key), "sk": LEDGER_PREFIX + ledger_sort_key(seq)})
        item = self.client.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")
        if item is None:  # flushed only after its entry was written; a missing entry is a broken invariant
            raise RuntimeError(f"credits ledger entry {seq} missing after its flush")
        logger.info("credits move recognised as applied", extra={"where": "ledger"})
        return Move(seq, LedgerEntry.model_validate(from_item(item)), None)

    def settle(self, order_key: str, values: dict[str, Any], listed: set[str], now: datetime) -> bool:
        """Write the recorded moves whose entries are not in ``listed`` (a crashed writer's), and flush when
        many are recorded, so an order nobody moves any more still shrinks: whether anything was written."""
        moves = list(recorded(values).values())
        missing = [m for m in moves if m.sort_key not in listed]
        if missing:
            self.write(order_key, int(values["order_id"]), missing, now)
        if len(moves) > FLUSH_AT or stale(values, now).txs:
            self.flush(order_key, values, now)
        return bool(missing)

    def write(self, order_key: str, order_id: int, moves: list[Move], now: datetime) -> None:
        """Put the ledger entries (and idempotency records) of ``moves``: the same content whoever writes them."""
        puts = ledger_items(order_key, order_id, moves, now)
        for start in range(0, len(puts), BATCH):
            requests: list[Any] = [{"PutRequest": {"Item": to_item(item)}} for item in puts[start : start + BATCH]]
            for attempt in range(8):
                unprocessed = self.client.batch_write_item(RequestItems={self.table: requests}).get("UnprocessedItems")
                requests = list((unprocessed or {}).get(self.table, []))
                if not requests:
                    break
                sleep_backoff(attempt, 0.01, 0.5)
            else:
                raise Busy("the ledger is throttled; retry shortly")

    def flush(self, order_key: str, values: dict[str, Any], now: datetime) -> None:
        """Write recorded moves' entries, then remove them from ``STATE`` (marking them done) and forget the
        moves and keys past their grace; bounded per call (``FLUSH_MOVES``), the rest go next time."""
        moves = sorted(recorded(values).values(), key=lambda m: m.seq)[:FLUSH_MOVES]
        self.write(order_key, int(values["order_id"]), moves, now)
        expression, expression_values, attribute_names = flush_expression(moves, stale(values, now), now)
        if not expression:
            return
        request: dict[str, Any] = {
            "TableName": self.table,
            "Key": state_key(order_key),
            "UpdateExpression": expression,
            "ExpressionAttributeNames": attribute_names,
        }
        if expression_values:
            request["ExpressionAttributeValues"] = to_values(expression_values)
        try:
            self.client.update_item(**request)
        except ClientError as error:  # housekeeping only: the moves' entries are written; the next flush retries
            logger.warning("credits flush failed", extra={"error": error.response["Error"]["Code"]})
