"""Subscription rules without AWS or HTTP: status requests and cancels, the next delivery date, confirming
writes, exchange intervals and products."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from tests.unit.account_samples import NOW, PRODUCTS, SUB
from woo_backend.domain.account.errors import ChangeNotApplied, InvalidTransition
from woo_backend.domain.account.exchange import exchange_intervals, exchange_products, interval_change
from woo_backend.domain.account.meta import confirm_meta
from woo_backend.domain.account.params import SetNextDeliveryDateParams, SetSubscriptionStatusParams
from woo_backend.domain.account.subscriptions import (
    cancel_status,
    confirm_next_delivery,
    confirm_status,
    end_of_prepaid_term,
    needs_payment,
    next_delivery,
    next_delivery_change,
    refusal_message,
    status_change,
)
from woo_backend.errors import InvalidRequest


# ------------------------------------------------------------------ subscriptions
def status_params(requested: str, reason: str | None = None) -> SetSubscriptionStatusParams:
    return SetSubscriptionStatusParams.model_validate({"subscription_id": 1, "new_status": requested, "reason": reason})


@pytest.mark.parametrize(
    ("current", "requested", "sent"),
    [
        ("active", "on-hold", "on-hold"),
        ("on-hold", "active", "active"),
        ("pending-cancel", "active", "active"),
        ("active", "cancel", "pending-cancel"),  # prepaid until 2026-11-30
        ("on-hold", "cancel", "pending-cancel"),  # nothing unpaid
    ],
)
def test_allowed_status_changes_go_as_transition_status(current: str, requested: str, sent: str) -> None:
    change = status_change({**SUB, "status": current}, status_params(requested, "r"), NOW)
    assert change is not None
    assert change["transition_status"] == sent
    assert "status" not in change  # set_status() would skip the transition's rules and dates
    assert change["meta_data"][0]["value"] == "r"


@pytest.mark.parametrize(
    ("current", "requested"),
    [("cancelled", "active"), ("expired", "on-hold"), ("pending", "cancel"), ("pending-cancel", "on-hold")],
)
def test_refused_status_changes(current: str, requested: str) -> None:
    with pytest.raises(InvalidTransition):
        status_change({**SUB, "status": current}, status_params(requested), NOW)


def test_a_subscription_past_its_end_is_not_reactivated() -> None:
    ended = {**SUB, "status": "pending-cancel", "end_date_gmt": "2026-11-20T00:00:00"}
    with pytest.raises(InvalidTransition):
        status_change(ended, status_params("active"), NOW)


@pytest.mark.parametrize(
    ("current", "requested"), [("active", "active"), ("pending-cancel", "cancel"), ("cancelled", "cancel")]
)
def test_status_already_there_changes_nothing(current: str, requested: str) -> None:
    assert status_change({**SUB, "status": current}, status_params(requested), NOW) is None


PARENT_PAID = {"id": 45, "order_type": "parent_order", "status": "completed", "total": "35.00"}


def renewal(order_id: int, status: str, created: str, early: bool = False) -> dict[str, Any]:
    meta = [{"key": "_subscription_renewal_early", "value": "501"}] if early else []
    return {
        "id": order_id,
        "order_type": "renewal_order",
        "status": status,
        "total": "35.00",
        "date_created_gmt": created,
        "meta_data": meta,
    }


@pytest.mark.parametrize(
    ("orders", "expected"),
    [
        ([PARENT_PAID], False),
        ([{**PARENT_PAID, "status": "pending"}], True),
        ([{**PARENT_PAID, "status": "on-hold"}], True),
        ([{**PARENT_PAID, "status": "pending", "total": "0.00"}], False),
        ([PARENT_PAID, renewal(60, "failed", "2026-11-01T00:00:00")], True),
        (
            [
                PARENT_PAID,
                renewal(60, "failed", "2026-10-01T00:00:00"),
                renewal(61, "completed", "2026-11-01T00:00:00"),
            ],
            False,
        ),
        (
            [
                PARENT_PAID,
                renewal(60, "completed", "2026-10-01T00:00:00"),
                renewal(61, "pending", "2026-11-01T00:00:00", True),
            ],
            False,
        ),
    ],
)
def test_needs_payment_as_wc_subscription_decides(orders: list[dict[str, Any]], expected: bool) -> None:
    assert needs_payment({**SUB, "status": "on-hold"}, orders) is expected


def test_cancel_status_as_cancel_order_decides() -> None:
    assert cancel_status(SUB, NOW) == "pending-cancel"
    on_hold = {**SUB, "status": "on-hold"}
    assert cancel_status(on_hold, NOW, [PARENT_PAID]) == "pending-cancel"
    assert cancel_status(on_hold, NOW, [PARENT_PAID, renewal(60, "failed", "2026-11-01T00:00:00")]) == "cancelled"
    overdue = {**SUB, "next_payment_date_gmt": "2026-11-20T09:15:00"}
    assert cancel_status(overdue, NOW) == "cancelled"
    # A past next payment but an end date ahead: paid until the end (calculate_date end_of_prepaid_term).
    assert cancel_status({**overdue, "end_date_gmt": "2026-12-20T00:00:00"}, NOW) == "pending-cancel"
    # No next payment at all: nothing prepaid, whatever the end date says.
    assert cancel_status({**SUB, "next_payment_date_gmt": "", "end_date_gmt": "2026-12-20T00:00:00"}, NOW) == (
        "cancelled"
    )


def test_end_of_prepaid_term() -> None:
    assert end_of_prepaid_term(SUB, NOW) == datetime(2026, 11, 30, 9, 15, tzinfo=UTC)
    assert end_of_prepaid_term({**SUB, "next_payment_date_gmt": ""}, NOW) == NOW


def test_refusal_message_is_the_fresh_refusal_note() -> None:
    notes = [
        {"note": "Status changed from Active to On hold.", "date_created_gmt": "2026-11-23T15:30:01"},
        {"note": 'Unable to change subscription status to "active".', "date_created_gmt": "2026-11-23T15:30:00"},
    ]
    assert refusal_message(notes, NOW) == 'Unable to change subscription status to "active".'
    assert refusal_message(notes, datetime(2026, 11, 23, 15, 31, tzinfo=UTC)) is None  # an old one
    assert refusal_message([], NOW) is None


def test_next_delivery_keeps_the_time_of_day() -> None:
    assert next_delivery(SUB, date(2026, 12, 10), NOW) == datetime(2026, 12, 10, 9, 15, tzinfo=UTC)


def test_next_delivery_is_written_as_next_payment_date_in_mysql_format() -> None:
    assert next_delivery_change(datetime(2026, 12, 10, 9, 15, tzinfo=UTC)) == {
        "next_payment_date": "2026-12-10 09:15:00"
    }


def test_next_delivery_today_after_its_hour_is_the_next_hour() -> None:
    assert next_delivery(SUB, NOW.date(), NOW) == datetime(2026, 11, 23, 16, 0, tzinfo=UTC)


def test_next_delivery_refuses_the_past_and_closed_subscriptions() -> None:
    with pytest.raises(InvalidRequest):
        next_delivery(SUB, date(2026, 11, 22), NOW)
    with pytest.raises(InvalidTransition):
        next_delivery({**SUB, "status": "cancelled"}, date(2026, 12, 10), NOW)


def test_next_delivery_stays_between_the_trial_end_and_the_end() -> None:
    with pytest.raises(InvalidRequest, match="ends"):
        next_delivery({**SUB, "end_date_gmt": "2026-12-01T00:00:00"}, date(2026, 12, 10), NOW)
    with pytest.raises(InvalidRequest, match="trial_end"):
        next_delivery({**SUB, "trial_end_date_gmt": "2026-12-20T00:00:00"}, date(2026, 12, 10), NOW)


def test_a_next_delivery_the_shop_did_not_keep_is_not_a_success() -> None:
    moment = datetime(2026, 12, 10, 9, 15, tzinfo=UTC)
    confirm_next_delivery({"next_payment_date_gmt": "2026-12-10T09:15:00"}, moment)
    with pytest.raises(ChangeNotApplied):
        confirm_next_delivery({"next_payment_date_gmt": "2026-11-30T09:15:00"}, moment)


def test_writes_are_confirmed_from_the_answer() -> None:
    confirm_status({"status": "pending-cancel"}, "pending-cancel")
    with pytest.raises(ChangeNotApplied):
        confirm_status({"status": "active"}, "pending-cancel")
    confirm_meta(
        {"meta_data": [{"key": "gift", "value": "1"}, {"key": "n", "value": "3"}]},
        [
            {"key": "gift", "value": True},
            {"key": "n", "value": 3},
        ],
    )
    with pytest.raises(ChangeNotApplied):
        confirm_meta({"meta_data": []}, [{"key": "gift", "value": "yes"}])


@pytest.mark.parametrize("raw", ["2026-13-01", "2026/12/01", "20261201", "2026-12-1"])
def test_next_delivery_date_format(raw: str) -> None:
    with pytest.raises(ValidationError):
        SetNextDeliveryDateParams.model_validate({"subscription_id": 1, "new_date": raw})


def test_exchange_intervals_exclude_the_current_and_follow_product_meta() -> None:
    assert "4_week" not in exchange_intervals(SUB, PRODUCTS)
    narrowed = [{"id": 13, "meta_data": [{"key": "_exchange_intervals", "value": "2_week, 4_week, 6_week, bogus"}]}]
    assert exchange_intervals(SUB, narrowed) == ["2_week", "6_week"]


def test_interval_change() -> None:
    assert interval_change(SUB, PRODUCTS, "2_month") == {"billing_interval": "2", "billing_period": "month"}
    assert interval_change(SUB, PRODUCTS, "4_week") == {}
    with pytest.raises(InvalidRequest):
        interval_change(SUB, PRODUCTS, "5_year")


def test_exchange_products_are_published_subscriptions_not_held() -> None:
    assert [p["id"] for p in exchange_products(SUB, PRODUCTS)] == [14]
