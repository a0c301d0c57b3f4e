"""Many callers spending one order at once (issue 13, part 3): DynamoDB serializes them, nobody is told 503.

150 consumes of 1 credit from 30 parallel callers on an order holding 100: exactly 100 succeed, 50 are refused
for lack of credits, none is ``busy``; the balance ends at 0 with one ledger entry per consume. The same through
the Dotix API, whose refusals are 200 ``lack_of_bal`` by default.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.e2e import web
from tests.e2e.conftest import LocalStack
from tests.e2e.test_credits import CREDITS_100, account, granted_order

pytestmark = pytest.mark.e2e

CALLERS = 30
CONSUMES = 150


def full_ledger(stack: LocalStack, order_key: str) -> list[dict[str, Any]]:
    url = f"{stack.api}/credits/v1/orders/{order_key}/transactions"
    entries: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = web.get(url, params={"limit": 100, **({"cursor": cursor} if cursor else {})}, timeout=30).json()
        entries += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return entries


def spend_at_once(send: Any) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=CALLERS)
    with web.Client(timeout=120, limits=limits) as client, ThreadPoolExecutor(max_workers=CALLERS) as pool:
        return list(pool.map(lambda _: send(client), range(CONSUMES)))


def assert_spent_exactly_once_each(stack: LocalStack, order_key: str) -> None:
    assert account(stack, order_key).json()["balance"] == 0
    consumes = [e for e in full_ledger(stack, order_key) if e["type"] == "consume"]
    assert len(consumes) == 100
    assert sorted(e["balance_after"] for e in consumes) == list(range(100))  # one entry per credit, none twice
    assert all(e["amount"] == -1 for e in consumes)


def test_thirty_callers_spending_one_order_get_200_or_409_never_503(stack: LocalStack) -> None:
    order_key = granted_order(stack, [(CREDITS_100, 1)])["order_key"]
    answers = spend_at_once(
        lambda client: client.post(f"{stack.api}/credits/v1/orders/{order_key}/consume", json={"amount": 1})
    )
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {200: 100, 409: 50}, statuses
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 409} == {"insufficient_credits"}
    assert sorted(a.json()["balance"] for a in answers if a.status_code == 200) == list(range(100))
    assert_spent_exactly_once_each(stack, order_key)


def test_thirty_callers_spending_one_order_through_dotix(stack: LocalStack) -> None:
    order_key = granted_order(stack, [(CREDITS_100, 1)])["order_key"]
    answers = spend_at_once(lambda client: client.post(f"{stack.api}/dotix/v1/order/{order_key}", data={"num": "1"}))
    assert Counter(a.status_code for a in answers) == {200: 150}
    outcomes = Counter(a.json().get("_msg", a.json()["_res"]) for a in answers)
    assert outcomes == {"ok": 100, "lack_of_bal": 50}, outcomes
    assert_spent_exactly_once_each(stack, order_key)
