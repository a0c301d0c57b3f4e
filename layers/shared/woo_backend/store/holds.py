"""The user's holds in ``PaymentsTable`` (``USER#<id>``/``HOLDS``) and the reconciliation's drift records.

The holds item carries the sum of this service's open holds on the user's Topomer balance, a ``version``
bumped by every change of it, the last token seen (the reconciliation reads the balance with it), the
balance this service expects Topomer to show, and the last activity, indexed under ``ACTIVITY``. The
writes that move a hold go with a payment's, in one transaction (``store.payments``), through the item
builders here.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from woo_backend.clock import iso
from woo_backend.domain.balance import UserHolds
from woo_backend.dynamo import from_item, to_item, to_values
from woo_backend.store.payments_table import ACTIVITY, PaymentsTable, update_item, user_key

# Changing the held total always bumps the version, so an authorization computed on an older total fails.
HOLD_UPDATE = (
    "SET #user_id = :uid, #held = :held, #version = :next, #token = :token, #last_activity = :now, "
    "#gsi1pk = :activity, #gsi1sk = :now, #expected_balance = if_not_exists(#expected_balance, :seen)"
)
RELEASE_UPDATE = "SET #held = #held - :amount, #version = #version + :one, #last_activity = :now, #gsi1sk = :now"


def holds_from_item(item: dict[str, Any] | None) -> UserHolds | None:
    """The user's holds; ``None`` before the first authorization (a lease alone is not a hold)."""
    if not item or "version" not in item:
        return None
    values = from_item(item)
    return UserHolds(
        user_id=str(values["user_id"]),
        held=Decimal(values.get("held", 0)),
        version=int(values.get("version", 0)),
        expected_balance=values.get("expected_balance"),
    )


def raise_hold(
    table: str,
    user_id: str,
    holds: UserHolds | None,
    held_after: Decimal,
    token: str,
    now: str,
    balance_seen: Decimal,
) -> dict[str, Any]:
    """The transaction item raising the user's held total to ``held_after``, only from ``holds`` as read."""
    condition = "attribute_not_exists(#version)" if holds is None else "#version = :v"
    values: dict[str, Any] = {
        ":uid": user_id,
        ":held": held_after,
        ":next": (holds.version if holds else 0) + 1,
        ":token": token,
        ":now": now,
        ":activity": ACTIVITY,
        ":seen": balance_seen,
    }
    if holds is not None:
        values[":v"] = holds.version
    item = update_item(table, user_key(user_id), HOLD_UPDATE, values, condition)
    item["Update"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"  # a refusal shows the holds as they are
    return item


def release_hold(
    table: str, user_id: str, amount: Decimal, now: datetime, *, debited_to: Decimal | None = None
) -> dict[str, Any]:
    """The transaction item giving ``amount`` of the user's held total back. ``debited_to``: the hold was
    captured, so Topomer's balance is now expected to be that, and the user has no debit in flight."""
    update = RELEASE_UPDATE
    values: dict[str, Any] = {":amount": amount, ":one": 1, ":now": iso(now)}
    if debited_to is not None:
        update += ", #expected_balance = :after REMOVE #debit_in_flight"
        values[":after"] = debited_to
    return update_item(table, user_key(user_id), update, values)


class HoldsStore(PaymentsTable):
    def get_holds(self, user_id: str) -> UserHolds | None:
        return holds_from_item(
            self.client.get_item(TableName=self.table, Key=user_key(user_id), ConsistentRead=True).get("Item")
        )

    def user_token(self, user_id: str) -> str | None:
        item = self.client.get_item(
            TableName=self.table,
            Key=user_key(user_id),
            ProjectionExpression="#token",
            ExpressionAttributeNames={"#token": "token"},
            ConsistentRead=True,
        ).get("Item")
        return str(from_item(item)["token"]) if item and "token" in item else None

    # -------------------------------------------------------------- reconciliation
    def users_active_since(self, since: str) -> list[tuple[str, str]]:
        """(user id, last activity) of every user with activity after ``since`` (all users if empty)."""
        users: list[tuple[str, str]] = []
        values = {":pk": ACTIVITY, ":since": since} if since else {":pk": ACTIVITY}
        args: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :pk AND gsi1sk > :since" if since else "gsi1pk = :pk",
            "ExpressionAttributeValues": to_values(values),
        }
        while True:
            response = self.client.query(**args)
            for item in response.get("Items", []):
                values = from_item(item)
                users.append((str(values["user_id"]), str(values["gsi1sk"])))
            if "LastEvaluatedKey" not in response:
                return users
            args["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def record_drift(self, user_id: str, run_id: str, expected: Decimal | None, actual: Decimal, now: datetime) -> bool:
        """Record one drift per user and run, and take Topomer's balance as the new expectation."""
        update = "SET #expected_balance = :actual"
        return self.transact_if(
            [
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": to_item(
                            {
                                "pk": f"USER#{user_id}",
                                "sk": f"DRIFT#{run_id}",
                                "expected": expected,
                                "actual": actual,
                                "difference": actual - (expected or Decimal(0)),
                                "recorded_at": iso(now),
                            }
                        ),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                self.update_item(user_key(user_id), update, {":actual": actual}),
            ]
        )

    def drift_entries(self, user_id: str) -> list[dict[str, Any]]:
        response = self.client.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :drift)",
            ExpressionAttributeValues=to_values({":pk": f"USER#{user_id}", ":drift": "DRIFT#"}),
            ConsistentRead=True,
        )
        return [from_item(item) for item in response.get("Items", [])]
