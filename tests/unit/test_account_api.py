"""The account API's edge without AWS or HTTP: every action has one presenter, answers keep Reactive
Account's shapes (timestamps, meta maps, no order key, price HTML), every answer fits the model the OpenAPI
document shows, and the failure shape."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import TypeAdapter

from tests.unit.account_samples import SUB
from woo_backend.api.account import PRESENTERS, account_error, action_name, present
from woo_backend.api.account_models import Failure
from woo_backend.api.account_shape import price_html, shape_order, with_timestamps
from woo_backend.domain.account.errors import MissingAction, NotYours, TooManyMails
from woo_backend.domain.account.orders import with_subscriptions
from woo_backend.domain.account.results import Delivery, Page
from woo_backend.domain.account.shipping import DeliveryOption
from woo_backend.services.account import service  # noqa: F401 - importing it registers every action
from woo_backend.services.account.registry import ACTIONS

ORDER: dict[str, Any] = {
    "id": 45,
    "customer_id": 1,
    "status": "completed",
    "order_key": "wc_order_secret",
    "date_created": "2026-11-23T11:00:00",
    "date_created_gmt": "2026-11-23T10:00:00",
    "meta_data": [{"key": "_stripe_id", "value": "x"}, {"key": "gift", "value": "yes"}],
    "line_items": [{"id": 1, "product_id": 10, "meta_data": [{"key": "size", "value": "M"}]}],
}
SUBSCRIPTION: dict[str, Any] = {
    **SUB,
    "parent_id": 45,
    "currency": "EUR",
    "meta_data": [{"id": 1, "key": "door", "value": "12"}],
    "line_items": [{"id": 50101, "product_id": 13, "meta_data": []}],
}
CUSTOMER: dict[str, Any] = {
    "id": 1,
    "email": "alice@example.com",
    "date_created_gmt": "2026-08-01T10:00:00",
    "meta_data": [{"id": 7, "key": "nickname", "value": "al"}, {"id": 8, "key": "_session", "value": "s"}],
}
PRODUCT: dict[str, Any] = {"id": 14, "name": "Tea box", "price": "28.00", "type": "subscription", "meta_data": []}
PICKUP = DeliveryOption(rate_id="local_pickup:3", method_id="local_pickup", instance_id=3, title="P", price=Decimal(0))
WITH_SUBSCRIPTION = with_subscriptions(ORDER, [SUBSCRIPTION])

# What each action's service function returns, as many ways as it can: the answers must fit their models.
FOUND: dict[str, list[Any]] = {
    "get_orders": [WITH_SUBSCRIPTION, Page((WITH_SUBSCRIPTION,), 3, 0, 10), Page((), 3, 500, 10)],
    "get_subscriptions": [SUBSCRIPTION, Page((SUBSCRIPTION,), 1, 0, 10), Page((), 0, 0, 10)],
    "get_user_info": [CUSTOMER],
    "get_exchange_products": [[PRODUCT], []],
    "get_exchange_intervals": [["2_week", "1_month"], []],
    "get_subscription_delivery": [Delivery((PICKUP,), "EUR"), Delivery((), "EUR")],
    "set_user_info": [CUSTOMER],
    "set_subscription_status": [SUBSCRIPTION],
    "set_next_delivery_date": [SUBSCRIPTION],
    "set_new_interval": [SUBSCRIPTION],
    "set_order_info": [WITH_SUBSCRIPTION],
    "set_subscription_info": [SUBSCRIPTION],
    "set_subscription_delivery": [SUBSCRIPTION],
    "send_mail": ["0100018d-message-id"],
    "describe": [tuple(ACTIONS.values())],
}


def test_every_action_has_one_presenter() -> None:
    assert set(PRESENTERS) == set(ACTIONS) == set(FOUND)


@pytest.mark.parametrize(("name", "found"), [(n, f) for n, founds in FOUND.items() for f in founds])
def test_every_answer_fits_its_documented_model(name: str, found: Any) -> None:
    TypeAdapter(PRESENTERS[name].model).validate_python(present(name, found))


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


def test_orders_hide_protected_meta_and_the_order_key() -> None:
    shaped = shape_order(with_subscriptions(ORDER, [{"id": 501, "parent_id": 45}, {"id": 502, "parent_id": 47}]))
    assert "order_key" not in shaped
    assert shaped["date_created"] == 1795428000
    assert shaped["meta_data"] == {"gift": "yes"}
    assert shaped["line_items"][0]["meta_data"] == {"size": "M"}
    assert [s["id"] for s in shaped["subscriptions"]] == [501]


def test_subscriptions_show_their_interval_and_meta_as_a_map() -> None:
    shaped = present("get_subscriptions", SUBSCRIPTION)
    next_payment = int(datetime(2026, 11, 30, 9, 15, tzinfo=UTC).timestamp())  # SUB's next_payment_date_gmt
    assert (shaped["interval"], shaped["meta_data"], shaped["next_payment_date"]) == (
        "4_week",
        {"door": "12"},
        next_payment,
    )
    assert "next_payment_date_gmt" not in shaped


def test_pages_and_empty_answers() -> None:
    assert present("get_orders", Page((WITH_SUBSCRIPTION,), 3, 2, 1)).keys() == {
        "orders",
        "total",
        "offset",
        "pagesize",
    }
    for name, empty in [
        ("get_orders", Page((), 3, 500, 10)),
        ("get_exchange_products", []),
        ("get_exchange_intervals", []),
        ("get_subscription_delivery", Delivery((), "EUR")),
    ]:
        assert present(name, empty) == {"result": False}
    assert present("send_mail", "message-id") == {"result": True}


def test_delivery_methods_carry_wc_price_html() -> None:
    flat = PICKUP.model_copy(update={"rate_id": "flat_rate:1", "title": "Colissimo", "price": Decimal("5")})
    assert present("get_subscription_delivery", Delivery((flat,), "EUR")) == [
        {
            "method_id": "flat_rate:1",
            "title": "Colissimo",
            "price": "5.00",
            "price_html": '<span class="woocommerce-Price-amount amount"><bdi>5.00&nbsp;&euro;</bdi></span>',
        }
    ]
    assert (
        price_html(Decimal("12.5"), "USD")
        == '<span class="woocommerce-Price-amount amount"><bdi>&#36;12.50</bdi></span>'
    )
    assert price_html(Decimal("1"), "<X>").endswith("1.00&nbsp;&lt;X&gt;</bdi></span>")  # an unknown code, escaped


def test_describe_lists_every_action_with_its_request_names() -> None:
    described = present("describe", tuple(ACTIONS.values()))["actions"]
    assert [a["action"] for a in described] == list(ACTIONS)
    send_mail = next(a for a in described if a["action"] == "send_mail")
    assert send_mail["writes"] is True
    assert {p["name"]: p["required"] for p in send_mail["params"]} == {"from": True, "topic": True, "content": True}


def test_failures_have_reactive_accounts_shape() -> None:
    for error, status in [(NotYours("this order belongs to another customer"), 403), (TooManyMails("slow down"), 429)]:
        code, body = account_error(error)
        assert code == status
        assert body == {"result": False, "error": error.message, "code": error.code}
        Failure.model_validate(body)


@pytest.mark.parametrize("fields", [{}, {"action": ""}, {"action": "  "}, {"action": 3}])
def test_an_action_is_required(fields: dict[str, Any]) -> None:
    with pytest.raises(MissingAction):
        action_name(fields)
    assert action_name({"action": " get_orders "}) == "get_orders"
