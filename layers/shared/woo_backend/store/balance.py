"""Topomer payments in DynamoDB (``PaymentsTable``).

Items:
- ``PAYMENT#<id>``/``PAYMENT``: the payment, its status and its capture steps. While it is open
  (authorized, capture pending, needs attention) it sits in the sparse index ``gsi1`` under
  ``OPEN#<status>`` so the sync finds it without a scan.
- ``ORDER#<order_id>``/``PAYMENT``: the order's one payment (``attribute_not_exists`` makes it one).
- ``USER#<user_id>``/``HOLDS``: the sum of this service's open holds on the user's balance, a
  ``version`` bumped by every change of it, the balance this service expects Topomer to show, the
  capture lease, and the last activity (indexed under ``ACTIVITY`` for the reconciliation).
- ``USER#<user_id>``/``DRIFT#<run>``: a reconciliation that found Topomer's balance off.
- ``SYNC``/``<name>``: the sync cursors.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from woo_backend.aws import dynamodb_client
from woo_backend.domain.balance import Payment, PaymentStatus, Step, StepName, UserHolds
from woo_backend.dynamo import (
    conditional_update,
    from_item,
    names,
    to_item,
    to_values,
)
from woo_backend.store.cursors import SyncCursors

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PAYMENT = "PAYMENT"
HOLDS = "HOLDS"
ACTIVITY = "ACTIVITY"
OPEN_STATUSES = (PaymentStatus.AUTHORIZED, PaymentStatus.CAPTURE_PENDING, PaymentStatus.NEEDS_ATTENTION)

# Changing the held total always bumps the version, so an authorization computed on an older total fails.
HOLD_UPDATE = (
    "SET #user_id = :uid, #held = :held, #version = :next, #token = :token, #last_activity = :now, "
    "#gsi1pk = :activity, #gsi1sk = :now, #expected_balance = if_not_exists(#expected_balance, :seen)"
)
RELEASE_UPDATE = "SET #held = #held - :amount, #version = #version + :one, #last_activity = :now, #gsi1sk = :now"
# A capture's writes apply only while it is under way: a payment voided or expired meanwhile is left alone.
CAPTURING = "#status IN (:pending, :attention)"
CAPTURING_VALUES = {":pending": PaymentStatus.CAPTURE_PENDING.value, ":attention": PaymentStatus.NEEDS_ATTENTION.value}
LEASE_CONDITION = "attribute_not_exists(#lease_until) OR #lease_until < :now OR #lease_owner = :owner"


class OrderHasPaymentRecord(Exception):
    """The order already has a payment: its id."""

    def __init__(self, payment_id: str) -> None:
        super().__init__("order already has a payment")
        self.payment_id = payment_id


class StaleHolds(Exception):
    """The user's holds moved since they were read; ``current`` is what they are now."""

    def __init__(self, current: UserHolds | None) -> None:
        super().__init__("holds moved")
        self.current = current


class DebitInFlight(Exception):
    """Another payment's debit of this user is recorded as started and not finished."""

    def __init__(self, payment_id: str) -> None:
        super().__init__("another debit is in flight")
        self.payment_id = payment_id


class StatusChanged(Exception):
    """The payment was not in the status the write expected."""


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def _payment_key(payment_id: str) -> dict[str, Any]:
    return to_item({"pk": f"PAYMENT#{payment_id}", "sk": PAYMENT})


def _user_key(user_id: str) -> dict[str, Any]:
    return to_item({"pk": f"USER#{user_id}", "sk": HOLDS})


KEY_ATTRIBUTES = frozenset({"pk", "sk", "gsi1pk", "gsi1sk"})


def _payment(item: dict[str, Any]) -> Payment:
    return Payment.model_validate({k: v for k, v in from_item(item).items() if k not in KEY_ATTRIBUTES})


