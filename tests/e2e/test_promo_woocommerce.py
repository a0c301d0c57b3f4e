"""Promo codes against WooCommerce as it really behaves: its time zone, and coupons ``?code=`` cannot see.

The WooCommerce simulator runs in its default site time zone (Europe/Paris, not UTC) and, like WooCommerce,
reads a ``date_expires`` without an offset in that zone; ``GET /coupons?code=`` finds only a published
coupon, and a draft's code does not stop a second coupon with the same code.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.e2e import web
from tests.e2e.conftest import LocalStack, start_stack

pytestmark = pytest.mark.e2e

WOO_COUPONS = "/wp-json/wc/v3/coupons"
SITE_ZONE = "America/New_York"  # -05:00 / -04:00: a zone where a forgotten offset moves the expiry


@pytest.fixture(scope="module")
def shop_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    workdir: Path = tmp_path_factory.mktemp("promo-woo")
    with start_stack(workdir, {"WOO_SIM_TIMEZONE": SITE_ZONE, "PROMO_INTERVALS_CACHE_SECONDS": "0"}) as running:
        yield running


@pytest.fixture
def admin(shop_stack: LocalStack) -> Iterator[httpx.Client]:
    with shop_stack.admin as client:
        yield client


@pytest.fixture(autouse=True)
def no_faults_left(shop_stack: LocalStack) -> Iterator[None]:
    yield
    shop_stack.clear_faults()


def coupons(stack: LocalStack, code: str) -> list[dict[str, Any]]:
    return [c for c in stack.woo_state()["coupons"].values() if c["code"] == code.lower()]


def new_code() -> str:
    return f"TZ-{secrets.token_hex(4).upper()}"


def lose_the_next_coupon_create(stack: LocalStack) -> None:
    """WooCommerce creates the coupon, then the answer never arrives (a 502 after the change)."""
    stack.set_faults("woocommerce", rules=[{"method": "POST", "path": WOO_COUPONS, "mode": "drop", "times": 1}])


# ------------------------------------------------------------------ expiry
@pytest.mark.parametrize("expires_at", ["2027-01-15T23:30:00Z", "2027-07-01T08:00:00+02:00"])
def test_coupon_expiry_is_the_intended_instant_in_a_non_utc_shop(
    shop_stack: LocalStack, admin: httpx.Client, expires_at: str
) -> None:
    name = new_code()
    created = admin.post("/promo/v1/codes", json={"code": name, "percentage": "10", "expires_at": expires_at})
    assert created.status_code == 201
    assert created.json()["sync"]["woocommerce"]["status"] == "synced"
    [made] = coupons(shop_stack, name)
    intended = datetime.fromisoformat(expires_at.replace("Z", "+00:00"))
    assert datetime.fromisoformat(made["date_expires_gmt"]).replace(tzinfo=UTC) == intended
    # The shop shows it on its own clock: the same instant.
    local = datetime.fromisoformat(made["date_expires"]).replace(tzinfo=ZoneInfo(SITE_ZONE))
    assert local == intended


def test_an_automatic_code_expires_when_its_answer_says(shop_stack: LocalStack) -> None:
    body = {"cart_id": f"cart-{secrets.token_hex(6)}", "cart_total": "120.00", "currency": "EUR"}
    quoted = web.post(f"{shop_stack.api}/promo/v1/auto", json=body, timeout=30).json()
    assert quoted["eligible"] is True
    [made] = coupons(shop_stack, quoted["code"])
    expires = datetime.fromisoformat(quoted["expires_at"])
    assert datetime.fromisoformat(made["date_expires_gmt"]).replace(tzinfo=UTC) == expires


def test_a_retired_code_is_expired_now_not_hours_later(shop_stack: LocalStack, admin: httpx.Client) -> None:
    name = new_code()
    admin.post("/promo/v1/codes", json={"code": name, "percentage": "10"}).raise_for_status()
    admin.delete(f"/promo/v1/codes/{name}").raise_for_status()
    [made] = coupons(shop_stack, name)
    expired_at = datetime.fromisoformat(made["date_expires_gmt"]).replace(tzinfo=UTC)
    assert datetime.now(UTC) - timedelta(minutes=1) < expired_at <= datetime.now(UTC)


def test_a_reactivated_code_without_expiry_no_longer_expires(shop_stack: LocalStack, admin: httpx.Client) -> None:
    # WooCommerce skips a null date_expires (prepare_object_for_database(): ``! is_null( $value )``): the retired
    # code's past expiry must be cleared with "" or the published coupon stays expired.
    name = new_code()
    admin.post("/promo/v1/codes", json={"code": name, "percentage": "10"}).raise_for_status()
    admin.delete(f"/promo/v1/codes/{name}").raise_for_status()
    back = admin.patch(f"/promo/v1/codes/{name}", json={"active": True})
    assert (back.status_code, back.json()["sync"]["woocommerce"]["status"]) == (200, "synced")
    [made] = coupons(shop_stack, name)
    assert (made["status"], made["date_expires"], made["date_expires_gmt"]) == ("publish", None, None)


# ------------------------------------------------------------------ lost creates
@pytest.mark.parametrize("active", [True, False], ids=["published", "draft"])
def test_a_lost_coupon_create_retried_by_the_sync_leaves_one_coupon(
    shop_stack: LocalStack, admin: httpx.Client, active: bool
) -> None:
    name = new_code()
    lose_the_next_coupon_create(shop_stack)
    created = admin.post("/promo/v1/codes", json={"code": name, "percentage": "12", "active": active})
    assert created.status_code == 201
    assert created.json()["sync"]["woocommerce"]["status"] == "pending"
    [made] = coupons(shop_stack, name)  # WooCommerce made it; the service never heard
    assert made["status"] == ("publish" if active else "draft")

    shop_stack.run_schedule("PromoSyncFunction")
    shown = admin.get(f"/promo/v1/codes/{name}").json()["sync"]["woocommerce"]
    assert (shown["status"], shown["id"]) == ("synced", str(made["id"]))
    assert [c["id"] for c in coupons(shop_stack, name)] == [made["id"]]


def test_a_draft_lost_after_a_failed_first_attempt_is_found_too(shop_stack: LocalStack, admin: httpx.Client) -> None:
    name = new_code()
    shop_stack.set_faults("woocommerce", rules=[{"method": "POST", "path": WOO_COUPONS, "mode": "500", "times": 1}])
    admin.post("/promo/v1/codes", json={"code": name, "percentage": "7"}).raise_for_status()
    assert not coupons(shop_stack, name)
    lose_the_next_coupon_create(shop_stack)
    admin.delete(f"/promo/v1/codes/{name}").raise_for_status()  # inactive now: created as a draft, answer lost
    [draft] = coupons(shop_stack, name)
    assert draft["status"] == "draft"

    shop_stack.run_schedule("PromoSyncFunction")
    shop_stack.run_schedule("PromoSyncFunction")
    assert [c["id"] for c in coupons(shop_stack, name)] == [draft["id"]]
    assert admin.get(f"/promo/v1/codes/{name}").json()["sync"]["woocommerce"]["status"] == "synced"
