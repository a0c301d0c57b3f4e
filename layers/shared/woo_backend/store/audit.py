"""The admin console's audit trail in ``AdminTable``: who did what to which record, when, before and after.

All entries share the partition ``AUDIT`` (sort key ``<at>#<id>``), listed newest first. Admin writes are a
person's clicks, a few a minute at most, far below one partition's 1,000 writes/s, so one partition gives a
single ordered list without an index.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from woo_backend.clock import iso
from woo_backend.dynamo import from_item, to_item, to_values
from woo_backend.store.paging import InvalidCursor, decode_cursor, encode_cursor

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

AUDIT = "AUDIT"


class AuditEntry(BaseModel):
    at: str
    who: str
    action: str
    target: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    note: str | None = None


class AuditTrail:
    def __init__(self, table: str, client: DynamoDBClient) -> None:
        self.table = table
        self.client = client

    def record(
        self,
        who: str,
        action: str,
        target: str,
        now: datetime,
        *,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        note: str | None = None,
    ) -> AuditEntry:
        """Append one entry. ``before``/``after`` are JSON-able snapshots (stored as JSON text: any shape)."""
        entry = AuditEntry(at=iso(now), who=who, action=action, target=target, before=before, after=after, note=note)
        item: dict[str, Any] = {
            "pk": AUDIT,
            "sk": f"{entry.at}#{secrets.token_hex(6)}",
            "entry": entry.model_dump_json(),
        }
        self.client.put_item(TableName=self.table, Item=to_item(item))
        return entry

    def list(self, limit: int, cursor: str | None) -> tuple[list[AuditEntry], str | None]:
        args: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": to_values({":pk": AUDIT}),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            sort_key = decode_cursor(cursor, ("sk",))["sk"]
            if "#" not in sort_key:
                raise InvalidCursor()
            args["ExclusiveStartKey"] = to_item({"pk": AUDIT, "sk": sort_key})
        response = self.client.query(**args)
        entries = [AuditEntry.model_validate(json.loads(str(from_item(i)["entry"]))) for i in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return entries, encode_cursor({"sk": str(from_item(last)["sk"])}) if last else None
