"""The user's holds in ``PaymentsTable`` (``USER#<id>``/``HOLDS``) and the reconciliation's drift records.

The holds item carries the sum of this service's open holds on the user's Topomer balance (``held``), one
reservation per order that holds money (``hold_order_<order id>``: the payment and its amount), a ``version``
bumped by every change, ``debits``: how many holds a debit at Topomer ended (``release_hold`` with
``debited_to``), the last token seen (the reconciliation reads the balance with it), the balance this
service expects Topomer to show, and the last activity, indexed under ``ACTIVITY``.

Why holds of one user never need a retry on the real engine: an authorization is ONE conditional
``UpdateItem`` on this item (``reserve``), ``held <= balance - amount`` and no reservation for the order yet.
DynamoDB applies the single-item writes of one item one after the other, each condition checked against the
item as the write before it left it, so racing authorizations are serialized by the partition: each fits or
is refused (402), none is told to retry. Transactions on one item conflict with each other and with single
writes (``TransactionConflict``), and moto never shows it; authorizations no longer use one. What still moves a
hold in a transaction (void, expiry, a capture's end, a drift) is rare per user; when it meets an authorization
the loser retries a few times (``PaymentsTable.transact``, ``reserve``), each try waiting for one write.

Why the balance an authorization checks against is never stale: the balance is read at Topomer, the holds here,
and a capture in between lowers both (Topomer's balance by its debit, ``held`` by the hold it ends). A balance
read before such a capture, checked against ``held`` after it, would see the captured money as still free.
So every write that ends a hold because Topomer debited it adds one to ``debits``, in the same write; the
authorization reads the holds item (consistently) before the balance it trusts, and its reservation requires
``debits`` unchanged. In the single conditional write, DynamoDB orders the reservation against every debit's
end: either that end came before the holds read, and so its debit before the balance read, or the condition
refuses the reservation (``DebitsMoved``) and the authorization reads both again. (A debit done at Topomer
whose end is not written yet is counted twice, in the lower balance and in ``held``: too strict, never short.)
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from botocore.exceptions import ClientError

from woo_backend.clock import iso
from woo_backend.domain.balance import DebitsMoved, HoldRefused, OrderReserved, Payment, UserHolds
from woo_backend.dynamo import from_item, names, to_item, to_values
from woo_backend.errors import Busy
from woo_backend.store.payments_table import (
    ACTIVITY,
    CONFLICT_ATTEMPTS,
    DRIFT,
    PaymentsTable,
    conflict_backoff,
    update_item,
    user_key,
)

# held + amount <= balance is ``held <= :limit`` (conditions cannot add); one reservation per order.
RESERVE_UPDATE = (
    "SET #held = if_not_exists(#held, :zero) + :amount, #reservation = :reservation, "
    "#version = if_not_exists(#version, :zero) + :one, #user_id = :uid, #token = :token, #last_activity = :now, "
    "#gsi1pk = :activity, #gsi1sk = :now, #expected_balance = if_not_exists(#expected_balance, :seen)"
)
RESERVE_CONDITION = "attribute_not_exists(#reservation) AND (attribute_not_exists(#held) OR #held <= :limit)"
# No debit ended a hold since the authorization read the holds item (absent: none ever did).
NO_DEBITS_YET = "(attribute_not_exists(#debits) OR #debits = :debits)"
DEBITS_UNCHANGED = "#debits = :debits"
RELEASE_UPDATE = "SET #held = #held - :amount, #version = #version + :one, #last_activity = :now, #gsi1sk = :now"
# Only the payment's own reservation is given back, and only once: it is removed by the same write.
RESERVED_BY = "#reservation.#payment_id = :pid"


def reservation(order_id: int) -> str:
    """The holds item's attribute recording the money held for one order (one payment per order)."""
    return f"hold_order_{order_id}"


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
        debits=int(values.get("debits", 0)),
    )


def _with_reservation(request: dict[str, Any], order_id: int) -> dict[str, Any]:
    request["ExpressionAttributeNames"]["#reservation"] = reservation(order_id)
    return request


def release_hold(
    table: str,
    payment: Payment,
    now: datetime,
    *,
    debited_to: Decimal | None = None,
    require: bool = False,
    end_debit: bool = False,
) -> dict[str, Any]:
    """The transaction item giving the payment's hold back. ``debited_to``: the hold was captured, so Topomer's
    balance is now expected to be that, and the user has no debit in flight. ``require``: only if the payment's
    reservation is there (a payment whose authorization stopped before reserving has nothing to give back).
    ``end_debit``: the user's debit in flight (this payment's, settled by a person) ends without a debit."""
    update = RELEASE_UPDATE
    values: dict[str, Any] = {":amount": payment.amount, ":one": 1, ":now": iso(now)}
    removed = []
    if debited_to is not None:
        update += ", #expected_balance = :after, #debits = if_not_exists(#debits, :zero) + :one"
        values.update({":after": debited_to, ":zero": 0})
    if debited_to is not None or end_debit:
        removed.append("#debit_in_flight")
    condition = None
    if payment.reserved:
        removed.append("#reservation")
        if require:
            condition = RESERVED_BY
            values[":pid"] = payment.payment_id
    if removed:
        update += " REMOVE " + ", ".join(removed)
    item = update_item(table, user_key(payment.user_id), update, values, condition)
    if payment.reserved:  # DynamoDB refuses a request naming an attribute its expressions do not use
        _with_reservation(item["Update"], payment.order_id)
    return item


