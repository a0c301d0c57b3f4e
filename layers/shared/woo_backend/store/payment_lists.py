"""The admin console's reads of ``PaymentsTable`` over ``gsi2`` (layout in ``store.payments_table``): payments by
status, newest first; how many were created per day; drift records, newest first.

Pages end at an opaque cursor (``store.paging``) naming the last item's keys; a cursor is taken only when it
names an item of the list asked for (a payment, or a drift record), so a forged one reads nothing else.
"""

from __future__ import annotations

from typing import Any

from woo_backend.domain.balance import DriftRecord, Payment, PaymentStatus
from woo_backend.dynamo import from_item, to_item, to_values
from woo_backend.store.paging import InvalidCursor, decode_cursor, encode_cursor
from woo_backend.store.payments import payment_from_item
from woo_backend.store.payments_table import DRIFT, PAYMENT, PaymentsTable, listed

CURSOR_FIELDS = ("pk", "sk", "gsi2sk")


def _drift(item: dict[str, Any]) -> DriftRecord:
    values = from_item(item)
    return DriftRecord(
        run_id=str(values.get("run_id") or str(values["sk"]).removeprefix("DRIFT#")),
        user_id=str(values.get("user_id") or str(values["pk"]).removeprefix("USER#")),
        expected=values.get("expected"),
        seen=values["actual"],
        difference=values["difference"],
        at=str(values["recorded_at"]),
    )


class PaymentLists(PaymentsTable):
    def _page(
        self, partition: str, limit: int, cursor: str | None, *, pk_prefix: str, sk_prefix: str
    ) -> tuple[list[dict[str, Any]], str | None]:
        args: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "gsi2",
            "KeyConditionExpression": "gsi2pk = :pk",
            "ExpressionAttributeValues": to_values({":pk": partition}),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            last = decode_cursor(cursor, CURSOR_FIELDS)
            if not (last["pk"].startswith(pk_prefix) and last["sk"].startswith(sk_prefix)):
                raise InvalidCursor()
            args["ExclusiveStartKey"] = to_item({**last, "gsi2pk": partition})
        response = self.client.query(**args)
        end = response.get("LastEvaluatedKey")
        next_cursor = encode_cursor({k: str(from_item(end)[k]) for k in CURSOR_FIELDS}) if end else None
        return list(response.get("Items", [])), next_cursor

    def payments(self, status: PaymentStatus, limit: int, cursor: str | None) -> tuple[list[Payment], str | None]:
        """One page of the payments in ``status``, newest first."""
        items, next_cursor = self._page(listed(status.value), limit, cursor, pk_prefix="PAYMENT#", sk_prefix=PAYMENT)
        return [payment_from_item(item) for item in items], next_cursor

    def created_since(self, status: PaymentStatus, since: str) -> list[str]:
        """The creation times of the payments in ``status`` created at or after ``since`` (an ISO prefix)."""
        times: list[str] = []
        args: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "gsi2",
            "KeyConditionExpression": "gsi2pk = :pk AND gsi2sk >= :since",
            "ExpressionAttributeValues": to_values({":pk": listed(status.value), ":since": since}),
            "ProjectionExpression": "gsi2sk",
        }
        while True:
            response = self.client.query(**args)
            times.extend(str(from_item(item)["gsi2sk"]) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return times
            args["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def drift(self, limit: int, cursor: str | None) -> tuple[list[DriftRecord], str | None]:
        """One page of the reconciliation's drift records, newest first."""
        items, next_cursor = self._page(DRIFT, limit, cursor, pk_prefix="USER#", sk_prefix="DRIFT#")
        return [_drift(item) for item in items], next_cursor
