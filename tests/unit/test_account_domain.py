"""Account API rules without AWS or HTTP: dates, ownership, an order's subscriptions, parameters,
set_user_info, the merchant mail. (The shape of answers: test_account_api.py.)"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.unit.account_samples import NOW, SUB
from woo_backend.domain.account.customer import customer_changes, owned
from woo_backend.domain.account.dates import timestamp
from woo_backend.domain.account.mail import mail_window, merchant_mail
from woo_backend.domain.account.orders import with_subscriptions
from woo_backend.domain.account.params import ListParams, SendMailParams, SetUserInfoParams
from woo_backend.errors import Forbidden, InvalidRequest


# ------------------------------------------------------------------ dates
def test_woocommerce_dates_become_unix_timestamps() -> None:
    assert timestamp("2026-11-23T10:00:00") == 1795428000
    assert timestamp("2026-11-23 10:00:00") == 1795428000
    assert timestamp("") is None
    assert timestamp(None) is None
    assert timestamp("not a date") is None


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
def test_timestamps_read_back_the_same_moment(moment: datetime) -> None:
    moment = moment.replace(microsecond=0)
    assert timestamp(moment.strftime("%Y-%m-%dT%H:%M:%S")) == int(moment.replace(tzinfo=UTC).timestamp())


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


def test_renewal_orders_carry_their_subscription() -> None:
    renewal = {"id": 60, "customer_id": 1, "meta_data": [{"key": "_subscription_renewal", "value": "501"}]}
    switch = {"id": 61, "customer_id": 1, "meta_data": [{"key": "_subscription_switch", "value": [502, "x"]}]}
    subscriptions = [{"id": 501, "parent_id": 45}, {"id": 502, "parent_id": 47}]
    assert [s["id"] for s in with_subscriptions(renewal, subscriptions).subscriptions] == [501]
    assert [s["id"] for s in with_subscriptions(switch, subscriptions).subscriptions] == [502]
    assert with_subscriptions({"id": 62, "meta_data": []}, subscriptions).subscriptions == ()
