"""The credit ledger in DynamoDB (``CreditsTable``).

Items, all under the order's partition ``ORDER#<order_key>``:
- ``STATE``: granted, consumed, revoked, balance, status and a ``version`` bumped by every money move;
- ``LEDGER#<time>#<id>``: one entry per grant, consume or revoke, never updated nor deleted.
Idempotency records live in their own partition ``IDEM#<order_key>#<key>`` (TTL ``expires_at``), and
the sync cursor under ``SYNC``/``ORDERS``.

Every money move is one ``TransactWriteItems``: the state update under a condition on ``version`` (so
the balance it writes is exact), the ledger entry under ``attribute_not_exists`` and, when the caller
gave an idempotency key, the idempotency record under ``attribute_not_exists``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from woo_backend.clock import iso
from woo_backend.domain.credits import (
    COMPLETED,
    ConsumeResult,
    CreditAccount,
    LedgerEntry,
    Replayed,
    StaleAccount,
    ledger_sort_key,
)
from woo_backend.dynamo import conditional_update, from_item, names, to_item, to_values
from woo_backend.store.cursors import SyncCursors
from woo_backend.store.paging import InvalidCursor, decode_cursor, encode_cursor

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

STATE = "STATE"
LEDGER_PREFIX = "LEDGER#"
IDEMPOTENCY_TTL = timedelta(days=7)

# The balance a consume writes is exact because the condition pins the version it was computed from.
CONSUME_UPDATE = "SET #balance = :after, #consumed = #consumed + :n, #version = :next"
CONSUME_CONDITION = "#version = :v AND #status = :completed AND #balance >= :n"
GRANT_UPDATE = (
    "SET #order_key = :key, #order_id = :id, #status = :completed, #granted = :g, #balance = :g, "
    "#consumed = :zero, #revoked = :zero, #version = if_not_exists(#version, :zero) + :one, "
    "#granted_at = :now, #modified = :m"
)
GRANT_CONDITION = "attribute_not_exists(#granted_at) AND attribute_not_exists(#closed_at)"  # once per order
REVOKE_UPDATE = (
    "SET #balance = :zero, #revoked = #revoked + :b, #status = :s, #closed_at = :now, #version = :next, #modified = :m"
)
REVOKE_CONDITION = "#version = :v AND attribute_not_exists(#closed_at)"
TRACK_CONDITION = "attribute_not_exists(#modified) OR #modified <= :m"  # never back to an older status
# A refunded or cancelled account stays closed, whatever a late delivery of an older state says.
TRACK_OPEN_CONDITION = f"({TRACK_CONDITION}) AND attribute_not_exists(#closed_at)"


def _pk(order_key: str) -> str:
    return f"ORDER#{order_key}"


def _idem_pk(order_key: str, key: str) -> str:
    return f"IDEM#{order_key}#{key}"


def _account(item: dict[str, Any]) -> CreditAccount:
    values = from_item(item)
    return CreditAccount(
        order_key=values["order_key"],
        order_id=int(values["order_id"]),
        status=values["status"],
        granted=int(values.get("granted", 0)),
        consumed=int(values.get("consumed", 0)),
        revoked=int(values.get("revoked", 0)),
        balance=int(values.get("balance", 0)),
        version=int(values.get("version", 0)),
        granted_at=values.get("granted_at"),
        closed_at=values.get("closed_at"),
    )


def _cancellation_reasons(error: ClientError) -> list[dict[str, Any]]:
    return list(error.response.get("CancellationReasons", []))  # type: ignore[arg-type]


def _condition_failed(reason: dict[str, Any]) -> bool:
    return reason.get("Code") == "ConditionalCheckFailed"


def _raise_if_stale(reasons: list[dict[str, Any]]) -> None:
    """The state update (always the first item) was refused: hand back the state as it is now."""
    if reasons and _condition_failed(reasons[0]):
        item = reasons[0].get("Item")
        raise StaleAccount(_account(item) if item else None) from None


class CreditsStore:
    def __init__(self, table: str, client: DynamoDBClient) -> None:
        self.table = table
        self.client = client
        self.cursors = SyncCursors(table, self.client)

    # -------------------------------------------------------------- reads
    def get_account(self, order_key: str) -> CreditAccount | None:
        response = self.client.get_item(
            TableName=self.table, Key=to_item({"pk": _pk(order_key), "sk": STATE}), ConsistentRead=True
        )
        item = response.get("Item")
        return _account(item) if item else None

    def ledger(self, order_key: str, limit: int, cursor: str | None) -> tuple[list[LedgerEntry], str | None]:
        """Entries newest first; ``cursor`` is the opaque ``next_cursor`` of the previous page."""
        args: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": to_values({":pk": _pk(order_key), ":prefix": LEDGER_PREFIX}),
            "ScanIndexForward": False,
            "Limit": limit,
            "ConsistentRead": True,
        }
        if cursor:
            args["ExclusiveStartKey"] = to_item({"pk": _pk(order_key), "sk": self._decode_cursor(cursor)})
        response = self.client.query(**args)
        entries = []
        for item in response.get("Items", []):
            values = from_item(item)
            entries.append(
                LedgerEntry(
                    transaction_id=values["transaction_id"],
                    type=values["type"],
                    amount=int(values["amount"]),
                    balance_after=int(values["balance_after"]),
                    created_at=values["created_at"],
                    idempotency_key=values.get("idempotency_key"),
                )
            )
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

    # -------------------------------------------------------------- consume
    def consume(
        self,
        expected: CreditAccount,
        amount: int,
        transaction_id: str,
        now: datetime,
        idempotency_key: str | None = None,
        fingerprint: str | None = None,
    ) -> ConsumeResult:
        """Take ``amount`` from an account whose state is ``expected``.

        Raises ``StaleAccount`` (with the current state) when the account moved, ``Replayed`` when the
        idempotency key was already used.
        """
        balance_after = expected.balance - amount
        result = ConsumeResult(
            order_id=expected.order_id, consumed=amount, balance=balance_after, transaction_id=transaction_id
        )
        items: list[dict[str, Any]] = [
            self._state_update(
                expected.order_key,
                CONSUME_UPDATE,
                CONSUME_CONDITION,
                {
                    ":after": balance_after,
                    ":n": amount,
                    ":v": expected.version,
                    ":next": expected.version + 1,
                    ":completed": COMPLETED,
                },
            ),
            self._ledger_put(
                expected.order_key, transaction_id, "consume", -amount, balance_after, now, idempotency_key
            ),
        ]
        if idempotency_key is not None:
            items.append(
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": to_item(
                            {
                                "pk": _idem_pk(expected.order_key, idempotency_key),
                                "sk": "IDEM",
                                "fingerprint": fingerprint,
                                "result": result.model_dump_json(),
                                "created_at": iso(now),
                                "expires_at": int((now + IDEMPOTENCY_TTL).timestamp()),
                            }
                        ),
                        "ConditionExpression": "attribute_not_exists(pk)",
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                }
            )
        try:
            self.client.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = _cancellation_reasons(error)
            if len(reasons) > 2 and _condition_failed(reasons[2]):
                item = reasons[2].get("Item")
                replayed = (
                    self._replayed(item) if item else self.idempotency_record(expected.order_key, idempotency_key or "")
                )
                if replayed is not None:
                    raise replayed from None
            _raise_if_stale(reasons)
            raise
        return result

    def idempotency_record(self, order_key: str, key: str) -> Replayed | None:
        """The first request made with ``key`` on this order, if any (one read)."""
        item = self.client.get_item(
            TableName=self.table, Key=to_item({"pk": _idem_pk(order_key, key), "sk": "IDEM"}), ConsistentRead=True
        ).get("Item")
        return self._replayed(item) if item else None

    @staticmethod
    def _replayed(item: dict[str, Any]) -> Replayed:
        values = from_item(item)
        return Replayed(str(values["fingerprint"]), ConsumeResult.model_validate_json(str(values["result"])))

    def _state_update(self, order_key: str, update: str, condition: str, values: dict[str, Any]) -> dict[str, Any]:
        """The transaction item that moves an account's state; a refusal returns the state as it is."""
        return {
            "Update": {
                "TableName": self.table,
                "Key": to_item({"pk": _pk(order_key), "sk": STATE}),
                "UpdateExpression": update,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names(update, condition),
                "ExpressionAttributeValues": to_values(values),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def _ledger_put(
        self,
        order_key: str,
        transaction_id: str,
        entry_type: str,
        amount: int,
        balance_after: int,
        now: datetime,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self.table,
                "Item": to_item(
                    {
                        "pk": _pk(order_key),
                        "sk": LEDGER_PREFIX + ledger_sort_key(now, transaction_id),
                        "transaction_id": transaction_id,
                        "type": entry_type,
                        "amount": amount,
                        "balance_after": balance_after,
                        "created_at": iso(now),
                        "idempotency_key": idempotency_key,
                    }
                ),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    # -------------------------------------------------------------- grant, revoke, status
    def grant(
        self, order_key: str, order_id: int, credits: int, modified: str, transaction_id: str, now: datetime
    ) -> bool:
        """Grant ``credits`` once per order; ``False`` when it was granted (or closed) before."""
        try:
            self.client.transact_write_items(
                TransactItems=[
                    self._state_update(  # type: ignore[list-item]
                        order_key,
                        GRANT_UPDATE,
                        GRANT_CONDITION,
                        {
                            ":key": order_key,
                            ":id": order_id,
                            ":completed": COMPLETED,
                            ":g": credits,
                            ":zero": 0,
                            ":one": 1,
                            ":now": iso(now),
                            ":m": modified,
                        },
                    ),
                    self._ledger_put(order_key, transaction_id, "grant", credits, credits, now),  # type: ignore[list-item]
                ]
            )
        except ClientError as error:
            reasons = _cancellation_reasons(error)
            if reasons and _condition_failed(reasons[0]):
                return False
            raise
        return True

    def revoke(self, expected: CreditAccount, status: str, modified: str, transaction_id: str, now: datetime) -> None:
        """Revoke what is left of a granted account and close it; raises ``StaleAccount`` if it moved."""
        items: list[dict[str, Any]] = [
            self._state_update(
                expected.order_key,
                REVOKE_UPDATE,
                REVOKE_CONDITION,
                {
                    ":zero": 0,
                    ":b": expected.balance,
                    ":s": status,
                    ":now": iso(now),
                    ":next": expected.version + 1,
                    ":v": expected.version,
                    ":m": modified,
                },
            )
        ]
        if expected.balance > 0:
            items.append(self._ledger_put(expected.order_key, transaction_id, "revoke", -expected.balance, 0, now))
        try:
            self.client.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except ClientError as error:
            _raise_if_stale(_cancellation_reasons(error))
            raise

    def track_status(
        self, order_key: str, order_id: int, status: str, modified: str, close: bool, now: datetime
    ) -> bool:
        """Record an order's status unless a newer one is recorded; ``close`` bars any later grant."""
        expression = (
            "SET #order_key = :key, #order_id = :id, #status = :s, #modified = :m, "
            "#granted = if_not_exists(#granted, :zero), #consumed = if_not_exists(#consumed, :zero), "
            "#revoked = if_not_exists(#revoked, :zero), #balance = if_not_exists(#balance, :zero), "
            "#version = if_not_exists(#version, :zero)"
        )
        values: dict[str, Any] = {":key": order_key, ":id": order_id, ":s": status, ":m": modified, ":zero": 0}
        condition = TRACK_OPEN_CONDITION
        if close:
            expression += ", #closed_at = if_not_exists(#closed_at, :now)"
            values[":now"] = iso(now)
            condition = TRACK_CONDITION
        key = to_item({"pk": _pk(order_key), "sk": STATE})
        return conditional_update(self.client, self.table, key, expression, condition, values) is not None
