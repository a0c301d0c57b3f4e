"""Promo codes in DynamoDB (``PromoTable``).

Items:
- ``CODE#<CODE>``/``CODE``: the code's record, the source of truth (``attribute_not_exists`` makes codes
  unique), listed newest first through ``gsi1`` (``CODES``, ``<created_at>#<code>``);
- ``CART#<cart_id>``/``AUTO``: the automatic code a cart holds now, with a ``version``;
- ``SYNC``/``PENDING#<CODE>``: a change not yet accepted by WooCommerce or Topomer, written in the same
  transaction as the change and deleted once both sides caught up (the sync's work list, no scan);
- ``INTERVALS``/``LAST_GOOD``: the last valid price intervals, served while Topomer is down.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from woo_backend.domain.promo import (
    CartCode,
    CartMoved,
    CodeChanged,
    DuplicateCode,
    Interval,
    PromoCode,
    Side,
    SideSync,
)
from woo_backend.dynamo import (
    conditional_update,
    conditional_write,
    from_item,
    names,
    to_item,
    to_values,
)
from woo_backend.store.paging import InvalidCursor, decode_cursor, encode_cursor

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CODES = "CODES"
KEY_ATTRIBUTES = frozenset({"pk", "sk", "gsi1pk", "gsi1sk"})


def _code_key(code: str) -> dict[str, Any]:
    return to_item({"pk": f"CODE#{code}", "sk": "CODE"})


def _cart_key(cart_id: str) -> dict[str, Any]:
    return to_item({"pk": f"CART#{cart_id}", "sk": "AUTO"})


def _pending_key(code: str) -> dict[str, Any]:
    return to_item({"pk": "SYNC", "sk": f"PENDING#{code}"})


def _record(item: dict[str, Any]) -> PromoCode:
    return PromoCode.model_validate({k: v for k, v in from_item(item).items() if k not in KEY_ATTRIBUTES})


def _values(code: PromoCode) -> dict[str, Any]:
    values = code.model_dump(mode="python", exclude_none=True, exclude={"sync", "type"})
    values["type"] = code.type.value
    values["sync"] = {side.value: code.side(side).model_dump(mode="python") for side in Side}
    return values


def _stored_interval(interval: Interval) -> dict[str, str | None]:
    """An interval as the last good copy keeps it: exact decimal strings (read back with ``Decimal``)."""
    high = interval.max
    return {
        "min": str(interval.min),
        "max": str(high) if high is not None else None,
        "percentage": str(interval.percentage),
    }


def _refused(error: ClientError) -> list[bool]:
    """Which items of a cancelled transaction failed their condition."""
    if error.response["Error"]["Code"] != "TransactionCanceledException":
        raise error
    return [r.get("Code") == "ConditionalCheckFailed" for r in error.response.get("CancellationReasons", [])]


class PromoStore:
    def __init__(self, table: str, client: DynamoDBClient) -> None:
        self.table = table
        self.client = client

    def _transact(self, items: list[dict[str, Any]]) -> None:
        self.client.transact_write_items(TransactItems=items)  # type: ignore[arg-type]

    # -------------------------------------------------------------- codes
    def get(self, code: str) -> PromoCode | None:
        item = self.client.get_item(TableName=self.table, Key=_code_key(code), ConsistentRead=True).get("Item")
        return _record(item) if item else None

    def _put_code(self, code: PromoCode) -> dict[str, Any]:
        item = {
            "pk": f"CODE#{code.code}",
            "sk": "CODE",
            "gsi1pk": CODES,
            "gsi1sk": f"{code.created_at}#{code.code}",
            **_values(code),
        }
        return {
            "Put": {
                "TableName": self.table,
                "Item": to_item(item),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def _mark_pending(self, code: PromoCode) -> dict[str, Any]:
        marker = {"pk": "SYNC", "sk": f"PENDING#{code.code}", "code": code.code, "version": code.version}
        return {"Put": {"TableName": self.table, "Item": to_item(marker)}}

    def create(
        self,
        code: PromoCode,
        *,
        cart: CartCode | None = None,
        cart_expected_version: int | None = None,
        retired: PromoCode | None = None,
    ) -> None:
        """Record a new code (pending on both sides), and for an automatic code point its cart at it,
        retiring the cart's previous code, all in one transaction.

        ``DuplicateCode`` when the code exists; ``CartMoved`` when the cart changed meanwhile.
        """
        items = [self._put_code(code), self._mark_pending(code)]
        if cart is not None:
            update = "SET #code = :code, #interval = :interval, #version = :next, #cart_id = :cart"
            condition = "attribute_not_exists(#version)" if cart_expected_version is None else "#version = :v"
            values: dict[str, Any] = {
                ":code": cart.code,
                ":interval": cart.interval,
                ":next": cart.version,
                ":cart": cart.cart_id,
            }
            if cart_expected_version is not None:
                values[":v"] = cart_expected_version
            items.append(self._update(_cart_key(cart.cart_id), update, condition, values))
        if retired is not None:
            items.extend(self._change_items(retired))
        try:
            self._transact(items)
        except ClientError as error:
            refused = _refused(error)
            if refused and refused[0]:
                raise DuplicateCode(f"code {code.code} already exists") from None
            if len(refused) > 2 and refused[2]:
                raise CartMoved(cart.cart_id if cart else "") from None
            if len(refused) > 3 and any(refused[3:]):
                raise CodeChanged(retired.code if retired else "") from None
            raise

    def _update(self, key: dict[str, Any], update: str, condition: str, values: dict[str, Any]) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self.table,
                "Key": key,
                "UpdateExpression": update,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names(update, condition),
                "ExpressionAttributeValues": to_values(values),
            }
        }

    def _change_items(self, changed: PromoCode) -> list[dict[str, Any]]:
        """The record's new fields under a condition on its previous version, and the pending marker."""
        fields = _values(changed)
        for kept in ("code", "created_at", "sync", "cart_id", "type"):
            fields.pop(kept, None)
        sets = ", ".join(f"#{name} = :{name}" for name in fields)
        removed = [name for name in ("expires_at", "usage_limit", "minimum_amount", "email") if name not in fields]
        update = f"SET {sets}" + (f" REMOVE {', '.join(f'#{n}' for n in removed)}" if removed else "")
        values = {f":{name}": value for name, value in fields.items()}
        values[":previous"] = changed.version - 1
        return [
            self._update(_code_key(changed.code), update, "#version = :previous", values),
            self._mark_pending(changed),
        ]

    def save_change(self, changed: PromoCode) -> None:
        """Write a changed record (its ``version`` one above the stored one); ``CodeChanged`` if it moved."""
        try:
            self._transact(self._change_items(changed))
        except ClientError as error:
            if any(_refused(error)):
                raise CodeChanged(changed.code) from None
            raise

    def list_codes(
        self, limit: int, cursor: str | None, promo_type: str | None, active: bool | None
    ) -> tuple[list[PromoCode], str | None]:
        """Codes newest first, filtered; ``cursor`` is the opaque ``next_cursor`` of the previous page."""
        filters, values = [], {":pk": CODES}
        if promo_type is not None:
            filters.append("#type = :type")
            values[":type"] = promo_type
        if active is not None:
            filters.append("#active = :active")
            values[":active"] = active  # type: ignore[assignment]
        args: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :pk",
            "ScanIndexForward": False,
            "ExpressionAttributeValues": to_values(values),
        }
        if filters:
            args["FilterExpression"] = " AND ".join(filters)
            args["ExpressionAttributeNames"] = names(*filters)
        if cursor:
            args["ExclusiveStartKey"] = self._decode_cursor(cursor)
        found: list[tuple[PromoCode, dict[str, Any]]] = []
        while len(found) < limit:
            args["Limit"] = max(limit - len(found), 10)
            response = self.client.query(**args)
            found.extend((_record(item), item) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                page = [code for code, _ in found[:limit]]
                more = len(found) > limit
                return page, self._encode_cursor(found[limit - 1][1]) if more else None
            args["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return [code for code, _ in found[:limit]], self._encode_cursor(found[limit - 1][1])

    @staticmethod
    def _encode_cursor(item: dict[str, Any]) -> str:
        values = from_item(item)
        return encode_cursor({"code": str(values["code"]), "at": str(values["gsi1sk"])})

    @staticmethod
    def _decode_cursor(cursor: str) -> dict[str, Any]:
        values = decode_cursor(cursor, ("code", "at"))
        code, at = values["code"], values["at"]
        if len(code) > 32 or len(at) > 100 or not at.endswith(f"#{code}"):
            raise InvalidCursor()
        return to_item({"pk": f"CODE#{code}", "sk": "CODE", "gsi1pk": CODES, "gsi1sk": at})

    # -------------------------------------------------------------- carts
    def get_cart(self, cart_id: str) -> CartCode | None:
        item = self.client.get_item(TableName=self.table, Key=_cart_key(cart_id), ConsistentRead=True).get("Item")
        if not item:
            return None
        values = from_item(item)
        return CartCode(cart_id, str(values["code"]), str(values["interval"]), int(values["version"]))

    # -------------------------------------------------------------- sync state
    def record_side(self, code: str, side: Side, state: SideSync, *, synced: bool) -> PromoCode | None:
        """Record one side's progress; a success never moves its ``synced_version`` backwards, and a failure
        (``state`` built from the side as the caller read it) is recorded only while that ``synced_version`` is
        still the stored one, so a success another push recorded meanwhile (its ``remote_id``) is never lost.

        Returns the record as it is now, or None when the condition kept the newer progress in place.
        """
        update = f"SET #sync.#{side.value} = :state"
        compare = "<" if synced else "="
        condition = f"attribute_exists(pk) AND #sync.#{side.value}.#synced_version {compare} :v"
        values: dict[str, Any] = {":state": state.model_dump(mode="python"), ":v": state.synced_version}
        written = conditional_update(
            self.client, self.table, _code_key(code), update, condition, values, return_new=True
        )
        return _record(written) if written else None

    def claim_create(self, code: str, side: Side, seen_attempts: int, started_at: str) -> bool:
        """Claim the one create of a side before it is sent: False if another push claimed it first.

        Conditioned on the attempt count the caller read, so of two pushes that read the same state only
        one sends the create; a single-item conditional update, which real DynamoDB serializes per item.
        """
        state = f"#sync.#{side.value}"
        update = f"SET {state}.#attempts = :next, {state}.#create_started_at = :at"
        condition = (
            f"{state}.#attempts = :seen AND (attribute_not_exists({state}.#remote_id) OR {state}.#remote_id = :none)"
        )
        values = {":next": seen_attempts + 1, ":at": started_at, ":seen": seen_attempts, ":none": None}
        return conditional_update(self.client, self.table, _code_key(code), update, condition, values) is not None

    def clear_pending(self, code: str, synced_version: int) -> None:
        """Drop the work-list entry, unless a newer change was recorded meanwhile."""
        conditional_write(
            self.client.delete_item,
            TableName=self.table,
            Key=_pending_key(code),
            ConditionExpression="#version <= :v",
            ExpressionAttributeNames={"#version": "version"},
            ExpressionAttributeValues=to_values({":v": synced_version}),
        )

    def pending_codes(self) -> list[str]:
        codes: list[str] = []
        args: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": to_values({":pk": "SYNC", ":prefix": "PENDING#"}),
            "ConsistentRead": True,
        }
        while True:
            response = self.client.query(**args)
            codes.extend(str(from_item(item)["code"]) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return codes
            args["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    # -------------------------------------------------------------- intervals
    def save_intervals(self, intervals: list[Interval], fetched_at: str) -> None:
        item = {
            "pk": "INTERVALS",
            "sk": "LAST_GOOD",
            "intervals": json.dumps([_stored_interval(i) for i in intervals]),
            "fetched_at": fetched_at,
        }
        self.client.put_item(TableName=self.table, Item=to_item(item))

    def last_intervals(self) -> tuple[list[Interval], str] | None:
        item = self.client.get_item(
            TableName=self.table, Key=to_item({"pk": "INTERVALS", "sk": "LAST_GOOD"}), ConsistentRead=True
        ).get("Item")
        if not item:
            return None
        values = from_item(item)
        intervals = [
            Interval(
                min=Decimal(i["min"]),
                max=Decimal(i["max"]) if i["max"] is not None else None,
                percentage=Decimal(i["percentage"]),
            )
            for i in json.loads(values["intervals"])
        ]
        return intervals, str(values["fetched_at"])
