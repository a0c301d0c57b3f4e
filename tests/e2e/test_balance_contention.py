"""Many holds on one Topomer balance at once (issue 13, section 3): DynamoDB serializes them, nobody is told
to come back later.

Twenty authorizations of one user, for twenty different orders, race for a balance that fits fourteen of them.
Each is one conditional ``UpdateItem`` on the user's holds item, so the ones that fit are 201, the rest 402
``insufficient_balance``, and none is 503 ``busy``; what is held is exactly the sum of the 201s.

The embedded DynamoDB (moto) applies requests one at a time, so it never answers ``TransactionConflict`` the
way the real engine does when two transactions touch one item at once. What makes the real engine serialize
instead of conflict is checked here on the requests themselves, through moto's request recorder: while the
authorizations race, no transaction touches the user's holds item.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e import web
from tests.e2e.conftest import LocalStack, start_stack
from tests.e2e.payments import auth, authorize, new_order, new_user

CALLERS = 20


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """This module's own stack, whose embedded DynamoDB can record the requests it takes (into its workdir)."""
    workdir: Path = tmp_path_factory.mktemp("balance-contention")
    with start_stack(workdir, {"MOTO_RECORDER_FILEPATH": str(workdir / "dynamodb-requests")}) as running:
        yield running


def recorded(stack: LocalStack) -> list[tuple[str, dict[str, Any]]]:
    text = web.get(f"{stack.dynamodb}/moto-api/recorder/download-recording", timeout=10).text
    requests = []
    for line in text.splitlines():
        entry = json.loads(line)
        target = str(entry["headers"].get("X-Amz-Target", ""))
        if not target.startswith("DynamoDB_"):
            continue
        body = base64.b64decode(entry["body"]) if entry["body_encoded"] else entry["body"]
        requests.append((target.split(".")[-1], json.loads(body)))
    return requests


def holds_key(key: dict[str, Any]) -> bool:
    return str(key.get("pk", {}).get("S", "")).startswith("USER#")


def keys_of(body: dict[str, Any]) -> list[str]:
    """The ``pk`` of every item a TransactWriteItems request writes."""
    return [
        (write.get("Key") or write.get("Item") or {})["pk"]["S"]
        for item in body["TransactItems"]
        for write in item.values()
    ]


def test_twenty_parallel_holds_on_one_balance_are_never_busy(stack: LocalStack, api: httpx.Client) -> None:
    token = new_user(stack, "100.00")
    orders = [new_order(stack, "7.00") for _ in range(CALLERS)]
    recorder = f"{stack.dynamodb}/moto-api/recorder"
    web.post(f"{recorder}/reset-recording", timeout=10).raise_for_status()
    web.post(f"{recorder}/start-recording", timeout=10).raise_for_status()
    try:
        with ThreadPoolExecutor(max_workers=CALLERS) as pool:
            answers = list(pool.map(lambda order_id: authorize(api, token, order_id, "7.00"), orders))
    finally:
        web.post(f"{recorder}/stop-recording", timeout=10).raise_for_status()
    requests = recorded(stack)
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] * 14 + [402] * 6, statuses
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 402} == {"insufficient_balance"}
    held = sum((Decimal(a.json()["amount"]) for a in answers if a.status_code == 201), Decimal(0))
    assert held == Decimal("98.00")
    assert Decimal(api.get("/balance/v1/balance", headers=auth(token)).json()["available"]) == Decimal("2.00")
    # On the real engine transactions on one item conflict; the holds item saw none, only single updates.
    touching_holds = [
        body
        for op, body in requests
        if op == "TransactWriteItems" and any(key.startswith("USER#") for key in keys_of(body))
    ]
    assert touching_holds == []
    holds_updates = [body for op, body in requests if op == "UpdateItem" and holds_key(body.get("Key", {}))]
    assert len(holds_updates) == CALLERS  # one write each, fitting or refused: nobody retried


def test_parallel_holds_of_one_order_make_one_payment(stack: LocalStack, api: httpx.Client) -> None:
    # Racing callers of one order: one payment, the same one for all, held once.
    token = new_user(stack, "50.00")
    order_id = new_order(stack, "20.00")
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: authorize(api, token, order_id, "20.00"), range(8)))
    assert {a.status_code for a in answers} <= {200, 201}, [a.text for a in answers]
    assert len({a.json()["payment_id"] for a in answers}) == 1
    assert api.get("/balance/v1/balance", headers=auth(token)).json()["available"] == "30.00"
