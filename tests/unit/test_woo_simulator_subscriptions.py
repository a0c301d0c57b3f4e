"""The WooCommerce simulator's subscriptions and shipping behave as WooCommerce Subscriptions' and WooCommerce's
own REST controllers do (see the sources named in ``local/simulators/woo_subscriptions.py``,
``woo_subscription_rules.py`` and ``woo_shipping.py``).

Driven through werkzeug's test client over ``https`` (WooCommerce takes Basic auth only over TLS).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from werkzeug.test import Client, TestResponse

from local.simulators.woocommerce import CONSUMER_KEY, CONSUMER_SECRET, PREFIX, WooCommerceSimulator

AUTH = {"Authorization": "Basic " + base64.b64encode(f"{CONSUMER_KEY}:{CONSUMER_SECRET}".encode()).decode()}


class Shop:
    def __init__(self) -> None:
        self.sim = WooCommerceSimulator()
        self.client = Client(self.sim)

    def get(self, path: str) -> TestResponse:
        return self.client.get(f"{PREFIX}{path}", headers=AUTH, base_url="https://shop.example")

    def put(self, path: str, body: dict[str, Any]) -> TestResponse:
        return self.client.put(f"{PREFIX}{path}", json=body, headers=AUTH, base_url="https://shop.example")

    def create(self, **fields: Any) -> dict[str, Any]:
        answer = self.client.post("/_sim/subscriptions", json=fields, base_url="https://shop.example")
        assert answer.status_code == 201, answer.text
        return dict(answer.json)

    def sub(self, sid: int) -> dict[str, Any]:
        return dict(self.sim.subscriptions[sid])


@pytest.fixture
def shop() -> Shop:
    return Shop()


def gmt(delta: timedelta) -> str:
    return (datetime.now(UTC).replace(microsecond=0) + delta).strftime("%Y-%m-%dT%H:%M:%S")


def mysql(delta: timedelta) -> str:
    return (datetime.now(UTC).replace(microsecond=0) + delta).strftime("%Y-%m-%d %H:%M:%S")


# ------------------------------------------------------------------ status
def test_transition_status_is_applied_as_given_cancelled_ends_the_paid_period(shop: Shop) -> None:
    next_payment = shop.sub(501)["next_payment_date_gmt"]
    answer = shop.put("/subscriptions/501", {"transition_status": "cancelled"})
    assert answer.status_code == 200
    body = answer.json
    assert body["status"] == "cancelled"  # no silent pending-cancel
    assert body["next_payment_date_gmt"] == ""
    assert body["end_date_gmt"]
    assert body["end_date_gmt"] < next_payment  # ends now, not at the paid date
    assert body["cancelled_date_gmt"]


def test_transition_to_pending_cancel_keeps_the_prepaid_term_as_end_date(shop: Shop) -> None:
    next_payment = shop.sub(501)["next_payment_date_gmt"]
    body = shop.put("/subscriptions/501", {"transition_status": "pending-cancel"}).json
    assert body["status"] == "pending-cancel"
    assert body["end_date_gmt"] == next_payment
    assert body["next_payment_date_gmt"] == ""
    assert body["cancelled_date_gmt"]
    # Reactivated before the end (a gateway that supports it): the next payment comes back.
    back = shop.put("/subscriptions/501", {"transition_status": "active"}).json
    assert (back["status"], back["next_payment_date_gmt"], back["end_date_gmt"]) == ("active", next_payment, "")


def test_status_only_sets_it_no_rule_no_date(shop: Shop) -> None:
    before = shop.sub(501)
    body = shop.put("/subscriptions/501", {"status": "pending"}).json  # update_status() would refuse this
    assert body["status"] == "pending"
    assert body["next_payment_date_gmt"] == before["next_payment_date_gmt"]
    assert body["end_date_gmt"] == ""


def test_a_refused_transition_is_a_500_with_wordpress_generic_body_and_a_note(shop: Shop) -> None:
    shop.put("/subscriptions/501", {"transition_status": "pending-cancel"})
    before = shop.sub(501)
    answer = shop.put(
        "/subscriptions/501",
        {"transition_status": "on-hold", "meta_data": [{"key": "status_reason", "value": "x"}]},
    )
    assert answer.status_code == 500
    assert answer.json["code"] == "internal_server_error"
    assert "critical error" in answer.json["message"]
    assert "on-hold" not in answer.text  # WooCommerce's message is not in the answer...
    after = shop.sub(501)
    assert after["status"] == "pending-cancel"
    assert after["meta_data"] == before["meta_data"]  # ...nothing else of the request saved...
    notes = shop.get("/subscriptions/501/notes").json
    assert notes[0]["note"] == 'Unable to change subscription status to "on-hold".'  # ...it is in the notes


def test_paypal_standard_cannot_reactivate_a_pending_cancel_subscription(shop: Shop) -> None:
    sub = shop.create(
        customer_id=1,
        status="pending-cancel",
        payment_method="paypal",
        next_payment_date_gmt="",
        end_date_gmt=gmt(timedelta(days=10)),
    )
    answer = shop.put(f"/subscriptions/{sub['id']}", {"transition_status": "active"})
    assert answer.status_code == 500
    assert shop.sub(sub["id"])["status"] == "pending-cancel"


def test_an_unknown_status_is_refused_by_the_schema(shop: Shop) -> None:
    answer = shop.put("/subscriptions/501", {"transition_status": "paused"})
    assert answer.status_code == 400
    assert answer.json["code"] == "rest_invalid_param"


def test_on_hold_with_nothing_to_pay_may_go_pending_cancel_but_not_with_a_failed_renewal(shop: Shop) -> None:
    shop.put("/subscriptions/501", {"transition_status": "on-hold"})
    assert shop.put("/subscriptions/501", {"transition_status": "pending-cancel"}).json["status"] == "pending-cancel"
    other = shop.create(customer_id=1, status="on-hold")
    shop.sim.new_order(
        {
            "customer_id": 1,
            "status": "failed",
            "line_items": [{"product_id": 13}],
            "meta_data": [{"key": "_subscription_renewal", "value": str(other["id"])}],
        }
    )
    related = shop.get(f"/subscriptions/{other['id']}/orders").json
    assert {o["order_type"] for o in related} == {"parent_order", "renewal_order"}
    assert shop.put(f"/subscriptions/{other['id']}", {"transition_status": "pending-cancel"}).status_code == 500


def test_an_unknown_subscription_is_400_on_update(shop: Shop) -> None:
    assert shop.put("/subscriptions/999", {"status": "active"}).status_code == 400
    assert shop.get("/subscriptions/999").status_code == 404


# ------------------------------------------------------------------ dates
def test_next_payment_date_is_written_in_mysql_format_gmt(shop: Shop) -> None:
    body = shop.put("/subscriptions/501", {"next_payment_date": mysql(timedelta(days=30))}).json
    assert body["next_payment_date_gmt"] == gmt(timedelta(days=30))


def test_a_unix_timestamp_is_a_date_too(shop: Shop) -> None:
    # wcs_is_timestamp(): update_dates() takes a timestamp (an integer or its string) as it is.
    moment = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    for value in (int(moment.timestamp()), str(int(moment.timestamp()))):
        body = shop.put("/subscriptions/501", {"next_payment_date": value}).json
        assert body["next_payment_date_gmt"] == moment.strftime("%Y-%m-%dT%H:%M:%S")


def test_gmt_keys_are_ignored_on_write_and_still_200(shop: Shop) -> None:
    before = shop.sub(501)["next_payment_date_gmt"]
    answer = shop.put("/subscriptions/501", {"next_payment_date_gmt": gmt(timedelta(days=30))})
    assert answer.status_code == 200
    assert answer.json["next_payment_date_gmt"] == before


@pytest.mark.parametrize("value", ["2030-01-15T10:00:00", "2030-02-30 10:00:00", "tomorrow"])
def test_other_date_formats_are_a_400(shop: Shop, value: str) -> None:
    before = shop.sub(501)["next_payment_date_gmt"]
    answer = shop.put("/subscriptions/501", {"next_payment_date": value})
    assert answer.status_code == 400
    assert answer.json["code"] == "woocommerce_rest_invalid_payment_data"
    assert 'The date must be of the format: "Y-m-d H:i:s"' in answer.json["message"]
    assert shop.sub(501)["next_payment_date_gmt"] == before


def test_dates_out_of_order_are_a_400(shop: Shop) -> None:
    sub = shop.create(customer_id=1, end_date_gmt=gmt(timedelta(days=20)))
    answer = shop.put(f"/subscriptions/{sub['id']}", {"next_payment_date": mysql(timedelta(days=40))})
    assert answer.status_code == 400
    assert "must occur after the next payment date" in answer.json["message"]


# ------------------------------------------------------------------ shipping
def test_shipping_methods_are_types_without_cost(shop: Shop) -> None:
    methods = shop.get("/shipping_methods").json
    assert [m["id"] for m in methods] == ["flat_rate", "free_shipping", "local_pickup"]
    assert all(set(m) == {"id", "title", "description"} for m in methods)


def test_zones_locations_and_method_instances(shop: Shop) -> None:
    zones = shop.get("/shipping/zones").json
    assert (zones[0]["id"], zones[0]["name"]) == (0, "Locations not covered by your other zones")
    assert [z["name"] for z in zones[1:]] == ["France", "Europe"]
    assert shop.get("/shipping/zones/1/locations").json == [{"code": "FR", "type": "country"}]
    assert shop.get("/shipping/zones/2/locations").json == [{"code": "EU", "type": "continent"}]
    france = shop.get("/shipping/zones/1/methods").json
    assert [m["method_id"] for m in france] == ["flat_rate", "free_shipping", "local_pickup"]
    flat = france[0]
    assert (flat["instance_id"], flat["enabled"], flat["settings"]["cost"]["value"]) == (1, True, "5.00")
    free = france[1]
    assert (free["settings"]["requires"]["value"], free["settings"]["min_amount"]["value"]) == ("min_amount", "50.00")
    europe = shop.get("/shipping/zones/2/methods").json
    assert [(m["settings"]["cost"]["value"], m["enabled"]) for m in europe] == [("12.50", True), ("25.00", False)]
    assert shop.get("/shipping/zones/0/methods").json[0]["settings"]["cost"]["value"] == "30.00"
    assert shop.get("/shipping/zones/9/methods").status_code == 404


def test_a_shipping_line_takes_what_is_sent_and_totals_follow(shop: Shop) -> None:
    line = shop.sub(501)["shipping_lines"][0]
    body = shop.put(
        "/subscriptions/501",
        {
            "shipping_lines": [
                {"id": line["id"], "method_id": "flat_rate", "instance_id": "4", "method_title": "X", "total": "7.25"}
            ]
        },
    ).json
    assert [(sl["id"], sl["method_id"], sl["instance_id"], sl["total"]) for sl in body["shipping_lines"]] == [
        (line["id"], "flat_rate", "4", "7.25")
    ]
    assert (body["shipping_total"], body["total"]) == ("7.25", "37.25")


def test_a_shipping_line_without_id_is_added_and_a_null_method_removes(shop: Shop) -> None:
    line = shop.sub(501)["shipping_lines"][0]
    added = shop.put("/subscriptions/501", {"shipping_lines": [{"method_id": "local_pickup", "total": "0"}]}).json
    assert len(added["shipping_lines"]) == 2  # added, not swapped
    assert added["total"] == "35.00"
    removed = shop.put("/subscriptions/501", {"shipping_lines": [{"id": line["id"], "method_id": None}]}).json
    assert [sl["method_id"] for sl in removed["shipping_lines"]] == ["local_pickup"]
    assert removed["total"] == "30.00"
    bad = shop.put("/subscriptions/501", {"shipping_lines": [{"total": "1.00"}]})
    assert (bad.status_code, bad.json["code"]) == (400, "woocommerce_rest_invalid_shipping_item")
