"""Delivery without AWS or HTTP: shipping zone matching, priced methods, the shipping-line change."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest

from tests.unit.account_samples import SUB
from woo_backend.api.account import present
from woo_backend.domain.account.errors import ChangeNotApplied
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
from woo_backend.errors import InvalidRequest
from woo_backend.services.account.service import AccountService


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
            method(8, "flat_rate", 8, cost=""),  # WooCommerce adds no rate for it
            method(9, "flat_rate", 9, cost="3.00", class_cost_12="2.00", no_class_cost=""),  # by the items' classes
            method(10, "flat_rate", 10, cost="4.00", class_cost_12="", no_class_cost=""),  # class costs unset
        ),
    )
    options = delivery_options(zone, SUBSCRIPTION_30)
    assert [(o.rate_id, o.title, o.price) for o in options] == [
        ("flat_rate:1", "Colissimo", Decimal("5.00")),
        ("local_pickup:3", "local_pickup", Decimal("0")),
        ("flat_rate:10", "flat_rate", Decimal("4.00")),
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
    change = delivery_change(SUB, FLAT)
    line = {"id": 5010, "method_id": "flat_rate", "instance_id": "4", "total": "12.50"}
    confirm_delivery({"shipping_lines": [line]}, change)
    with pytest.raises(ChangeNotApplied):
        confirm_delivery({"shipping_lines": [line, {**line, "id": 5011}]}, change)  # added, not swapped
    with pytest.raises(ChangeNotApplied):
        confirm_delivery({"shipping_lines": [{**line, "total": "0.00"}]}, change)
    with pytest.raises(ChangeNotApplied):
        confirm_delivery({"shipping_lines": [{**line, "instance_id": "5"}]}, change)


class CountingShop:
    """WooCommerce's shipping zones and one subscription, counting every read."""

    def __init__(self) -> None:
        self.reads: list[str] = []

    def list_page(self, path: str, params: Mapping[str, Any] | None = None) -> tuple[list[dict[str, Any]], int, int]:
        self.reads.append(path)
        found: list[dict[str, Any]] = {
            "/shipping/zones": [{"id": 0, "order": 0}, {"id": 1, "order": 0}],
            "/shipping/zones/1/locations": [{"code": "FR", "type": "country"}],
            "/shipping/zones/1/methods": [method(1, "flat_rate", 1, title="Colissimo", cost="5.00")],
            "/shipping/zones/0/methods": [method(9, "flat_rate", 1, cost="30.00")],
        }[path]
        return found, len(found), 1

    def get_object(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        self.reads.append(path)
        return {**SUB, "currency": "EUR", "shipping": {"country": "FR", "postcode": "75002"}}

    def write_object(
        self, method: str, path: str, data: Mapping[str, Any], *, repeatable: bool | None = None
    ) -> dict[str, Any]:
        raise AssertionError("a read action wrote")


def test_shipping_zones_are_read_once_per_container_not_per_request() -> None:
    shop = CountingShop()
    service = AccountService(shop, mailer=None, quota=None, mail_limit_per_hour=1)  # type: ignore[arg-type]
    for _ in range(3):
        methods = present(
            "get_subscription_delivery", service.dispatch(1, "get_subscription_delivery", {"subscription_id": 501})
        )
        assert [(m["method_id"], m["price"]) for m in methods] == [("flat_rate:1", "5.00")]
    # Zone 0 has no locations to read (WooCommerce cannot store any for it).
    assert sorted(p for p in shop.reads if p.startswith("/shipping")) == [
        "/shipping/zones",
        "/shipping/zones/0/methods",
        "/shipping/zones/1/locations",
        "/shipping/zones/1/methods",
    ]
    assert shop.reads.count("/subscriptions/501") == 3  # the subscription itself is read every time
