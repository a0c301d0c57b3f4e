"""The counts the admin health page shows, each one ``Select=COUNT`` query (paged: a count stops at 1 MB read).

- open payments by status: ``PaymentsTable`` ``gsi1`` ``OPEN#<status>`` (``store.payments``);
- drift records since a time: ``PaymentsTable`` ``gsi2`` ``DRIFT``, sort key ``<at>#<user>``;
- promo codes with a side behind: ``PromoTable`` ``SYNC``/``PENDING#<code>`` (``store.promo``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from woo_backend.dynamo import to_values
from woo_backend.store.payments_table import DRIFT

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def count(client: DynamoDBClient, **query: Any) -> int:
    total = 0
    args: dict[str, Any] = {**query, "Select": "COUNT"}
    while True:
        response = client.query(**args)
        total += int(response.get("Count", 0))
        if "LastEvaluatedKey" not in response:
            return total
        args["ExclusiveStartKey"] = response["LastEvaluatedKey"]


class HealthCounts:
    def __init__(self, payments_table: str, promo_table: str, client: DynamoDBClient) -> None:
        self.payments_table = payments_table
        self.promo_table = promo_table
        self.client = client

    def open_payments(self, status: str) -> int:
        return count(
            self.client,
            TableName=self.payments_table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues=to_values({":pk": f"OPEN#{status}"}),
        )

    def drift_since(self, since: str) -> int:
        return count(
            self.client,
            TableName=self.payments_table,
            IndexName="gsi2",
            KeyConditionExpression="gsi2pk = :pk AND gsi2sk > :since",
            ExpressionAttributeValues=to_values({":pk": DRIFT, ":since": since}),
        )

    def promo_pending(self) -> int:
        return count(
            self.client,
            TableName=self.promo_table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=to_values({":pk": "SYNC", ":prefix": "PENDING#"}),
            ConsistentRead=True,
        )