class HoldsStore(PaymentsTable):
    def reserve(self, payment: Payment, limit: Decimal, balance_seen: Decimal, *, debits: int) -> Decimal:
        """Hold the payment's amount for its order in one conditional write; the user's held total after it.

        ``debits``: the holds item's count of debits, read before the balance ``limit`` comes from. Raises
        ``OrderReserved`` when another payment holds money for the order, ``DebitsMoved`` when a debit ended a
        hold since (the balance may predate it) and ``HoldRefused`` when the other holds total more than
        ``limit``. The payment's own reservation found there (a retry of a write whose answer was lost) counts
        as done.
        """
        values = {
            ":zero": 0,
            ":one": 1,
            ":amount": payment.amount,
            ":reservation": {"payment_id": payment.payment_id, "amount": payment.amount},
            ":uid": payment.user_id,
            ":token": payment.token,
            ":now": payment.created_at,
            ":activity": ACTIVITY,
            ":seen": balance_seen,
            ":limit": limit,
            ":debits": debits,
        }
        condition = f"{RESERVE_CONDITION} AND {DEBITS_UNCHANGED if debits else NO_DEBITS_YET}"
        request = self._request(payment, RESERVE_UPDATE, condition, values)
        request["ReturnValues"] = "UPDATED_NEW"
        request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        try:
            answer = self._write(request)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            old = cast("dict[str, Any]", error.response).get("Item")
            item = old if old is not None else self._holds_item(payment.user_id)
            held_by = from_item(item or {}).get(reservation(payment.order_id))
            if held_by is not None and held_by["payment_id"] == payment.payment_id:
                return Decimal(from_item(item or {})["held"])
            if held_by is not None:
                raise OrderReserved(str(held_by["payment_id"])) from None
            current = holds_from_item(item)
            if (current.debits if current else 0) != debits:
                raise DebitsMoved(current) from None
            raise HoldRefused(current) from None
        return Decimal(from_item(answer["Attributes"])["held"])

    def release_reservation(self, payment: Payment, now: datetime) -> bool:
        """Give back the payment's reservation (an authorization that lost its order to another payment);
        ``False`` when it is not there (never made, or given back already)."""
        values = {":amount": payment.amount, ":one": 1, ":now": iso(now), ":pid": payment.payment_id}
        request = self._request(payment, RELEASE_UPDATE + " REMOVE #reservation", RESERVED_BY, values)
        try:
            self._write(request)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _request(self, payment: Payment, update: str, condition: str, values: dict[str, Any]) -> dict[str, Any]:
        request = {
            "TableName": self.table,
            "Key": user_key(payment.user_id),
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names(update, condition),
            "ExpressionAttributeValues": to_values(values),
        }
        return _with_reservation(request, payment.order_id)

    def _write(self, request: dict[str, Any]) -> dict[str, Any]:
        """One ``UpdateItem`` on the holds item. ``TransactionConflictException``: a transaction on the item
        (a void, an expiry, a capture's end) was in flight; it lasts one write, so wait a little and try again."""
        for attempt in range(CONFLICT_ATTEMPTS):
            try:
                return dict(self.client.update_item(**request))
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionConflictException":
                    raise
                conflict_backoff(attempt)
        raise Busy("the balance is being changed by another request; retry shortly")

    def _holds_item(self, user_id: str) -> dict[str, Any] | None:
        return self.client.get_item(TableName=self.table, Key=user_key(user_id), ConsistentRead=True).get("Item")

    def get_holds(self, user_id: str) -> UserHolds | None:
        return holds_from_item(self._holds_item(user_id))

    def _holds_attribute(self, user_id: str, name: str) -> str | None:
        """One attribute of the user's holds item (a projected, consistent read), if it is there."""
        item = self.client.get_item(
            TableName=self.table,
            Key=user_key(user_id),
            ProjectionExpression="#name",
            ExpressionAttributeNames={"#name": name},
            ConsistentRead=True,
        ).get("Item")
        return str(from_item(item)[name]) if item and name in item else None

    def debit_in_flight(self, user_id: str) -> str | None:
        """The payment whose debit of this user is recorded as started and not finished, if any."""
        return self._holds_attribute(user_id, "debit_in_flight")

    def user_token(self, user_id: str) -> str | None:
        return self._holds_attribute(user_id, "token")

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
                                "user_id": user_id,
                                "run_id": run_id,
                                # The admin console's drift list, newest first (``store.payment_lists``).
                                "gsi2pk": DRIFT,
                                "gsi2sk": f"{iso(now)}#{user_id}",
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
