"""The scheduled balance sync against moto's DynamoDB: hold expiry, reconciliation, polled orders."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.integration.balance_fakes import TOKEN, Parts, hold, make_parts
from woo_backend.domain.balance import PaymentStatus
from woo_backend.services.balance_reconcile import RECONCILE_CURSOR


@pytest.fixture
def parts(aws: Any) -> Parts:
    return make_parts(aws)


def test_the_sync_expires_old_holds(parts: Any) -> None:
    service, _, _, clock, store, sync = parts
    auth = hold(parts, TOKEN, 49, "30.00")
    sync.run("run-1")
    assert service.payment(auth.payment_id, None).status is PaymentStatus.AUTHORIZED
    clock.now += timedelta(minutes=61)
    assert sync.run("run-2").get("hold_expired") == 1
    assert service.payment(auth.payment_id, None).status is PaymentStatus.EXPIRED
    assert store.holds.get_holds("101").held == 0
    assert sync.run("run-3").get("hold_expired") is None


def test_reconciliation_records_drift_once_per_run(parts: Any) -> None:
    service, topomer, _, clock, store, sync = parts
    auth = hold(parts, TOKEN, 49, "30.00")
    service.capture(auth.payment_id, TOKEN)
    assert sync.run("run-1").get("drift") == 0
    topomer.balances[TOKEN] = Decimal("125.00")  # Topomer credited 5.00 on its own
    topomer.expired.discard(TOKEN)  # and let the customer use the token again
    hold(parts, TOKEN, 50, "1.00")  # activity since the last run
    clock.now += timedelta(minutes=5)
    assert sync.run("run-2")["drift"] == 1
    entries = store.holds.drift_entries("101")
    assert [(e["expected"], e["actual"], e["difference"]) for e in entries] == [
        (Decimal("120.00"), Decimal("125.00"), Decimal("5.00"))
    ]
    assert sync.run("run-2")["drift"] == 0  # the same run again records nothing twice


def test_a_user_whose_token_topomer_refuses_does_not_hold_reconciliation_back(parts: Any) -> None:
    _, topomer, _, _, store, sync = parts
    hold(parts, "tok-bob", 70, "5.00")
    hold(parts, TOKEN, 71, "1.00")
    del topomer.balances["tok-bob"]  # Topomer no longer serves Bob's token: no run will read his balance
    assert sync.run("run-1")["drift"] == 0
    assert store.cursors.get(RECONCILE_CURSOR)  # moved on past both users (a skipped user would hold it)


def test_the_sync_captures_and_voids_from_polled_orders(parts: Any) -> None:
    service, topomer, shop, _, _, sync = parts
    paid = hold(parts, TOKEN, 60, "10.00")
    dropped = hold(parts, TOKEN, 61, "5.00")
    shop.orders[60] = shop.orders[60].model_copy(
        update={"status": "processing", "date_modified_gmt": "2026-11-23T10:00:00"}
    )
    shop.orders[61] = shop.orders[61].model_copy(
        update={"status": "cancelled", "date_modified_gmt": "2026-11-23T10:00:01"}
    )
    counts = sync.run("run-1")
    assert counts["order_captured"] == 1
    assert counts["order_voided"] == 1
    assert service.payment(paid.payment_id, None).status is PaymentStatus.CAPTURED
    assert service.payment(dropped.payment_id, None).status is PaymentStatus.VOIDED
    assert topomer.balances[TOKEN] == Decimal("140.00")
    sync.run("run-2")  # polled again: nothing moves twice
    assert topomer.writes == [Decimal("140.00")]
