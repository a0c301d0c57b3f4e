"""DynamoDB item helpers shared by the stores: (de)serialisation and conditional updates.

The client itself comes from ``woo_backend.aws`` (one per container)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def names(*expressions: str) -> dict[str, str]:
    """``ExpressionAttributeNames`` for every ``#name`` in the expressions.

    Every attribute is written as ``#name`` so that none can collide with DynamoDB's reserved words.
    """
    return {f"#{name}": name for expression in expressions for name in re.findall(r"#(\w+)", expression)}


def to_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Expression attribute values."""
    return {k: _serializer.serialize(v) for k, v in values.items()}


def failed_condition(error: ClientError) -> bool:
    return bool(error.response["Error"]["Code"] == "ConditionalCheckFailedException")


def conditional_write(write: Callable[..., Any], **request: Any) -> dict[str, Any] | None:
    """Run a conditional ``update_item``/``delete_item``/``put_item``: its answer if written, None if the
    condition refused it (any other error is raised)."""
    try:
        answer: dict[str, Any] = write(**request)
    except ClientError as error:
        if failed_condition(error):
            return None
        raise
    return answer


def conditional_update(
    client: DynamoDBClient,
    table: str,
    key: Mapping[str, Any],
    update: str,
    condition: str,
    values: Mapping[str, Any],
    *,
    return_new: bool = False,
) -> dict[str, Any] | None:
    """One conditional ``update_item``, every ``#name`` mapped: the item's new attributes (empty unless
    ``return_new``), or None if the condition refused it."""
    request: dict[str, Any] = {
        "TableName": table,
        "Key": dict(key),
        "UpdateExpression": update,
        "ConditionExpression": condition,
        "ExpressionAttributeNames": names(update, condition),
        "ExpressionAttributeValues": to_values(values),
    }
    if return_new:
        request["ReturnValues"] = "ALL_NEW"
    written = conditional_write(client.update_item, **request)
    return None if written is None else dict(written.get("Attributes", {}))