def _payment_values(payment: Payment) -> dict[str, Any]:
    """The payment as item attributes: amounts stay numbers (exact), enums become their values."""
    values = payment.model_dump(mode="python", exclude_none=True, exclude={"steps", "status"})
    values["status"] = payment.status.value
    values["steps"] = {
        name.value: step.model_dump(mode="json", exclude_none=True) for name, step in payment.steps.items()
    }
    return values


def _holds(item: dict[str, Any] | None) -> UserHolds | None:
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


def _reasons(error: ClientError) -> list[dict[str, Any]]:
    if error.response["Error"]["Code"] != "TransactionCanceledException":
        raise error
    return list(error.response.get("CancellationReasons", []))  # type: ignore[arg-type]


def _refused(reason: dict[str, Any]) -> bool:
    return reason.get("Code") == "ConditionalCheckFailed"


class PaymentsStore:
    def __init__(self, table: str, client: DynamoDBClient | None = None) -> None:
        self.table = table
        self.client = client or dynamodb_client()
        self.cursors = SyncCursors(table, self.client)

    def _update(
        self, key: dict[str, Any], update: str, values: dict[str, Any], condition: str | None = None
    ) -> dict[str, Any]:
        """One ``Update`` of a transaction, every attribute as ``#name``."""
        item: dict[str, Any] = {
            "TableName": self.table,
            "Key": key,
            "UpdateExpression": update,
            "ExpressionAttributeNames": names(update, condition or ""),
            "ExpressionAttributeValues": to_values(values),
        }
        if condition:
            item["ConditionExpression"] = condition
        return {"Update": item}

    def _transact(self, items: list[dict[str, Any]]) -> None:
        self.client.transact_write_items(TransactItems=items)  # type: ignore[arg-type]

    def _transact_if(self, items: list[dict[str, Any]]) -> bool:
        """One transaction; False when any of its conditions refused it (nothing was written)."""
        try:
            self._transact(items)
        except ClientError as error:
            if any(_refused(r) for r in _reasons(error)):
                return False
            raise
        return True

    def _update_payment(self, payment_id: str, update: str, condition: str, values: dict[str, Any]) -> Payment:
        """A conditional update of one payment; the payment as written, or ``StatusChanged``."""
        written = conditional_update(
            self.client, self.table, _payment_key(payment_id), update, condition, values, return_new=True
        )
        if written is None:
            raise StatusChanged(payment_id)
        return _payment(written)

    # -------------------------------------------------------------- reads
    def get_payment(self, payment_id: str) -> Payment | None:
        item = self.client.get_item(TableName=self.table, Key=_payment_key(payment_id), ConsistentRead=True).get("Item")
        return _payment(item) if item else None

    def payment_id_for_order(self, order_id: int) -> str | None:
        item = self.client.get_item(
            TableName=self.table, Key=to_item({"pk": f"ORDER#{order_id}", "sk": PAYMENT}), ConsistentRead=True
        ).get("Item")
        return str(from_item(item)["payment_id"]) if item else None

    def get_holds(self, user_id: str) -> UserHolds | None:
        return _holds(
            self.client.get_item(TableName=self.table, Key=_user_key(user_id), ConsistentRead=True).get("Item")
        )

    def user_token(self, user_id: str) -> str | None:
        item = self.client.get_item(
            TableName=self.table,
            Key=_user_key(user_id),
            ProjectionExpression="#token",
            ExpressionAttributeNames={"#token": "token"},
            ConsistentRead=True,
        ).get("Item")
        return str(from_item(item)["token"]) if item and "token" in item else None

    def open_payments(self, status: PaymentStatus) -> list[Payment]:
        """Payments in an open status, oldest first (the index is sparse: closed payments leave it)."""
        payments: list[Payment] = []
        args: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :pk",
            "ExpressionAttributeValues": to_values({":pk": f"OPEN#{status.value}"}),
        }
        while True:
            response = self.client.query(**args)
            payments.extend(_payment(item) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return payments
            args["ExclusiveStartKey"] = response["LastEvaluatedKey"]

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

    def drift_entries(self, user_id: str) -> list[dict[str, Any]]:
        response = self.client.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :drift)",
            ExpressionAttributeValues=to_values({":pk": f"USER#{user_id}", ":drift": "DRIFT#"}),
            ConsistentRead=True,
        )
        return [from_item(item) for item in response.get("Items", [])]

    # -------------------------------------------------------------- authorize
    def authorize(self, payment: Payment, holds: UserHolds | None, held_after: Decimal, balance_seen: Decimal) -> None:
        """Record the payment, link it to its order and raise the user's held total, all or nothing.

        Raises ``OrderHasPaymentRecord`` when the order already has a payment and ``StaleHolds`` when
        the held total moved since ``holds`` was read.
        """
        payment_item = {
            "pk": f"PAYMENT#{payment.payment_id}",
            "sk": PAYMENT,
            "gsi1pk": f"OPEN#{payment.status.value}",
            "gsi1sk": payment.created_at,
            **_payment_values(payment),
        }
        hold_condition = "attribute_not_exists(#version)" if holds is None else "#version = :v"
        values: dict[str, Any] = {
            ":uid": payment.user_id,
            ":held": held_after,
            ":next": (holds.version if holds else 0) + 1,
            ":token": payment.token,
            ":now": payment.created_at,
            ":activity": ACTIVITY,
            ":seen": balance_seen,
        }
        if holds is not None:
            values[":v"] = holds.version
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": to_item(
                        {
                            "pk": f"ORDER#{payment.order_id}",
                            "sk": PAYMENT,
                            "payment_id": payment.payment_id,
                            "created_at": payment.created_at,
                        }
                    ),
                    "ConditionExpression": "attribute_not_exists(pk)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            {
                "Put": {
                    "TableName": self.table,
                    "Item": to_item(payment_item),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Update": {
                    "TableName": self.table,
                    "Key": _user_key(payment.user_id),
                    "UpdateExpression": HOLD_UPDATE,
                    "ConditionExpression": hold_condition,
                    "ExpressionAttributeNames": names(HOLD_UPDATE, hold_condition),
                    "ExpressionAttributeValues": to_values(values),
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
        ]
        try:
            self._transact(items)
        except ClientError as error:
            reasons = _reasons(error)
            if reasons and _refused(reasons[0]):
                item = reasons[0].get("Item")
                linked = from_item(item)["payment_id"] if item else self.payment_id_for_order(payment.order_id)
                raise OrderHasPaymentRecord(str(linked)) from None
            if len(reasons) > 2 and _refused(reasons[2]):
                raise StaleHolds(_holds(reasons[2].get("Item"))) from None
            raise

    # -------------------------------------------------------------- status and steps
    def set_status(
        self,
        payment_id: str,
        status: PaymentStatus,
        allowed_from: tuple[PaymentStatus, ...],
        now: datetime,
        *,
        token_hash: str | None = None,
    ) -> Payment:
        """Move a payment to ``status`` if it is in one of ``allowed_from`` (and, given ``token_hash``,
        was authorized with that token); the payment as it is then. ``StatusChanged`` otherwise."""
        update = "SET #status = :status, #updated_at = :now"
        values: dict[str, Any] = {":status": status.value, ":now": _iso(now)}
        if status in OPEN_STATUSES:
            update += ", #gsi1pk = :open"
            values[":open"] = f"OPEN#{status.value}"
        else:
            update += " REMOVE #gsi1pk, #gsi1sk"
        allowed = [f":from{i}" for i in range(len(allowed_from))]
        values.update({name: s.value for name, s in zip(allowed, allowed_from, strict=True)})
        condition = f"#status IN ({', '.join(allowed)})"
        if token_hash is not None:
            condition += " AND #token_hash = :token_hash"
            values[":token_hash"] = token_hash
        return self._update_payment(payment_id, update, condition, values)

    def record_step(
        self,
        payment_id: str,
        name: StepName,
        step: Step,
        *,
        status: PaymentStatus | None = None,
    ) -> Payment:
        """Write one step's record (and optionally the payment's status).

        Only while a capture is under way: a payment voided or expired meanwhile is left alone.
        """
        update = f"SET #steps.#{name.value} = :step"
        values: dict[str, Any] = {":step": step.model_dump(mode="json", exclude_none=True), **CAPTURING_VALUES}
        if status is not None:
            update += ", #status = :status, #gsi1pk = :open"
            values.update({":status": status.value, ":open": f"OPEN#{status.value}"})
        return self._update_payment(payment_id, update, CAPTURING, values)

    def stop_capture(self, payment_id: str, reason: str, hold_step: Step | None, now: datetime) -> Payment:
        """The order does not match: ``needs_attention`` with the ``reason`` (and the ``hold_order`` step to run).

        Only a capture under way whose debit was never started: once the debit is recorded as started its
        outcome must be settled, not abandoned. ``StatusChanged`` otherwise.
        """
        update = "SET #status = :attention, #gsi1pk = :open, #reason = :reason, #updated_at = :now"
        values: dict[str, Any] = {
            ":attention": PaymentStatus.NEEDS_ATTENTION.value,
            ":open": f"OPEN#{PaymentStatus.NEEDS_ATTENTION.value}",
            ":reason": reason,
            ":now": _iso(now),
            ":pending": PaymentStatus.CAPTURE_PENDING.value,
        }
        if hold_step is not None:
            update += f", #steps.#{StepName.HOLD_ORDER.value} = :hold"
            values[":hold"] = hold_step.model_dump(mode="json", exclude_none=True)
        condition = "#status = :pending AND attribute_not_exists(#balance_before)"
        return self._update_payment(payment_id, update, condition, values)

    def start_debit(self, payment: Payment, step: Step, before: Decimal, after: Decimal) -> Payment:
        """Record the debit as started, with its arithmetic, and mark it as the user's debit in flight.

        One debit per user is in flight at a time: Topomer takes absolute balances, so a second debit
        computed while the first one's outcome is unknown could undo it. Raises ``DebitInFlight``.
        """
        step_update = (
            f"SET #steps.#{StepName.DEBIT.value} = :step, #balance_before = if_not_exists(#balance_before, :before),"
            " #balance_after = if_not_exists(#balance_after, :after)"
        )
        user_update = "SET #debit_in_flight = :pid"
        user_condition = "attribute_not_exists(#debit_in_flight) OR #debit_in_flight = :pid"
        in_flight = self._update(_user_key(payment.user_id), user_update, {":pid": payment.payment_id}, user_condition)
        in_flight["Update"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        step_values = {
            ":step": step.model_dump(mode="json", exclude_none=True),
            ":before": before,
            ":after": after,
            **CAPTURING_VALUES,
        }
        try:
            self._transact(
                [
                    self._update(_payment_key(payment.payment_id), step_update, step_values, CAPTURING),
                    in_flight,
                ]
            )
        except ClientError as error:
            reasons = _reasons(error)
            if len(reasons) > 1 and _refused(reasons[1]):
                item = reasons[1].get("Item")
                raise DebitInFlight(str(from_item(item).get("debit_in_flight", "")) if item else "") from None
            if reasons and _refused(reasons[0]):
                raise StatusChanged(payment.payment_id) from None
            raise
        # What was written, without reading it back (the payment was read under the user's lease).
        return payment.model_copy(
            update={
                "steps": {**payment.steps, StepName.DEBIT: step},
                "balance_before": payment.balance_before if payment.balance_before is not None else before,
                "balance_after": payment.balance_after if payment.balance_after is not None else after,
            }
        )

    def finish_debit(self, payment: Payment, step: Step, balance_after: Decimal, now: datetime) -> Payment:
        """The debit is done: record it and release the hold in one transaction (the money moved once)."""
        step_update = f"SET #steps.#{StepName.DEBIT.value} = :step"
        step_condition = f"{CAPTURING} AND #steps.#debit.#status <> :done"
        release_update = RELEASE_UPDATE + ", #expected_balance = :after REMOVE #debit_in_flight"
        step_values = {":step": step.model_dump(mode="json", exclude_none=True), ":done": "done", **CAPTURING_VALUES}
        release_values = {":amount": payment.amount, ":one": 1, ":now": _iso(now), ":after": balance_after}
        done = self._transact_if(
            [
                self._update(_payment_key(payment.payment_id), step_update, step_values, step_condition),
                self._update(_user_key(payment.user_id), release_update, release_values),
            ]
        )
        if not done:
            raise StatusChanged(payment.payment_id)
        return payment.model_copy(update={"steps": {**payment.steps, StepName.DEBIT: step}})

    def finish_capture(self, payment_id: str, now: datetime) -> Payment:
        update = "SET #status = :captured, #captured_at = :now, #updated_at = :now REMOVE #gsi1pk, #gsi1sk"
        condition = "#status IN (:pending, :attention)"
        return self._update_payment(
            payment_id,
            update,
            condition,
            {
                ":captured": PaymentStatus.CAPTURED.value,
                ":now": _iso(now),
                ":pending": PaymentStatus.CAPTURE_PENDING.value,
                ":attention": PaymentStatus.NEEDS_ATTENTION.value,
            },
        )

    def release(
        self, payment: Payment, status: PaymentStatus, now: datetime, *, only_before: str | None = None
    ) -> bool:
        """Void or expire an authorized payment and give its hold back, together; ``False`` if it moved.

        ``only_before``: expire only if the hold's expiry is before this time (the sync's condition).
        """
        update = "SET #status = :status, #closed_at = :now, #updated_at = :now REMOVE #gsi1pk, #gsi1sk"
        condition = "#status = :authorized"
        values: dict[str, Any] = {
            ":status": status.value,
            ":now": _iso(now),
            ":authorized": PaymentStatus.AUTHORIZED.value,
        }
        if only_before is not None:
            condition += " AND #hold_expires_at < :cutoff"
            values[":cutoff"] = only_before
        release_values = {":amount": payment.amount, ":one": 1, ":now": _iso(now)}
        return self._transact_if(
            [
                self._update(_payment_key(payment.payment_id), update, values, condition),
                self._update(_user_key(payment.user_id), RELEASE_UPDATE, release_values),
            ]
        )

    # -------------------------------------------------------------- the per-user capture lease
    def acquire_lease(self, user_id: str, owner: str, now: datetime, ttl: timedelta) -> bool:
        """Take the user's capture lease (free, expired, or already ours); ``False`` if another holds it."""
        update = "SET #lease_owner = :owner, #lease_until = :until, #user_id = if_not_exists(#user_id, :uid)"
        values = {":owner": owner, ":until": _iso(now + ttl), ":now": _iso(now), ":uid": user_id}
        taken = conditional_update(self.client, self.table, _user_key(user_id), update, LEASE_CONDITION, values)
        return taken is not None

    def release_lease(self, user_id: str, owner: str) -> None:
        # Refused when it is not ours any more (it expired and was taken): nothing to do then.
        conditional_update(
            self.client,
            self.table,
            _user_key(user_id),
            "REMOVE #lease_owner, #lease_until",
            "#lease_owner = :owner",
            {":owner": owner},
        )

    # -------------------------------------------------------------- reconciliation
    def record_drift(self, user_id: str, run_id: str, expected: Decimal | None, actual: Decimal, now: datetime) -> bool:
        """Record one drift per user and run, and take Topomer's balance as the new expectation."""
        update = "SET #expected_balance = :actual"
        return self._transact_if(
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
                                "recorded_at": _iso(now),
                            }
                        ),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                self._update(_user_key(user_id), update, {":actual": actual}),
            ]
        )
