"""The layout of ``PaymentsTable`` and what its stores share: item keys and transactions.

Items:
- ``PAYMENT#<id>``/``PAYMENT``: the payment, its status and its capture steps. While it is open
  (authorized, capture pending, needs attention) it sits in the sparse index ``gsi1`` under
  ``OPEN#<status>`` so the sync finds it without a scan (``store.payments``). Every payment is also in
  ``gsi2`` under ``PAYMENTS#<status>``, sorted by ``created_at``: the admin console's lists and daily counts
  (``store.payment_lists``). Each write that changes a status moves it there; payments written before gsi2
  existed have no gsi2 keys and show up once their status next changes (no migration: the open ones change
  soon, and old closed ones are history the console need not list).
- ``ORDER#<order_id>``/``PAYMENT``: the order's one payment (``attribute_not_exists`` makes it one).
- ``USER#<user_id>``/``HOLDS``: the sum of this service's open holds on the user's balance, a
  ``version`` bumped by every change of it, the balance this service expects Topomer to show, and the
  last activity, indexed under ``ACTIVITY`` for the reconciliation (``store.holds``); the capture lease
  (``store.leases``) and the debit in flight live on it too.
- ``USER#<user_id>``/``DRIFT#<run>``: a reconciliation that found Topomer's balance off (``store.holds``), in
  ``gsi2`` under ``DRIFT`` sorted by ``<at>#<user_id>`` (the console's drift list).
- ``SYNC``/``<name>``: the sync cursors (``store.cursors``).

An authorization reserves its hold with one conditional ``UpdateItem`` on the user's item (``store.holds``
says why that never needs a retry); a void, an expiry or a capture's end moves the payment and gives its hold
back in one transaction over its payment item and its user's item.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from woo_backend.backoff import sleep_backoff
from woo_backend.dynamo import names, to_item, to_values
from woo_backend.errors import Busy

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PAYMENT = "PAYMENT"
HOLDS = "HOLDS"
ACTIVITY = "ACTIVITY"
# Tries of a write that met a transaction on the same item (TransactionConflict): each waits for one write.
CONFLICT_ATTEMPTS = 8
# gsi2: every payment under its status, every drift record under DRIFT (the admin console's lists).
DRIFT = "DRIFT"
# Sets a payment's gsi2 keys to its status (``:listed``, from ``listed``) and its creation time.
LISTED = "#gsi2pk = :listed, #gsi2sk = #created_at"


def listed(status: str) -> str:
    """A payment's gsi2 partition: its status (``PaymentStatus`` value)."""
    return f"PAYMENTS#{status}"


def conflict_backoff(attempt: int) -> None:
    sleep_backoff(attempt, base=0.005, cap=0.1)


def payment_key(payment_id: str) -> dict[str, Any]:
    return to_item({"pk": f"PAYMENT#{payment_id}", "sk": PAYMENT})


def order_key(order_id: int) -> dict[str, Any]:
    return to_item({"pk": f"ORDER#{order_id}", "sk": PAYMENT})


def user_key(user_id: str) -> dict[str, Any]:
    return to_item({"pk": f"USER#{user_id}", "sk": HOLDS})


def cancellation_reasons(error: ClientError) -> list[dict[str, Any]]:
    """Why a transaction was cancelled, one entry per item in order; any other error is raised again."""
    if error.response["Error"]["Code"] != "TransactionCanceledException":
        raise error
    return list(error.response.get("CancellationReasons", []))  # type: ignore[arg-type]


def refused(reason: dict[str, Any]) -> bool:
    return reason.get("Code") == "ConditionalCheckFailed"


def conflicted(error: ClientError) -> bool:
    """Cancelled only because another write on one of its items was under way: nothing refused it."""
    if error.response["Error"]["Code"] != "TransactionCanceledException":
        return False
    codes = {r.get("Code") for r in error.response.get("CancellationReasons", [])}
    return "TransactionConflict" in codes and "ConditionalCheckFailed" not in codes


def update_item(
    table: str, key: dict[str, Any], update: str, values: dict[str, Any], condition: str | None = None
) -> dict[str, Any]:
    """One ``Update`` of a transaction, every attribute as ``#name``."""
    item: dict[str, Any] = {
        "TableName": table,
        "Key": key,
        "UpdateExpression": update,
        "ExpressionAttributeNames": names(update, condition or ""),
        "ExpressionAttributeValues": to_values(values),
    }
    if condition:
        item["ConditionExpression"] = condition
    return {"Update": item}


class PaymentsTable:
    """A store over ``PaymentsTable``: its name, the container's client and the transaction helpers."""

    def __init__(self, table: str, client: DynamoDBClient) -> None:
        self.table = table
        self.client = client

    def update_item(
        self, key: dict[str, Any], update: str, values: dict[str, Any], condition: str | None = None
    ) -> dict[str, Any]:
        return update_item(self.table, key, update, values, condition)

    def transact(self, items: list[dict[str, Any]]) -> None:
        """One transaction, tried again while it only conflicted with another write on one of its items (on
        the real engine a user's item also takes authorizations' single updates; moto never conflicts). The
        SDK does not retry ``TransactionConflict``; a transaction that was cancelled wrote nothing."""
        for attempt in range(CONFLICT_ATTEMPTS):
            try:
                self.client.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
                return
            except ClientError as error:
                if not conflicted(error):
                    raise
                conflict_backoff(attempt)
        raise Busy("the record is being changed by another request; retry shortly")

    def transact_if(self, items: list[dict[str, Any]]) -> bool:
        """One transaction; False when any of its conditions refused it (nothing was written)."""
        try:
            self.transact(items)
        except ClientError as error:
            if any(refused(r) for r in cancellation_reasons(error)):
                return False
            raise
        return True
