"""The credit ledger in DynamoDB (``CreditsTable``).

Items, all under the order's partition ``ORDER#<order_key>``:
- ``STATE``: granted, consumed, revoked, balance, status, ``version`` (the number of money moves), the
  idempotency keys used on the order (``keys``), the moves whose ledger entries may not be written yet and
  the recently flushed ones (``done``) (``store.credits_moves``; written by ``store.credits_journal``);
- ``LEDGER#<seq>``: one entry per grant, consume, revoke or admin adjustment, under the move's sequence number.
``gsi1`` lists accounts by status (``STATE``: ``ACCOUNTS#<status>``, sorted by the order's modified time; set
by the writes that set the status, never by a consume) and ledger entries by UTC day (``DAY#<yyyy-mm-dd>``, see
``credits_moves.ledger_items``). Items written before the index have no ``gsi1`` keys (no migration): an
account is listed from its next status change, and older entries are not in the daily totals.
Idempotency records (the answer to a key) live in their own partition ``IDEM#<order_key>#<key>`` (TTL
``expires_at``), and the sync cursor under ``SYNC``/``ORDERS``.

Why this holds on the real engine under contention: every money move is ONE conditional ``UpdateItem`` on
``STATE`` (``balance >= :n``, ``ADD``-like arithmetic on the stored values, the key guarded by
``attribute_not_exists(keys.<key>)`` and the move's own transaction id by ``NOT_APPLIED``, so a write the SDK
re-sends after a lost answer is refused and recognised, never applied twice), never a transaction and never
conditioned on a version read earlier. DynamoDB applies single-item writes to one item one after another
(serialized by the item's partition, up to 1,000 writes/s), so parallel consumes of one order queue there
instead of failing: each is applied to the balance as it is at that moment, and only a real lack of credits is
refused. ``TransactionConflict`` is a transaction-only refusal (two transactions, or a transaction and a
write, on one item at once); no credits write is a transaction, so it cannot arise. The ledger entry and the
idempotency record are written after, derived exactly from the update's ``ALL_NEW`` answer (see
``store.credits_moves``), so a crash between the two loses nothing: the move stays recorded in ``STATE`` until
a later writer or reader writes its entry.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from woo_backend.backoff import sleep_backoff
from woo_backend.clock import iso
from woo_backend.domain.credits import (
    COMPLETED,
    ConsumeAmount,
    ConsumeRefused,
    ConsumeResult,
    CreditAccount,
    LedgerEntry,
    Replayed,
)
from woo_backend.dynamo import conditional_update, failed_condition, from_item, names, to_item, to_values
from woo_backend.errors import Busy
from woo_backend.store.credits_journal import CreditsJournal, state_key
from woo_backend.store.credits_moves import (
    DONE,
    KEYS,
    LEDGER_PREFIX,
    NOT_APPLIED,
    RECORD,
    WRITER_SEQ,
    WRITERS,
    Move,
    idem_pk,
    known_part,
    order_pk,
    recorded,
    writer_id,
)
from woo_backend.store.cursors import SyncCursors
from woo_backend.store.paging import InvalidCursor, decode_cursor, encode_cursor

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Only some other tool's transaction on STATE could make a single write meet TransactionConflict: retry it.
CONFLICT_ATTEMPTS = 5

CONSUME_N = "SET #balance = #balance - :n, #consumed = #consumed + :n, #version = #version + :one, " + RECORD
CONSUME_N_CONDITION = f"#status = :completed AND #balance >= :n AND attribute_exists(#{WRITERS}) AND {NOT_APPLIED}"
# "max": the whole balance as it is when DynamoDB applies the write (operands read before the update).
CONSUME_MAX = "SET #consumed = #consumed + #balance, #balance = :zero, #version = #version + :one, " + RECORD
CONSUME_MAX_CONDITION = f"#status = :completed AND #balance > :zero AND attribute_exists(#{WRITERS}) AND {NOT_APPLIED}"
# An admin adjustment: signed ``:n``; only a completed, open account, and (taking) never below zero.
ADJUST = "SET #balance = #balance + :n, #adjusted = if_not_exists(#adjusted, :zero) + :n, #version = #version + :one, "
ADJUST_CONDITION = (
    f"#status = :completed AND attribute_not_exists(#closed_at) AND attribute_exists(#{WRITERS}) AND {NOT_APPLIED}"
)
TAKE_CONDITION = " AND #balance >= :n_abs"
WITH_KEY = ", #keys.#key = :keyrec"
WITH_KEY_CONDITION = " AND attribute_not_exists(#keys.#key)"
GRANT_UPDATE = (
    "SET #order_key = :key, #order_id = :id, #status = :completed, #granted = :g, #balance = :g, "
    "#consumed = :zero, #revoked = :zero, #version = :one, #granted_at = :now, #modified = :m, "
    "#gsi1pk = :gpk, #gsi1sk = :m, #moves = :moves, #move_seq = :seqs, #move_before = :befores, "
    "#keys = if_not_exists(#keys, :empty), "
    f"#{DONE} = if_not_exists(#{DONE}, :empty), #{WRITERS} = if_not_exists(#{WRITERS}, :empty), "
    f"#{WRITER_SEQ} = if_not_exists(#{WRITER_SEQ}, :empty)"
)
GRANT_CONDITION = "attribute_not_exists(#granted_at) AND attribute_not_exists(#closed_at)"  # once per order
REVOKE_UPDATE = (
    "SET #revoked = #revoked + #balance, #balance = :zero, #status = :s, #closed_at = :now, #modified = :m, "
    "#gsi1pk = :gpk, #gsi1sk = :m, #version = #version + :one, " + RECORD
)
REVOKE_CONDITION = (
    f"attribute_exists(#granted_at) AND attribute_not_exists(#closed_at) AND attribute_exists(#{WRITERS}) AND "
    + NOT_APPLIED
)
TRACK_CONDITION = "attribute_not_exists(#modified) OR #modified <= :m"  # never back to an older status
# A refunded or cancelled account stays closed, whatever a late delivery of an older state says.
TRACK_OPEN_CONDITION = f"({TRACK_CONDITION}) AND attribute_not_exists(#closed_at)"


def accounts_pk(status: str) -> str:
    """The ``gsi1`` partition of the accounts whose order has ``status``."""
    return f"ACCOUNTS#{status}"


def account_from_item(values: dict[str, Any]) -> CreditAccount:
    return CreditAccount(
        order_key=values["order_key"],
        order_id=int(values["order_id"]),
        status=values["status"],
        granted=int(values.get("granted", 0)),
        consumed=int(values.get("consumed", 0)),
        revoked=int(values.get("revoked", 0)),
        adjusted=int(values.get("adjusted", 0)),
        balance=int(values.get("balance", 0)),
        version=int(values.get("version", 0)),
        granted_at=values.get("granted_at"),
        closed_at=values.get("closed_at"),
    )


def _conflict(error: ClientError) -> bool:
    return error.response["Error"]["Code"] == "TransactionConflictException"


class CreditsStore:
    def __init__(self, table: str, client: DynamoDBClient) -> None:
        self.table = table
        self.client = client
        self.cursors = SyncCursors(table, self.client)
        self.journal = CreditsJournal(table, client)

    # -------------------------------------------------------------- reads
    def _state(self, order_key: str) -> dict[str, Any] | None:
        item = self.client.get_item(TableName=self.table, Key=state_key(order_key), ConsistentRead=True).get("Item")
        return from_item(item) if item else None

    def get_account(self, order_key: str) -> CreditAccount | None:
        values = self._state(order_key)
        return account_from_item(values) if values else None

    def ledger(
        self, order_key: str, limit: int, cursor: str | None, now: datetime
    ) -> tuple[list[LedgerEntry], str | None]:
        """Entries newest first; ``cursor`` is the opaque ``next_cursor`` of the previous page.

        The first page first writes any recorded move whose entry a crashed writer left unwritten (and
        flushes the journal when it is long, so an order nobody moves any more still shrinks).
        """
        args: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": to_values({":pk": order_pk(order_key), ":prefix": LEDGER_PREFIX}),
            "ScanIndexForward": False,
            "Limit": limit,
            "ConsistentRead": True,
        }
        if cursor:
            args["ExclusiveStartKey"] = to_item({"pk": order_pk(order_key), "sk": self._decode_cursor(cursor)})
        response = self.client.query(**args)
        if cursor is None:
            values = self._state(order_key)
            listed = {str(from_item(item)["sk"]) for item in response.get("Items", [])}
            if values and self.journal.settle(order_key, values, listed, now):
                response = self.client.query(**args)
        entries = [LedgerEntry.model_validate(from_item(item)) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        next_cursor = self._encode_cursor(str(from_item(last)["sk"])) if last else None
        return entries, next_cursor

    @staticmethod
    def _encode_cursor(sort_key: str) -> str:
        return encode_cursor({"sk": sort_key})

    @staticmethod
    def _decode_cursor(cursor: str) -> str:
        sort_key = decode_cursor(cursor, ("sk",))["sk"]
        if not sort_key.startswith(LEDGER_PREFIX):  # only this order's ledger is listed
            raise InvalidCursor()
        return sort_key

    def idempotency_record(self, order_key: str, key: str) -> Replayed | None:
        """The first request made with ``key`` on this order, from its IDEM record, if any (one read)."""
        item = self.client.get_item(
            TableName=self.table, Key=to_item({"pk": idem_pk(order_key, key), "sk": "IDEM"}), ConsistentRead=True
        ).get("Item")
        if not item:
            return None
        values = from_item(item)
        return Replayed(str(values["fingerprint"]), ConsumeResult.model_validate_json(str(values["result"])))

    # -------------------------------------------------------------- the one write per move
    def _move(
        self, order_key: str, tx: str, update: str, condition: str, values: dict[str, Any], now: datetime
    ) -> tuple[int, Move]:
        """Apply move ``tx`` to ``STATE`` with its record, and write its entry: the order id and the move.
        A write refused because the move is applied already (its first answer lost) gives the move too; any
        other refusal raises ``_Refused`` with the item as it was (``None``: no item)."""
        attribute_names = names(update, condition)
        # The record's map keys are the transaction id and the idempotency key: names, never parsed.
        key = values.pop(":keyname", None)
        attribute_names.update({"#txid": tx} if "#txid" in update + condition else {})
        if "#wid" in update + condition:  # this writer's last move (``credits_moves.NOT_APPLIED``)
            attribute_names.update({"#wid": writer_id(), "#wtx": "tx"})
            values.update({":txid": tx, ":writer": {"tx": tx, "at": iso(now)}})
        attribute_names.update({"#key": str(key)} if key is not None else {})
        request: dict[str, Any] = {
            "TableName": self.table,
            "Key": state_key(order_key),
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": attribute_names,
            "ExpressionAttributeValues": to_values(values),
            "ReturnValues": "ALL_NEW",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        for attempt in range(CONFLICT_ATTEMPTS):
            try:
                after = from_item(self.client.update_item(**request)["Attributes"])
            except ClientError as error:
                if failed_condition(error):
                    item: dict[str, Any] | None = error.response.get("Item")  # type: ignore[assignment]
                    current = from_item(item) if item else None
                    applied = self.journal.applied(order_key, current, tx, now) if current else None
                    if applied is None:
                        raise _Refused(current) from None
                    return int(current["order_id"]), applied  # type: ignore[index]
                if not _conflict(error):
                    raise
                sleep_backoff(attempt, 0.005, 0.1)
                continue
            return int(after["order_id"]), self.journal.record(order_key, after, tx, now)
        raise Busy("the order is locked by another tool's transaction; retry shortly")

    # -------------------------------------------------------------- consume
    def consume(
        self,
        order_key: str,
        amount: ConsumeAmount,
        transaction_id: str,
        now: datetime,
        idempotency_key: str | None = None,
        fingerprint: str | None = None,
    ) -> ConsumeResult:
        """Take ``amount`` (or the whole balance, ``max``) in one conditional write.

        Raises ``Replayed`` when the idempotency key was used before on this order, ``ConsumeRefused`` (with
        the account as the write found it) when the order is unknown, not completed or short of credits.
        """
        requested = None if amount == "max" else amount
        update, condition = (
            (CONSUME_MAX, CONSUME_MAX_CONDITION) if requested is None else (CONSUME_N, CONSUME_N_CONDITION)
        )
        values: dict[str, Any] = {
            ":one": 1,
            ":completed": COMPLETED,
            ":move": known_part("consume", requested, iso(now), idempotency_key, fingerprint),
        }
        values.update({":zero": 0} if requested is None else {":n": requested})
        return self._keyed(order_key, transaction_id, update, condition, values, now, idempotency_key, fingerprint)

    def adjust(
        self, order_key: str, amount: int, reason: str, transaction_id: str, now: datetime, key: str, fingerprint: str
    ) -> ConsumeResult:
        """Add (``amount`` > 0) or take (< 0) credits of a completed, open account, never below zero, in one
        conditional write guarded like a keyed consume (``Replayed``, ``ConsumeRefused``); the result's
        ``consumed`` is ``-amount``."""
        condition = ADJUST_CONDITION + (TAKE_CONDITION if amount < 0 else "")
        values: dict[str, Any] = {
            ":n": amount,
            ":zero": 0,
            ":one": 1,
            ":completed": COMPLETED,
            ":move": known_part("adjustment", amount, iso(now), key, fingerprint, reason),
        }
        values.update({":n_abs": -amount} if amount < 0 else {})
        return self._keyed(order_key, transaction_id, ADJUST + RECORD, condition, values, now, key, fingerprint)

    def _keyed(
        self,
        order_key: str,
        tx: str,
        update: str,
        condition: str,
        values: dict[str, Any],
        now: datetime,
        key: str | None,
        fingerprint: str | None,
    ) -> ConsumeResult:
        """Apply a consume or an adjustment, guarded by its idempotency ``key`` when given."""
        if key is not None:
            update, condition = update + WITH_KEY, condition + WITH_KEY_CONDITION
            values[":keyname"] = key
            values[":keyrec"] = {"tx": tx, "fp": fingerprint, "at": iso(now)}
        for _ in range(2):
            try:
                order_id, move = self._move(order_key, tx, update, condition, dict(values), now)
            except _Refused as refused:
                current = refused.values
                if current is None:
                    raise ConsumeRefused(None) from None
                if key is not None and key in (current.get(KEYS) or {}):
                    raise self._replayed(order_key, current, key) from None
                if WRITERS not in current:
                    self.journal.init(order_key)
                    continue
                raise ConsumeRefused(account_from_item(current)) from None
            return move.result(order_id)
        raise ConsumeRefused(None)  # the item vanished between the two attempts

    def _replayed(self, order_key: str, current: dict[str, Any], key: str) -> Replayed:
        """The answer to ``key`` from the account as the refused write found it (the move may be recorded
        there still), else from its IDEM record."""
        first = current[KEYS][key]
        move = recorded(current).get(str(first["tx"]))
        if move is not None:
            return Replayed(str(first["fp"]), move.result(int(current["order_id"])))
        record = self.idempotency_record(order_key, key)
        return Replayed(str(first["fp"]), record.result if record else None)

    # -------------------------------------------------------------- grant, revoke, status
    def grant(
        self, order_key: str, order_id: int, credits: int, modified: str, transaction_id: str, now: datetime
    ) -> bool:
        """Grant ``credits`` once per order (move 1); ``False`` when it was granted (or closed) before."""
        values = {
            ":key": order_key,
            ":id": order_id,
            ":completed": COMPLETED,
            ":g": credits,
            ":zero": 0,
            ":one": 1,
            ":now": iso(now),
            ":m": modified,
            ":moves": {transaction_id: known_part("grant", credits, iso(now), None, None)},
            ":seqs": {transaction_id: 1},
            ":befores": {transaction_id: 0},
            ":empty": {},
            ":gpk": accounts_pk(COMPLETED),
        }
        try:
            self._move(order_key, transaction_id, GRANT_UPDATE, GRANT_CONDITION, values, now)
        except _Refused:
            return False
        return True

    def revoke(self, order_key: str, status: str, modified: str, transaction_id: str, now: datetime) -> int | None:
        """Revoke what is left of a granted, open account and close it: the credits revoked, or ``None``
        when the account is not granted or already closed."""
        values = {
            ":zero": 0,
            ":one": 1,
            ":s": status,
            ":now": iso(now),
            ":m": modified,
            ":gpk": accounts_pk(status),
            ":move": known_part("revoke", None, iso(now), None, None),
        }
        for _ in range(2):
            try:
                _, move = self._move(order_key, transaction_id, REVOKE_UPDATE, REVOKE_CONDITION, dict(values), now)
            except _Refused as refused:
                current = refused.values
                if current and WRITERS not in current and "granted_at" in current and "closed_at" not in current:
                    self.journal.init(order_key)
                    continue
                return None
            return -move.entry.amount
        return None

    def track_status(
        self, order_key: str, order_id: int, status: str, modified: str, close: bool, now: datetime
    ) -> bool:
        """Record an order's status unless a newer one is recorded; ``close`` bars any later grant."""
        expression = (
            "SET #order_key = :key, #order_id = :id, #status = :s, #modified = :m, "
            "#granted = if_not_exists(#granted, :zero), #consumed = if_not_exists(#consumed, :zero), "
            "#revoked = if_not_exists(#revoked, :zero), #balance = if_not_exists(#balance, :zero), "
            "#version = if_not_exists(#version, :zero), #gsi1pk = :gpk, #gsi1sk = :m"
        )
        values: dict[str, Any] = {
            ":key": order_key,
            ":id": order_id,
            ":s": status,
            ":m": modified,
            ":zero": 0,
            ":gpk": accounts_pk(status),
        }
        condition = TRACK_OPEN_CONDITION
        if close:
            expression += ", #closed_at = if_not_exists(#closed_at, :now)"
            values[":now"] = iso(now)
            condition = TRACK_CONDITION
        return (
            conditional_update(self.client, self.table, state_key(order_key), expression, condition, values) is not None
        )


class _Refused(Exception):
    """The condition of a move refused it; ``values``: the item as it was (``None``: no item)."""

    def __init__(self, values: dict[str, Any] | None) -> None:
        super().__init__("refused")
        self.values = values
