"""The account API's DynamoDB records: how many mails a customer sent in the current hour.

``MAIL#<uid>`` / ``<YYYYMMDDHH>``: a counter taken with one conditional ``UpdateItem`` (never above the
limit, whatever the number of concurrent sends), forgotten by TTL two hours after its hour began.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from woo_backend.domain.account.mail import mail_window
from woo_backend.dynamo import conditional_update, to_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class MailQuotaStore:
    def __init__(self, table: str, client: DynamoDBClient) -> None:
        self.table = table
        self.client = client

    def take(self, uid: int, window: datetime, limit: int) -> bool:
        """Count one mail against the hour of ``window``; False when the limit is reached."""
        hour, expires_at = mail_window(window)
        update = "ADD #sent :delta SET #expires_at = :expires"
        condition = "attribute_not_exists(#sent) OR #sent < :limit"
        return self._add(uid, hour, update, condition, {":delta": 1, ":limit": limit, ":expires": expires_at})

    def give_back(self, uid: int, window: datetime) -> None:
        hour, _ = mail_window(window)
        self._add(uid, hour, "ADD #sent :delta", "#sent > :zero", {":delta": -1, ":zero": 0})

    def _add(self, uid: int, hour: str, update: str, condition: str, values: dict[str, int]) -> bool:
        key = to_item({"pk": f"MAIL#{uid}", "sk": hour})
        return conditional_update(self.client, self.table, key, update, condition, values) is not None
