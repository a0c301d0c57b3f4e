"""Account API rules without AWS or HTTP: parameters, dates, subscription changes, auth, form bodies."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError

from woo_backend.api import _php_form
from woo_backend.auth import authenticate_account, mint_account_credentials
from woo_backend.domain.account.customer import customer_changes, owned
from woo_backend.domain.account.dates import timestamp, with_timestamps
from woo_backend.domain.account.errors import ChangeNotApplied, InvalidTransition
from woo_backend.domain.account.exchange import exchange_intervals, exchange_products, interval_change
from woo_backend.domain.account.mail import mail_window, merchant_mail
from woo_backend.domain.account.meta import confirm_meta
from woo_backend.domain.account.params import (
    ListParams,
    SendMailParams,
    SetNextDeliveryDateParams,
    SetSubscriptionStatusParams,
    SetUserInfoParams,
)
from woo_backend.domain.account.shape import shape_order
from woo_backend.domain.account.shipping import (
    DeliveryOption,
    ShippingZone,
    choose_option,
    confirm_delivery,
    delivery_change,
    delivery_options,
    matching_zone,
    postcode_matches,
)
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


def method(instance: int, kind: str, order: int, enabled: bool = True, **settings: str) -> dict[str, Any]:
    return {
        "instance_id": instance,
        "method_id": kind,
        "title": settings.pop("title", kind),
        "order": order,
        "enabled": enabled,
        "settings": {key: {"id": key, "value": value} for key, value in settings.items()},
    }


ZONES = [
    ShippingZone(id=0, methods=(method(9, "flat_rate", 1, cost="30.00"),)),
    ShippingZone(id=1, order=0, locations=({"code": "FR", "type": "country"},)),
    ShippingZone(id=2, order=1, locations=({"code": "EU", "type": "continent"},)),
    ShippingZone(id=3, order=0, locations=({"code": "US:CA", "type": "state"},)),
    ShippingZone(id=4, order=0, locations=({"code": "GB", "type": "country"}, {"code": "SW1*", "type": "postcode"})),
    ShippingZone(id=5, order=2, locations=({"code": "75000...75999", "type": "postcode"},)),
]


@pytest.mark.parametrize(
    ("country", "state", "postcode", "zone"),
    [
        ("FR", "", "75002", 1),  # the country zone comes first by order
        ("DE", "", "10115", 2),  # the continent
        ("US", "CA", "94105", 3),  # COUNTRY:STATE
        ("US", "NY", "10001", 0),  # nothing: the rest of the world
        ("GB", "", "SW1A 1AA", 4),  # the country and the postcode wildcard
        ("GB", "", "M1 1AE", 2),  # the postcode rule fails: the continent zone
        ("BR", "", "75500", 5),  # a zone with postcodes only matches any country
    ],
)
def test_matching_zone_as_woocommerce_finds_it(country: str, state: str, postcode: str, zone: int) -> None:
    found = matching_zone(ZONES, country, state, postcode)
    assert found is not None
    assert found.id == zone


def test_postcode_rules() -> None:
    assert postcode_matches("sw1a 1aa", "SW1*")
    assert postcode_matches("75002", "75002")
    assert postcode_matches("75002", "75000...75999")
    assert not postcode_matches("76000", "75000...75999")
    assert not postcode_matches("M1 1AE", "SW1*")


SUBSCRIPTION_30 = {**SUB, "line_items": [{"product_id": 13, "subtotal": "30.00", "total": "30.00"}]}


def test_delivery_options_price_each_enabled_instance() -> None:
    zone = ShippingZone(
        id=1,
        methods=(
            method(3, "local_pickup", 3, cost=""),
            method(1, "flat_rate", 1, title="Colissimo", cost="5.00"),
            method(2, "free_shipping", 2, requires="min_amount", min_amount="50.00", ignore_discounts="no"),
            method(4, "flat_rate", 4, enabled=False, cost="9.00"),
            method(5, "flat_rate", 5, cost="2 + [qty] * 1.5"),
            method(6, "free_shipping", 6, requires="coupon"),
            method(7, "table_rate", 7, cost="4.00"),
        ),
    )
    options = delivery_options(zone, SUBSCRIPTION_30)
    assert [(o.rate_id, o.title, o.price) for o in options] == [
        ("flat_rate:1", "Colissimo", Decimal("5.00")),
        ("local_pickup:3", "local_pickup", Decimal("0")),
    ]
    rich = {**SUB, "line_items": [{"product_id": 13, "subtotal": "60.00", "total": "45.00"}]}
    assert "free_shipping:2" not in [o.rate_id for o in delivery_options(zone, rich)]  # 45.00 after discounts
    before = ShippingZone(
        id=1, methods=(method(2, "free_shipping", 2, requires="min_amount", min_amount="50", ignore_discounts="yes"),)
    )
    assert [o.rate_id for o in delivery_options(before, rich)] == ["free_shipping:2"]


FLAT = DeliveryOption(
    rate_id="flat_rate:4", method_id="flat_rate", instance_id=4, title="Europe", price=Decimal("12.5")
)


def test_delivery_change_sets_the_line_on_its_id_with_the_price() -> None:
    assert delivery_change(SUB, FLAT) == {
        "shipping_lines": [
            {"method_id": "flat_rate", "instance_id": "4", "method_title": "Europe", "total": "12.50", "id": 5010}
        ]
    }
    two = {**SUB, "shipping_lines": [{"id": 1}, {"id": 2}]}
    assert delivery_change(two, FLAT)["shipping_lines"][1] == {"id": 2, "method_id": None}  # removed
    assert "id" not in delivery_change({**SUB, "shipping_lines": []}, FLAT)["shipping_lines"][0]


def test_choose_option_by_rate_id_or_a_single_type() -> None:
    pickup = DeliveryOption(rate_id="local_pickup:3", method_id="local_pickup", instance_id=3, title="P", price=0)
    express = FLAT.model_copy(update={"rate_id": "flat_rate:5", "instance_id": 5})
    assert choose_option([FLAT, pickup], "flat_rate") == FLAT
    assert choose_option([FLAT, express], "flat_rate:5") == express
    with pytest.raises(InvalidRequest):
        choose_option([FLAT, express], "flat_rate")
    with pytest.raises(InvalidRequest):
        choose_option([FLAT], "local_pickup:3")


def test_delivery_confirmed_from_the_answer() -> None:
    line = {"method_id": "flat_rate", "instance_id": "4", "total": "12.50"}
    confirm_delivery({"shipping_lines": [line]}, FLAT)
    with pytest.raises(ChangeNotApplied):
        confirm_delivery({"shipping_lines": [line, line]}, FLAT)
    with pytest.raises(ChangeNotApplied):
        confirm_delivery({"shipping_lines": [{**line, "total": "0.00"}]}, FLAT)


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
