"""Topomer payments in ``PaymentsTable`` (``PAYMENT#<id>`` and ``ORDER#<order_id>``; layout in
``store.payments_table``): the payment, its status and capture steps, its order's link, and the writes that
give its hold back with it, in one transaction (the hold itself is reserved by ``store.holds``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from botocore.exceptions import ClientError

from woo_backend.clock import iso
from woo_backend.domain.balance import (
    DebitInFlight,
    OrderHasPaymentRecord,
    Payment,
    PaymentStatus,
    Resolution,
    StatusChanged,
    Step,
    StepName,
)
from woo_backend.dynamo import conditional_update, conditional_write, from_item, to_item, to_values
from woo_backend.store.holds import release_hold
from woo_backend.store.payments_table import (
    LISTED,
    PAYMENT,
    PaymentsTable,
    cancellation_reasons,
    listed,
    order_key,
    payment_key,
    refused,
    user_key,
)

OPEN_STATUSES = (PaymentStatus.AUTHORIZED, PaymentStatus.CAPTURE_PENDING, PaymentStatus.NEEDS_ATTENTION)
# A capture's writes apply only while it is under way: a payment voided or expired meanwhile is left alone.
CAPTURING = "#status IN (:pending, :attention)"
CAPTURING_VALUES = {":pending": PaymentStatus.CAPTURE_PENDING.value, ":attention": PaymentStatus.NEEDS_ATTENTION.value}
KEY_ATTRIBUTES = frozenset({"pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"})


def payment_from_item(item: dict[str, Any]) -> Payment:
    return Payment.model_validate({k: v for k, v in from_item(item).items() if k not in KEY_ATTRIBUTES})


def _payment_values(payment: Payment) -> dict[str, Any]:
    """The payment as item attributes: amounts stay numbers (exact), enums become their values."""
    values = payment.model_dump(mode="python", exclude_none=True, exclude={"steps", "status"})
    values["status"] = payment.status.value
    values["steps"] = {name.value: _step(step) for name, step in payment.steps.items()}
    return values


def _step(step: Step) -> dict[str, Any]:
    return step.model_dump(mode="json", exclude_none=True)


class PaymentsStore(PaymentsTable):
    def _update_payment(self, payment_id: str, update: str, condition: str, values: dict[str, Any]) -> Payment:
        """A conditional update of one payment; the payment as written, or ``StatusChanged``."""
        written = conditional_update(
            self.client, self.table, payment_key(payment_id), update, condition, values, return_new=True
        )
        if written is None:
            raise StatusChanged(payment_id)
        return payment_from_item(written)

    # -------------------------------------------------------------- reads
    def get_payment(self, payment_id: str) -> Payment | None:
        item = self.client.get_item(TableName=self.table, Key=payment_key(payment_id), ConsistentRead=True).get("Item")
        return payment_from_item(item) if item else None

    def payment_id_for_order(self, order_id: int) -> str | None:
        item = self.client.get_item(TableName=self.table, Key=order_key(order_id), ConsistentRead=True).get("Item")
        return str(from_item(item)["payment_id"]) if item else None

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
            payments.extend(payment_from_item(item) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return payments
            args["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    # -------------------------------------------------------------- authorize
    def record_payment(self, payment: Payment) -> None:
        """Write the new payment, before its hold is reserved: an authorization that stops after reserving
        leaves an open payment the sync's expiry finds and releases (``release``)."""
        item = {
            "pk": f"PAYMENT#{payment.payment_id}",
            "sk": PAYMENT,
            "gsi1pk": f"OPEN#{payment.status.value}",
            "gsi1sk": payment.created_at,
            "gsi2pk": listed(payment.status.value),
            "gsi2sk": payment.created_at,
            **_payment_values(payment),
        }
        self.client.put_item(TableName=self.table, Item=to_item(item), ConditionExpression="attribute_not_exists(pk)")

    def link_order(self, payment: Payment) -> None:
        """Make the payment its order's one payment; ``OrderHasPaymentRecord`` when the order has another."""
        link = {"pk": f"ORDER#{payment.order_id}", "sk": PAYMENT, "payment_id": payment.payment_id}
        try:
            self.client.put_item(
                TableName=self.table,
                Item=to_item({**link, "created_at": payment.created_at}),
                ConditionExpression="attribute_not_exists(pk) OR payment_id = :pid",
                ExpressionAttributeValues=to_values({":pid": payment.payment_id}),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            item = cast("dict[str, Any]", error.response).get("Item")
            linked = from_item(item)["payment_id"] if item else self.payment_id_for_order(payment.order_id)
            raise OrderHasPaymentRecord(str(linked)) from None

    def discard(self, payment_id: str) -> None:
        """Delete a payment whose authorization was refused (it holds nothing and no order points at it)."""
        conditional_write(
            self.client.delete_item,
            TableName=self.table,
            Key=payment_key(payment_id),
            ConditionExpression="#status = :authorized",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=to_values({":authorized": PaymentStatus.AUTHORIZED.value}),
        )

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
        update = f"SET #status = :status, #updated_at = :now, {LISTED}"
        values: dict[str, Any] = {":status": status.value, ":now": iso(now), ":listed": listed(status.value)}
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
        values: dict[str, Any] = {":step": _step(step), **CAPTURING_VALUES}
        if status is not None:
            update += f", #status = :status, #gsi1pk = :open, {LISTED}"
            values.update({":status": status.value, ":open": f"OPEN#{status.value}", ":listed": listed(status.value)})
        return self._update_payment(payment_id, update, CAPTURING, values)

    def stop_capture(self, payment_id: str, reason: str, hold_step: Step | None, now: datetime) -> Payment:
        """The order does not match: ``needs_attention`` with the ``reason`` (and the ``hold_order`` step to run).

        Only a capture under way whose debit was never started: once the debit is recorded as started its
        outcome must be settled, not abandoned. ``StatusChanged`` otherwise.
        """
        update = f"SET #status = :attention, #gsi1pk = :open, #reason = :reason, #updated_at = :now, {LISTED}"
        values: dict[str, Any] = {
            ":attention": PaymentStatus.NEEDS_ATTENTION.value,
            ":open": f"OPEN#{PaymentStatus.NEEDS_ATTENTION.value}",
            ":listed": listed(PaymentStatus.NEEDS_ATTENTION.value),
            ":reason": reason,
            ":now": iso(now),
            ":pending": PaymentStatus.CAPTURE_PENDING.value,
        }
        if hold_step is not None:
            update += f", #steps.#{StepName.HOLD_ORDER.value} = :hold"
            values[":hold"] = _step(hold_step)
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
        in_flight = self.update_item(
            user_key(payment.user_id), user_update, {":pid": payment.payment_id}, user_condition
        )
        in_flight["Update"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        step_values = {":step": _step(step), ":before": before, ":after": after, **CAPTURING_VALUES}
        try:
            self.transact(
                [self.update_item(payment_key(payment.payment_id), step_update, step_values, CAPTURING), in_flight]
            )
        except ClientError as error:
            reasons = cancellation_reasons(error)
            if len(reasons) > 1 and refused(reasons[1]):
                item = reasons[1].get("Item")
                raise DebitInFlight(str(from_item(item).get("debit_in_flight", "")) if item else "") from None
            if reasons and refused(reasons[0]):
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
        step_values = {":step": _step(step), ":done": "done", **CAPTURING_VALUES}
        done = self.transact_if(
            [
                self.update_item(payment_key(payment.payment_id), step_update, step_values, step_condition),
                # The status condition above makes this once; the reservation is there (capture follows authorize).
                # ``debited_to`` also counts the debit on the holds item: an authorization that read the balance
                # before this debit must not reserve against the hold it ends (``store.holds``).
                release_hold(self.table, payment, now, debited_to=balance_after),
            ]
        )
        if not done:
            raise StatusChanged(payment.payment_id)
        return payment.model_copy(update={"steps": {**payment.steps, StepName.DEBIT: step}})

    def finish_capture(self, payment_id: str, now: datetime) -> Payment:
        update = f"SET #status = :captured, #captured_at = :now, #updated_at = :now, {LISTED} REMOVE #gsi1pk, #gsi1sk"
        values = {
            ":captured": PaymentStatus.CAPTURED.value,
            ":now": iso(now),
            ":listed": listed(PaymentStatus.CAPTURED.value),
            **CAPTURING_VALUES,
        }
        return self._update_payment(payment_id, update, CAPTURING, values)

    def release(
        self, payment: Payment, status: PaymentStatus, now: datetime, *, only_before: str | None = None
    ) -> bool:
        """Void or expire an authorized payment and give its hold back, together; ``False`` if it moved.

        ``only_before``: expire only if the hold's expiry is before this time (the sync's condition).
        """
        update = f"SET #status = :status, #closed_at = :now, #updated_at = :now, {LISTED} REMOVE #gsi1pk, #gsi1sk"
        condition = "#status = :authorized"
        values: dict[str, Any] = {
            ":status": status.value,
            ":listed": listed(status.value),
            ":now": iso(now),
            ":authorized": PaymentStatus.AUTHORIZED.value,
        }
        if only_before is not None:
            condition += " AND #hold_expires_at < :cutoff"
            values[":cutoff"] = only_before
        close = self.update_item(payment_key(payment.payment_id), update, values, condition)
        try:
            self.transact([close, release_hold(self.table, payment, now, require=True)])
        except ClientError as error:
            reasons = cancellation_reasons(error)
            if reasons and refused(reasons[0]):
                return False
            if not (len(reasons) > 1 and refused(reasons[1])):
                raise
            # No reservation: its authorization stopped (refused, or the function died) before reserving.
            # Close the payment alone; there is nothing to give back.
            closed = conditional_update(
                self.client, self.table, payment_key(payment.payment_id), update, condition, values
            )
            return closed is not None
        return True

    def resolve(
        self, payment: Payment, resolution: Resolution, now: datetime, *, give_back: bool, end_debit: bool
    ) -> Payment:
        """A person settled a ``needs_attention`` payment by hand: ``resolved`` with their note, and (``give_back``)
        its hold given back in this service's books in the same transaction, with no call to Topomer.
        ``end_debit``: the user's debit in flight is this payment's (its outcome was settled by the person).
        ``StatusChanged`` when the payment is no longer ``needs_attention``."""
        update = (
            f"SET #status = :resolved, #resolution = :resolution, #closed_at = :now, #updated_at = :now, {LISTED}"
            " REMOVE #gsi1pk, #gsi1sk"
        )
        values: dict[str, Any] = {
            ":resolved": PaymentStatus.RESOLVED.value,
            ":resolution": resolution.model_dump(mode="json"),
            ":now": iso(now),
            ":listed": listed(PaymentStatus.RESOLVED.value),
            ":attention": PaymentStatus.NEEDS_ATTENTION.value,
        }
        condition = "#status = :attention"
        if give_back:
            close = self.update_item(payment_key(payment.payment_id), update, values, condition)
            hold = release_hold(self.table, payment, now, require=True, end_debit=end_debit)
            try:
                self.transact([close, hold])
            except ClientError as error:
                reasons = cancellation_reasons(error)
                if reasons and refused(reasons[0]):
                    raise StatusChanged(payment.payment_id) from None
                if not (len(reasons) > 1 and refused(reasons[1])):
                    raise
                # No reservation left (given back already, or never made): close the payment alone.
            else:
                resolved = self.get_payment(payment.payment_id)
                if resolved is None:
                    raise StatusChanged(payment.payment_id)
                return resolved
        return self._update_payment(payment.payment_id, update, condition, values)
