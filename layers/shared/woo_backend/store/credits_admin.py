"""The admin console's reads of the credit ledger (``CreditsTable`` index ``gsi1``): accounts by order status,
newest first, and the ledger moves of one UTC day (see ``store.credits`` for what writes the index's keys).

The index is eventually consistent: a move or a status change shows up here a moment after it is written.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import TYPE_CHECKING, Any

from woo_backend.domain.credits import CreditAccount
from woo_backend.dynamo import from_item, to_item, to_values
from woo_backend.store.credits import account_from_item, accounts_pk
from woo_backend.store.credits_journal import STATE
from woo_backend.store.credits_moves import order_pk
from woo_backend.store.paging import InvalidCursor, decode_cursor, encode_cursor

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

INDEX = "gsi1"
# What an account row needs of the STATE item (not its journal maps).
ACCOUNT_FIELDS = (
    "pk",
    "sk",
    "gsi1pk",
    "gsi1sk",
    "order_key",
    "order_id",
    "status",
    "granted",
    "consumed",
    "revoked",
    "adjusted",
    "balance",
    "version",
    "granted_at",
    "closed_at",
)
DAY_READERS = 8  # one query per day; a month's chart reads them side by side


def _projection(fields: tuple[str, ...]) -> dict[str, Any]:
    return {
        "ProjectionExpression": ", ".join(f"#f{i}" for i in range(len(fields))),
        "ExpressionAttributeNames": {f"#f{i}": name for i, name in enumerate(fields)},
    }


class CreditsReports:
    def __init__(self, table: str, client: DynamoDBClient) -> None:
        self.table = table
        self.client = client

    def accounts(self, status: str, limit: int, cursor: str | None) -> tuple[list[CreditAccount], str | None]:
        """Accounts whose order has ``status``, most recently modified first; ``next_cursor`` or ``None``."""
        args: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": INDEX,
            "KeyConditionExpression": "gsi1pk = :pk",
            "ExpressionAttributeValues": to_values({":pk": accounts_pk(status)}),
            "ScanIndexForward": False,
            "Limit": limit,
            **_projection(ACCOUNT_FIELDS),
        }
        if cursor:
            args["ExclusiveStartKey"] = self._start(status, cursor)
        response = self.client.query(**args)
        accounts = [account_from_item(from_item(item)) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        if not last:
            return accounts, None
        values = from_item(last)
        return accounts, encode_cursor({"order": str(values["pk"]), "at": str(values["gsi1sk"])})

    @staticmethod
    def _start(status: str, cursor: str) -> dict[str, Any]:
        values = decode_cursor(cursor, ("order", "at"))
        if not values["order"].startswith(order_pk("")):  # only accounts are listed
            raise InvalidCursor()
        return to_item({"pk": values["order"], "sk": STATE, "gsi1pk": accounts_pk(status), "gsi1sk": values["at"]})

    def day_moves(self, day: date) -> list[tuple[str, int]]:
        """Every ledger move written on ``day`` (UTC): its type and signed amount."""
        args: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": INDEX,
            "KeyConditionExpression": "gsi1pk = :pk",
            "ExpressionAttributeValues": to_values({":pk": f"DAY#{day.isoformat()}"}),
            **_projection(("type", "amount")),
        }
        moves: list[tuple[str, int]] = []
        while True:
            response = self.client.query(**args)
            moves += [(str(v["type"]), int(v["amount"])) for v in map(from_item, response.get("Items", []))]
            if not response.get("LastEvaluatedKey"):
                return moves
            args["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def days_moves(self, days: list[date]) -> dict[date, list[tuple[str, int]]]:
        """``day_moves`` of each day, read side by side (a boto3 client is safe to share between threads)."""
        with ThreadPoolExecutor(max_workers=DAY_READERS) as pool:
            return dict(zip(days, pool.map(self.day_moves, days), strict=True))
