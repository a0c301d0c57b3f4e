"""WooCommerce's URL must be https (or loopback); coupon expiry is an instant; lost coupons are found as drafts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
import respx
from pydantic import SecretStr

from woo_backend.domain.promo import coupon_date, coupon_expiry_confirmed
from woo_backend.http import RetryPolicy
from woo_backend.settings import ConfigurationError, WooCommerceSettings, woocommerce_url
from woo_backend.woocommerce import WooCommerceClient

WOO = "https://shop.test"


# ------------------------------------------------------------------ WOOCOMMERCE_URL
@pytest.mark.parametrize(
    "url",
    [
        "https://shop.example.com",
        "https://shop.example.com/",
        "https://shop.example.com/sub/dir",
        "http://127.0.0.1:8080",
        "http://127.1.2.3",
        "http://localhost:3000",
        "http://LOCALHOST",
        "http://[::1]:8080",
        "http://host.docker.internal:3001",  # sam local start-api on Docker Desktop (make env-json)
    ],
)
def test_https_or_loopback_urls_are_accepted(url: str) -> None:
    assert woocommerce_url(url) == url.rstrip("/")


@pytest.mark.parametrize(
    "url",
    [
        "http://shop.example",
        "http://shop.example.com:443",
        "http://10.0.0.5",
        "http://[::2]",
        "http://localhost.evil.example",
        "http://host.docker.internal.evil.example",
        "ftp://shop.example.com",
        "shop.example.com",
        "https://",
        "https://[::1",
    ],
)
def test_other_urls_are_refused_naming_the_variable(url: str) -> None:
    with pytest.raises(ConfigurationError, match=r"WOOCOMMERCE_URL must be an https:// URL"):
        woocommerce_url(url)


def test_the_cold_start_refuses_a_plain_http_shop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WOOCOMMERCE_URL", "http://shop.example")
    monkeypatch.setenv("WOOCOMMERCE_CONSUMER_KEY", "ck_test")
    monkeypatch.setenv("WOOCOMMERCE_CONSUMER_SECRET", "cs_test")
    with pytest.raises(ConfigurationError, match="WOOCOMMERCE_URL") as refused:
        WooCommerceSettings.from_env()
    assert "cs_test" not in str(refused.value)
    monkeypatch.setenv("WOOCOMMERCE_URL", "https://shop.example/")
    assert WooCommerceSettings.from_env().url == "https://shop.example"


# ------------------------------------------------------------------ coupon expiry
def test_coupon_expiry_is_sent_in_utc_with_z() -> None:
    paris_summer = timezone(timedelta(hours=2))
    assert coupon_date(datetime(2026, 7, 1, 12, 0, tzinfo=paris_summer)) == "2026-07-01T10:00:00Z"
    assert coupon_date(datetime(2026, 7, 1, 10, 0, tzinfo=UTC)) == "2026-07-01T10:00:00Z"


@pytest.mark.parametrize(
    ("sent", "answered", "confirmed"),
    [
        ("2026-07-01T10:00:00Z", "2026-07-01T10:00:00", True),
        ("2026-07-01T10:00:00Z", "2026-07-01T12:00:00", False),  # read in the shop's time zone
        ("", None, True),  # no expiry: sent as "" (a null is skipped by WooCommerce), answered as null
        ("2026-07-01T10:00:00Z", None, False),
        ("", "2026-07-01T10:00:00", False),  # an old expiry left in place
        ("2026-07-01T10:00:00Z", "garbage", False),
    ],
)
def test_the_answered_gmt_expiry_must_be_the_instant_sent(sent: str, answered: str | None, confirmed: bool) -> None:
    assert coupon_expiry_confirmed(sent, answered) is confirmed


# ------------------------------------------------------------------ finding a coupon whose create answer was lost
@pytest.fixture
def woo() -> WooCommerceClient:
    settings = WooCommerceSettings(url=WOO, consumer_key=SecretStr("ck"), consumer_secret=SecretStr("cs"))
    return WooCommerceClient(settings, retry=RetryPolicy(attempts=1, base_delay=0.0))


@respx.mock
def test_find_coupon_searches_every_status_and_keeps_the_exact_code(woo: WooCommerceClient) -> None:
    route = respx.get(f"{WOO}/wp-json/wc/v3/coupons").mock(
        return_value=httpx.Response(
            200,
            json=[
                {"id": 9, "code": "tpm-abcx", "status": "publish"},
                {"id": 7, "code": "tpm-abc", "status": "draft"},
                {"id": 8, "code": "tpm-abc", "status": "draft"},
            ],
            headers={"X-WP-Total": "3", "X-WP-TotalPages": "1"},
        )
    )
    found = woo.find_coupon("TPM-ABC")
    assert found is not None
    assert (found.id, found.status) == (7, "draft")
    params = route.calls[0].request.url.params
    assert (params["search"], params["status"]) == ("TPM-ABC", "any")
    assert "code" not in params  # ?code= would see only a published coupon


@respx.mock
def test_find_coupon_leaves_a_leading_hyphen_out_of_the_search(woo: WooCommerceClient) -> None:
    route = respx.get(f"{WOO}/wp-json/wc/v3/coupons").mock(
        return_value=httpx.Response(200, json=[], headers={"X-WP-Total": "0", "X-WP-TotalPages": "0"})
    )
    assert woo.find_coupon("-AB") is None
    assert woo.find_coupon("---") is None
    assert route.calls[0].request.url.params["search"] == "AB"
    assert "search" not in route.calls[1].request.url.params
