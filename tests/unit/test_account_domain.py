"""Account API rules without AWS or HTTP: parameters, dates, subscription changes, auth, form bodies."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError

from woo_backend.api import _php_form
from woo_backend.auth import authenticate_account, mint_account_credentials
from woo_backend.domain.account import (
    InvalidTransition,
    ListParams,
    SendMailParams,
    SetNextDeliveryDateParams,
    SetSubscriptionStatusParams,
    SetUserInfoParams,
    customer_changes,
    delivery_change,
    exchange_intervals,
    exchange_products,
    interval_change,
    mail_window,
    merchant_mail,
    next_delivery,
    owned,
    shape_order,
    status_change,
    timestamp,
    with_timestamps,
)
from woo_backend.errors import DomainError, Forbidden, InvalidRequest, Unauthorized

NOW = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)
SUB: dict[str, Any] = {
    "id": 501,
    "customer_id": 1,
    "status": "active",
    "billing_period": "week",
    "billing_interval": "4",
    "next_payment_date_gmt": "2026-11-30T09:15:00",
    "line_items": [{"product_id": 13}],
    "shipping_lines": [{"id": 5010, "method_id": "flat_rate"}],
}
PRODUCTS = [
    {"id": 13, "type": "subscription", "meta_data": []},
    {"id": 14, "type": "subscription", "meta_data": []},
    {"id": 12, "type": "simple", "meta_data": []},
    {"id": 15, "type": "subscription", "status": "draft", "meta_data": []},
]


# ------------------------------------------------------------------ dates
def test_woocommerce_dates_become_unix_timestamps() -> None:
    assert timestamp("2026-11-23T10:00:00") == 1795428000
    assert timestamp("2026-11-23 10:00:00") == 1795428000
    assert timestamp("") is None
    assert timestamp(None) is None
    assert timestamp("not a date") is None


def test_every_date_is_renamed_and_local_copies_dropped() -> None:
    shaped = with_timestamps(
        {
            "date_created": "2026-11-23T11:00:00",
            "date_created_gmt": "2026-11-23T10:00:00",
            "next_payment_date_gmt": "",
            "x": 1,
        }
    )
    assert shaped == {"date_created": 1795428000, "next_payment_date": None, "x": 1}


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
def test_timestamps_read_back_the_same_moment(moment: datetime) -> None:
    moment = moment.replace(microsecond=0)
    assert timestamp(moment.strftime("%Y-%m-%dT%H:%M:%S")) == int(moment.replace(tzinfo=UTC).timestamp())


def test_orders_hide_protected_meta_and_the_order_key() -> None:
    order = {
        "id": 45,
        "customer_id": 1,
        "order_key": "wc_order_secret",
        "meta_data": [{"key": "_stripe_id", "value": "x"}, {"key": "gift", "value": "yes"}],
        "line_items": [{"id": 1, "product_id": 10, "meta_data": [{"key": "size", "value": "M"}]}],
    }
    shaped = shape_order(order, [{"id": 501, "parent_id": 45}, {"id": 502, "parent_id": 47}])
    assert "order_key" not in shaped
    assert shaped["meta_data"] == {"gift": "yes"}
    assert shaped["line_items"][0]["meta_data"] == {"size": "M"}
    assert [s["id"] for s in shaped["subscriptions"]] == [501]


def test_ownership() -> None:
    assert owned(SUB, 1, "subscription") is SUB
    with pytest.raises(Forbidden):
        owned(SUB, 2, "subscription")
    with pytest.raises(Forbidden):
        owned({"customer_id": None}, 1, "order")  # a guest order belongs to nobody's account


# ------------------------------------------------------------------ parameters
@pytest.mark.parametrize("raw", [{"pagesize": "25"}, {"pagesize": 25}, {"pagesize": " 25 "}])
def test_form_numbers_are_read_as_numbers(raw: dict[str, Any]) -> None:
    assert ListParams.model_validate(raw).pagesize == 25


@pytest.mark.parametrize("raw", [{"pagesize": "2.5"}, {"pagesize": True}, {"offset": "-1"}, {"orderby": "total"}])
def test_bad_list_params(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ListParams.model_validate(raw)


def test_mail_subject_is_one_line_and_from_is_checked() -> None:
    params = SendMailParams.model_validate(
        {"from": "a@example.com", "topic": "Hi\r\nBcc: x@example.com", "content": "c"}
    )
    assert params.topic == "Hi Bcc: x@example.com"
    with pytest.raises(ValidationError):
        SendMailParams.model_validate({"from": "a@", "topic": "t", "content": "c"})
    mail = merchant_mail(params, 7, "c@example.com")
    assert (mail.subject, mail.reply_to) == ("[Account] Hi Bcc: x@example.com", "a@example.com")
    assert mail.text.startswith("Customer #7 <c@example.com>")


def test_mail_windows_are_hours() -> None:
    assert mail_window(NOW) == ("2026112315", int(datetime(2026, 11, 23, 17, tzinfo=UTC).timestamp()))


# ------------------------------------------------------------------ set_user_info
def test_user_changes_map_to_woocommerce_fields() -> None:
    params = SetUserInfoParams.model_validate(
        {
            "meta": {"nickname": "al"},
            "data": {"account_email": "n@example.com", "user_password": "longenough", "display_name": "Al"},
        }
    )
    assert customer_changes(params) == {
        "email": "n@example.com",
        "password": "longenough",
        "meta_data": [{"key": "nickname", "value": "al"}, {"key": "display_name", "value": "Al"}],
    }


@pytest.mark.parametrize(
    "raw",
    [
        {"meta": {"_secret": "1"}},
        {"meta": {"1abc": "1"}},
        {"meta": {}},
        {"data": {"password": "x" * 10}},
        {"data": {"user_password": "x" * 7}},
    ],
)
def test_user_changes_refused(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        SetUserInfoParams.model_validate(raw)


def test_nothing_to_change_is_refused() -> None:
    with pytest.raises(InvalidRequest):
        customer_changes(SetUserInfoParams.model_validate({}))


# ------------------------------------------------------------------ subscriptions
@pytest.mark.parametrize(
    ("current", "requested", "sent"),
    [
        ("active", "on-hold", "on-hold"),
        ("on-hold", "active", "active"),
        ("pending-cancel", "active", "active"),
        ("active", "cancel", "cancelled"),
        ("on-hold", "cancel", "cancelled"),
    ],
)
def test_allowed_status_changes(current: str, requested: str, sent: str) -> None:
    params = SetSubscriptionStatusParams.model_validate({"subscription_id": 1, "new_status": requested, "reason": "r"})
    change = status_change({**SUB, "status": current}, params)
    assert change is not None
    assert change["transition_status"] == sent
    assert change["meta_data"][0]["value"] == "r"


@pytest.mark.parametrize(
    ("current", "requested"), [("cancelled", "active"), ("expired", "on-hold"), ("pending", "cancel")]
)
def test_refused_status_changes(current: str, requested: str) -> None:
    params = SetSubscriptionStatusParams.model_validate({"subscription_id": 1, "new_status": requested})
    with pytest.raises(InvalidTransition):
        status_change({**SUB, "status": current}, params)


@pytest.mark.parametrize(
    ("current", "requested"), [("active", "active"), ("pending-cancel", "cancel"), ("cancelled", "cancel")]
)
def test_status_already_there_changes_nothing(current: str, requested: str) -> None:
    params = SetSubscriptionStatusParams.model_validate({"subscription_id": 1, "new_status": requested})
    assert status_change({**SUB, "status": current}, params) is None


def test_next_delivery_keeps_the_time_of_day() -> None:
    assert next_delivery(SUB, date(2026, 12, 10), NOW) == datetime(2026, 12, 10, 9, 15, tzinfo=UTC)


def test_next_delivery_today_after_its_hour_is_the_next_hour() -> None:
    assert next_delivery(SUB, NOW.date(), NOW) == datetime(2026, 11, 23, 16, 0, tzinfo=UTC)


def test_next_delivery_refuses_the_past_and_closed_subscriptions() -> None:
    with pytest.raises(InvalidRequest):
        next_delivery(SUB, date(2026, 11, 22), NOW)
    with pytest.raises(InvalidTransition):
        next_delivery({**SUB, "status": "cancelled"}, date(2026, 12, 10), NOW)


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


def test_delivery_change_keeps_the_shipping_line_id() -> None:
    methods = [{"id": "free_shipping", "title": "Free", "cost": "0.00"}]
    assert delivery_change(SUB, methods, "free_shipping") == {
        "shipping_lines": [{"method_id": "free_shipping", "method_title": "Free", "total": "0.00", "id": 5010}]
    }
    with pytest.raises(InvalidRequest):
        delivery_change(SUB, methods, "flat_rate")


# ------------------------------------------------------------------ auth
SECRET = SecretStr("s3cret")


def test_minted_credentials_authenticate() -> None:
    creds = mint_account_credentials(42, 1, "s3cret")
    assert authenticate_account(creds, SECRET) == 42


@pytest.mark.parametrize(
    "change",
    [{"UID": "43"}, {"blog": "2"}, {"signature": "0" * 64}, {"UID": ""}, {"UID": None}, {"nonce": ["x"]}, {"UID": "0"}],
)
def test_anything_else_is_401(change: dict[str, Any]) -> None:
    creds: dict[str, Any] = {**mint_account_credentials(42, 1, "s3cret"), **change}
    with pytest.raises(Unauthorized):
        authenticate_account(creds, SECRET)


def test_expired_credentials_are_401() -> None:
    creds = mint_account_credentials(42, 1, "s3cret", ttl_seconds=60)
    with pytest.raises(Unauthorized) as refused:
        authenticate_account(creds, SECRET, now=time.time() + 120)
    assert refused.value.code == "expired_nonce"


# ------------------------------------------------------------------ form bodies
def test_php_style_forms() -> None:
    body = b"UID=1&meta%5Bcolor%5D=red&meta[size]=M&data[user_email]=a%40b.c&ids[]=1&ids[]=2&plain=x+y"
    assert _php_form(body) == {
        "UID": "1",
        "meta": {"color": "red", "size": "M"},
        "data": {"user_email": "a@b.c"},
        "ids": ["1", "2"],
        "plain": "x y",
    }


@pytest.mark.parametrize("body", [b"a[b][c][d][e]=1", b"a[][b]=1"])
def test_php_forms_refuse_what_they_cannot_mean(body: bytes) -> None:
    with pytest.raises(DomainError):
        _php_form(body)


@given(st.dictionaries(st.from_regex(r"[a-z]{1,8}", fullmatch=True), st.text(max_size=20), max_size=5))
def test_flat_forms_round_trip(fields: dict[str, str]) -> None:
    from urllib.parse import urlencode

    assert _php_form(urlencode(fields).encode()) == fields


def test_the_credentials_tool_prints_a_body_that_authenticates(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from local.account_credentials import main
    from local.run import LOCAL_DEFAULTS

    main(["7"])
    creds = json.loads(capsys.readouterr().out)
    assert authenticate_account(creds, SecretStr(LOCAL_DEFAULTS["ACCOUNT_SIGNING_SECRET"])) == 7


def test_renewal_orders_carry_their_subscription() -> None:
    renewal = {"id": 60, "customer_id": 1, "meta_data": [{"key": "_subscription_renewal", "value": "501"}]}
    switch = {"id": 61, "customer_id": 1, "meta_data": [{"key": "_subscription_switch", "value": [502, "x"]}]}
    subscriptions = [{"id": 501, "parent_id": 45}, {"id": 502, "parent_id": 47}]
    assert [s["id"] for s in shape_order(renewal, subscriptions)["subscriptions"]] == [501]
    assert [s["id"] for s in shape_order(switch, subscriptions)["subscriptions"]] == [502]
    assert shape_order({"id": 62, "meta_data": []}, subscriptions)["subscriptions"] == []
