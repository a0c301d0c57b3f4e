"""The WooCommerce simulator's coupons and authentication behave as WooCommerce's own code does.

Each test pins one behaviour the service relies on; the source it follows is named in the simulator.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from werkzeug.test import Client, TestResponse

from local.simulators.woocommerce import CONSUMER_KEY, CONSUMER_SECRET, PREFIX, WooCommerceSimulator

BASIC = {"Authorization": "Basic " + base64.b64encode(f"{CONSUMER_KEY}:{CONSUMER_SECRET}".encode()).decode()}


@pytest.fixture
def sim() -> WooCommerceSimulator:
    return WooCommerceSimulator(local_mode=True, site_timezone="Europe/Paris")


@pytest.fixture
def client(sim: WooCommerceSimulator) -> Client:
    return Client(sim)


def post(client: Client, path: str, body: dict[str, Any]) -> TestResponse:
    return client.post(PREFIX + path, json=body, headers=BASIC)


def get(client: Client, path: str, **params: str) -> TestResponse:
    return client.get(PREFIX + path, query_string=params, headers=BASIC)


# ------------------------------------------------------------------ dates
def test_orders_and_their_notes_show_dates_in_the_site_time_zone_and_as_gmt(client: Client) -> None:
    made = post(client, "/orders", {"line_items": [{"product_id": 12, "quantity": 1}]}).get_json()
    changed = client.put(f"{PREFIX}/orders/{made['id']}", json={"status": "processing"}, headers=BASIC).get_json()
    [note] = get(client, f"/orders/{made['id']}/notes").get_json()
    for shown, field in ((made, "date_created"), (changed, "date_modified"), (note, "date_created")):
        gmt = datetime.fromisoformat(shown[f"{field}_gmt"]).replace(tzinfo=UTC)
        local = datetime.fromisoformat(shown[field]).replace(tzinfo=ZoneInfo("Europe/Paris"))
        assert (local, shown[field] != shown[f"{field}_gmt"]) == (gmt, True), field


def test_the_default_site_time_zone_is_not_utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WOO_SIM_TIMEZONE", raising=False)
    assert str(WooCommerceSimulator().site_timezone) == "Europe/Paris"
    monkeypatch.setenv("WOO_SIM_TIMEZONE", "America/New_York")
    assert str(WooCommerceSimulator().site_timezone) == "America/New_York"


def test_date_expires_without_an_offset_is_read_in_the_site_time_zone(client: Client) -> None:
    made = post(client, "/coupons", {"code": "NAIVE", "date_expires": "2026-07-01T12:00:00"}).get_json()
    assert (made["date_expires"], made["date_expires_gmt"]) == ("2026-07-01T12:00:00", "2026-07-01T10:00:00")


@pytest.mark.parametrize("written", ["2026-07-01T10:00:00Z", "2026-07-01T10:00:00+00:00", "2026-07-01T12:00:00+02:00"])
def test_date_expires_with_an_offset_is_that_instant(client: Client, written: str) -> None:
    made = post(client, "/coupons", {"code": "AWARE", "date_expires": written}).get_json()
    assert (made["date_expires"], made["date_expires_gmt"]) == ("2026-07-01T12:00:00", "2026-07-01T10:00:00")


def test_a_minutes_offset_loses_its_minutes_as_wordpress_reads_it(client: Client) -> None:
    made = post(client, "/coupons", {"code": "INDIA", "date_expires": "2026-01-01T12:00:00+05:30"}).get_json()
    assert made["date_expires_gmt"] == "2026-01-01T07:00:00"  # iso8601_timezone_to_offset() reads +05 only


def test_date_expires_gmt_is_ignored_on_write(client: Client) -> None:
    made = post(client, "/coupons", {"code": "GMTONLY", "date_expires_gmt": "2026-07-01T10:00:00"})
    assert made.status_code == 201
    assert (made.get_json()["date_expires"], made.get_json()["date_expires_gmt"]) == (None, None)
    changed = client.put(
        f"{PREFIX}/coupons/{made.get_json()['id']}", json={"date_expires_gmt": "2026-07-01T10:00:00"}, headers=BASIC
    )
    assert changed.status_code == 200
    assert changed.get_json()["date_expires_gmt"] is None


def test_fields_outside_the_schema_are_ignored(client: Client) -> None:
    made = post(client, "/coupons", {"code": "EXTRA", "expires_at": "2026-07-01T10:00:00Z", "id": 5}).get_json()
    assert "expires_at" not in made
    assert made["id"] != 5
    assert made["date_expires"] is None


def test_a_space_separated_date_with_an_offset_is_still_read_as_site_time(client: Client) -> None:
    made = post(client, "/coupons", {"code": "SPACED", "date_expires": "2026-07-01 10:00:00+00:00"}).get_json()
    assert made["date_expires_gmt"] == "2026-07-01T08:00:00"  # not the ISO shape set_date_prop() honours


# ------------------------------------------------------------------ code lookups
def test_code_finds_only_a_published_coupon_whatever_the_status_asked(client: Client) -> None:
    draft = post(client, "/coupons", {"code": "HIDDEN", "status": "draft"}).get_json()
    assert draft["status"] == "draft"
    assert get(client, "/coupons", code="HIDDEN").get_json() == []
    assert get(client, "/coupons", code="hidden", status="draft").get_json() == []
    assert get(client, "/coupons", code="HIDDEN", status="any").get_json() == []
    published = post(client, "/coupons", {"code": "SHOWN"}).get_json()
    assert [c["id"] for c in get(client, "/coupons", code="shown").get_json()] == [published["id"]]


def test_the_list_shows_published_coupons_unless_status_says_otherwise(client: Client) -> None:
    draft = post(client, "/coupons", {"code": "D-ONE", "status": "draft"}).get_json()
    live = post(client, "/coupons", {"code": "P-ONE"}).get_json()
    assert [c["id"] for c in get(client, "/coupons").get_json()] == [live["id"]]
    assert [c["id"] for c in get(client, "/coupons", status="draft").get_json()] == [draft["id"]]
    assert {c["id"] for c in get(client, "/coupons", status="any").get_json()} == {draft["id"], live["id"]}


def test_search_with_status_any_finds_a_draft_by_its_code(client: Client) -> None:
    draft = post(client, "/coupons", {"code": "TPM-ABC", "status": "draft"}).get_json()
    post(client, "/coupons", {"code": "OTHER", "status": "draft"})
    found = get(client, "/coupons", search="TPM-ABC", status="any").get_json()
    assert [c["id"] for c in found] == [draft["id"]]
    assert get(client, "/coupons", search="TPM-ABC").get_json() == []  # published only by default


def test_a_leading_hyphen_in_search_excludes(client: Client) -> None:
    post(client, "/coupons", {"code": "ABC"})
    post(client, "/coupons", {"code": "XYZ"})
    assert [c["code"] for c in get(client, "/coupons", search="-ABC").get_json()] == ["xyz"]


# ------------------------------------------------------------------ code uniqueness
def test_a_drafts_code_does_not_block_a_new_coupon(client: Client, sim: WooCommerceSimulator) -> None:
    post(client, "/coupons", {"code": "TWICE", "status": "draft"})
    again = post(client, "/coupons", {"code": "twice", "status": "draft"})
    assert again.status_code == 201
    assert [c["code"] for c in sim.coupons.values()].count("twice") == 2


def test_a_published_code_blocks_a_new_coupon(client: Client) -> None:
    post(client, "/coupons", {"code": "ONCE"})
    again = post(client, "/coupons", {"code": "once", "status": "draft"})
    assert again.status_code == 400
    assert again.get_json()["code"] == "woocommerce_rest_coupon_code_already_exists"


def test_a_coupon_keeps_its_own_code_on_update(client: Client) -> None:
    made = post(client, "/coupons", {"code": "MINE"}).get_json()
    same = client.put(f"{PREFIX}/coupons/{made['id']}", json={"code": "MINE", "amount": "5"}, headers=BASIC)
    assert same.status_code == 200


# ------------------------------------------------------------------ authentication
def test_basic_auth_over_plain_http_is_refused_outside_local_mode() -> None:
    strict = Client(WooCommerceSimulator())
    listed = strict.get(f"{PREFIX}/orders", headers=BASIC)
    assert (listed.status_code, listed.get_json()["code"]) == (401, "woocommerce_rest_cannot_view")
    assert "WWW-Authenticate" not in listed.headers  # OAuth was tried, not Basic: no Basic challenge
    by_query = strict.get(
        f"{PREFIX}/orders/45", query_string={"consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET}
    )
    assert (by_query.status_code, by_query.get_json()["message"]) == (401, "Sorry, you cannot view this resource.")
    created = strict.post(f"{PREFIX}/coupons", json={"code": "X"}, headers=BASIC)
    assert (created.status_code, created.get_json()["code"]) == (401, "woocommerce_rest_cannot_create")


def test_basic_auth_over_tls_is_accepted_and_a_wrong_secret_refused() -> None:
    strict = Client(WooCommerceSimulator())
    assert strict.get(f"{PREFIX}/orders/45", headers=BASIC, base_url="https://shop.example").status_code == 200
    wrong = {"Authorization": "Basic " + base64.b64encode(f"{CONSUMER_KEY}:nope".encode()).decode()}
    refused = strict.get(f"{PREFIX}/orders/45", headers=wrong, base_url="https://shop.example")
    assert (refused.status_code, refused.get_json()["code"]) == (401, "woocommerce_rest_authentication_error")
    assert refused.headers["WWW-Authenticate"].startswith("Basic realm=")


def test_local_mode_accepts_basic_auth_over_plain_http(client: Client) -> None:
    assert client.get(f"{PREFIX}/orders/45", headers=BASIC).status_code == 200
    assert client.get(f"{PREFIX}/orders/45").status_code == 401
