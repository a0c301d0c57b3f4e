"""Forward-only cursors of the scheduled syncs, one item each under ``SYNC``/``<name>`` in a table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from woo_backend.dynamo import conditional_update, from_item, to_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class SyncCursors:
    def __init__(self, table: str, client: DynamoDBClient) -> None:
        self.table = table
        self.client = client

    def get(self, name: str) -> str | None:
        item = self.client.get_item(
            TableName=self.table, Key=to_item({"pk": "SYNC", "sk": name}), ConsistentRead=True
        ).get("Item")
        return str(from_item(item)["position"]) if item else None

    def advance(self, name: str, position: str) -> None:
        """Move the cursor forward only: two runs at once cannot move it back."""
        conditional_update(
            self.client,
            self.table,
            to_item({"pk": "SYNC", "sk": name}),
            "SET #position = :p",
            "attribute_not_exists(#position) OR #position < :p",
            {":p": position},
        )
