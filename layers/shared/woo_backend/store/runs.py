"""Each scheduled sync's last run in ``AdminTable``: one item per sync under ``RUN``/``<sync name>``.

Written by ``scheduled_entrypoint`` at the end of every run, read by the admin health page. One ``UpdateItem`` per
run keeps what the stale rule needs of the runs before it (the last success, the current failure streak) without a
read first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from woo_backend.domain.health import FAILED, OK, SyncRun
from woo_backend.dynamo import from_item, names, to_item, to_values

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

RUN = "RUN"
_COMMON = "SET #at = :at, #outcome = :outcome, #counts = :counts, #error = :error, #duration_ms = :duration"
_AFTER_OK = _COMMON + ", #last_ok_at = :at, #failures = :zero REMOVE #failing_since"
_AFTER_FAILURE = (
    _COMMON
    + ", #failures = if_not_exists(#failures, :zero) + :one"
    + ", #failing_since = if_not_exists(#failing_since, :at)"
)


class SyncRuns:
    def __init__(self, table: str, client: DynamoDBClient) -> None:
        self.table = table
        self.client = client

    def record(self, name: str, at: str, *, counts: dict[str, int], duration_ms: int, error: str | None = None) -> None:
        """The run of sync ``name`` that started at ``at``: ok when ``error`` is None, else failed."""
        update = _AFTER_OK if error is None else _AFTER_FAILURE
        values: dict[str, Any] = {
            ":at": at,
            ":outcome": OK if error is None else FAILED,
            ":counts": {str(k): int(v) for k, v in counts.items()},
            ":error": error,
            ":duration": int(duration_ms),
            ":zero": 0,
        }
        if error is not None:
            values[":one"] = 1
        self.client.update_item(
            TableName=self.table,
            Key=to_item({"pk": RUN, "sk": name}),
            UpdateExpression=update,
            ExpressionAttributeNames=names(update),
            ExpressionAttributeValues=to_values(values),
        )

    def last_runs(self) -> dict[str, SyncRun]:
        """Every sync's last run, by sync name."""
        runs: dict[str, SyncRun] = {}
        args: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": to_values({":pk": RUN}),
            "ConsistentRead": True,
        }
        while True:
            response = self.client.query(**args)
            for item in response.get("Items", []):
                values = from_item(item)
                runs[str(values["sk"])] = _run(values)
            if "LastEvaluatedKey" not in response:
                return runs
            args["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _run(values: dict[str, Any]) -> SyncRun:
    error = values.get("error")
    return SyncRun(
        at=str(values["at"]),
        outcome=FAILED if values.get("outcome") == FAILED else OK,
        counts={str(k): int(v) for k, v in (values.get("counts") or {}).items()},
        error=str(error) if error is not None else None,
        duration_ms=int(values.get("duration_ms", 0)),
        last_ok_at=str(values["last_ok_at"]) if values.get("last_ok_at") else None,
        failures=int(values.get("failures", 0)),
        failing_since=str(values["failing_since"]) if values.get("failing_since") else None,
    )
