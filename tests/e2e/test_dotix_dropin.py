"""Dotix as a real drop-in: its WordPress URL, and its refusals answered with 200 as WordPress does.

Dotix is a WordPress plugin: its REST callback returns an array for every outcome, which WordPress
serves as HTTP 200, ``{"_res":"err",...}`` included. ``DOTIX_ERROR_STATUS=4xx`` keeps the statuses
this service answered before (404 wrong_hash, 409 wrong_status / lack_of_bal, 400 lack_of_param).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e import web
from tests.e2e.conftest import LocalStack, start_stack

pytestmark = pytest.mark.e2e

CREDITS_100 = 10  # a seeded product worth 100 credits
PREFIXES = ("/dotix/v1", "/wp-json/dotix/v1")


def paid_order(stack: LocalStack, status: str = "completed") -> dict[str, Any]:
    """A new order for 100 credits, moved to ``status`` with its webhook delivered."""
    body = {"customer_id": 1, "status": "pending", "line_items": [{"product_id": CREDITS_100, "quantity": 1}]}
    order = web.post(f"{stack.woocommerce}/_sim/orders", json=body, timeout=30).json()
    moved = web.post(
        f"{stack.woocommerce}/_sim/orders/{order['id']}/status", json={"status": status, "deliver": True}, timeout=30
    )
    assert moved.status_code == 200
    return dict(order)


def refusals(stack: LocalStack, prefix: str) -> dict[str, httpx.Response]:
    """One answer per Dotix error tag, through ``prefix``."""
    spent = paid_order(stack)
    url = f"{stack.api}{prefix}/order/{spent['order_key']}"
    assert web.post(url, data={"num": "max"}).json()["_res"] == "ok"
    on_hold = paid_order(stack, status="on-hold")
    return {
        "wrong_hash": web.get(f"{stack.api}{prefix}/order/wc_order_noSuchKey"),
        "wrong_status": web.get(f"{stack.api}{prefix}/order/{on_hold['order_key']}"),
        "lack_of_param": web.post(url, data={}),
        "lack_of_bal": web.post(url, data={"num": "1"}),
    }


@pytest.mark.parametrize("prefix", PREFIXES)
def test_the_wp_json_path_answers_exactly_as_the_short_one(stack: LocalStack, prefix: str) -> None:
    order = paid_order(stack)
    url = f"{stack.api}{prefix}/order/{order['order_key']}"
    oid = order["id"]
    read = web.get(url)
    assert (read.status_code, read.content) == (
        200,
        f'{{"_res":"ok","order_id":{oid},"status":"completed","balance":"100"}}'.encode(),
    )
    spent = web.post(url, data={"num": "30"})
    assert (spent.status_code, spent.content) == (
        200,
        f'{{"_res":"ok","order_id":{oid},"consumed":"30","balance":"70"}}'.encode(),
    )
    # Both paths spend from the one ledger.
    other = PREFIXES[1] if prefix == PREFIXES[0] else PREFIXES[0]
    rest = web.post(f"{stack.api}{other}/order/{order['order_key']}", data={"num": "max"})
    assert rest.json() == {"_res": "ok", "order_id": oid, "consumed": "70", "balance": "0"}


@pytest.mark.parametrize("prefix", PREFIXES)
def test_refusals_come_with_200_by_default(stack: LocalStack, prefix: str) -> None:
    for tag, answer in refusals(stack, prefix).items():
        assert (answer.status_code, answer.content) == (200, f'{{"_res":"err","_msg":"{tag}"}}'.encode()), tag


@pytest.fixture(scope="module")
def status_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    workdir: Path = tmp_path_factory.mktemp("dotix4xx")
    with start_stack(workdir, {"DOTIX_ERROR_STATUS": "4xx"}) as running:
        yield running


@pytest.mark.parametrize("prefix", PREFIXES)
def test_dotix_error_status_4xx_keeps_the_old_statuses(status_stack: LocalStack, prefix: str) -> None:
    statuses = {tag: answer.status_code for tag, answer in refusals(status_stack, prefix).items()}
    assert statuses == {"wrong_hash": 404, "wrong_status": 409, "lack_of_param": 400, "lack_of_bal": 409}
    for tag, answer in refusals(status_stack, prefix).items():
        assert answer.json() == {"_res": "err", "_msg": tag}
