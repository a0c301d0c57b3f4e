"""A scheduled run that finishes emits ``SyncSucceeded`` (the template's <Sync>NotSucceedingAlarm counts them);
one that fails does not, so three failed or missing runs raise the alarm."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.lambdas import LambdaContext
from woo_backend.scheduled import scheduled_entrypoint

CONTEXT: Any = LambdaContext("f", 128, "arn:aws:lambda:us-east-1:000000000000:function:f", "r", deadline=0.0)


def emitted(out: str) -> set[str]:
    """The metric names of the EMF lines Powertools printed."""
    names: set[str] = set()
    for line in out.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            record = json.loads(line)
            names |= {m["Name"] for d in record["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    return names


def test_a_finished_run_emits_sync_succeeded(capsys: pytest.CaptureFixture[str]) -> None:
    handler = scheduled_entrypoint("TestSync", lambda run_id: {"done": 2})
    handler({"scheduled_time": "2026-01-01T00:00:00Z"}, CONTEXT)
    assert {"SyncSucceeded", "TestSync_done"} <= emitted(capsys.readouterr().out)


def test_a_failed_run_does_not(capsys: pytest.CaptureFixture[str]) -> None:
    def run(run_id: str) -> dict[str, int]:
        raise RuntimeError("upstream down")

    handler = scheduled_entrypoint("TestSync", run)
    with pytest.raises(RuntimeError):
        handler({"scheduled_time": "2026-01-01T00:05:00Z"}, CONTEXT)
    assert "SyncSucceeded" not in emitted(capsys.readouterr().out)
