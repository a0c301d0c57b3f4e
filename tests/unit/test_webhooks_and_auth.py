from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest
from pydantic import SecretStr

from tests.fakes import FakeShop
from woo_backend.auth import (
    account_signature,
    mint_account_credentials,
    require_api_key,
    require_bearer,
    verify_account_signature,
)
from woo_backend.bootstrap.common import webhook_watch
from woo_backend.errors import Unauthorized, UpstreamUnavailable
from woo_backend.scheduled import watch_webhooks
from woo_backend.services.webhooks import (
    BALANCE_WEBHOOK_PATH,
    CREDITS_WEBHOOK_PATH,
    WantedWebhook,
    WebhookWatch,
    ensure_webhooks,
    wanted_webhooks,
)
from woo_backend.webhook_signature import (
    is_webhook_ping,
    verify_webhook_signature,
    webhook_signature,
    wp_specialchars_decode,
)
from woo_backend.woocommerce import Webhook


def _sign(key: bytes, body: bytes) -> str:
    """The signature computed from first principles, to check the layer's against."""
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()


def test_webhook_signature_is_base64_hmac_sha256_of_the_raw_body() -> None:
    body = b'{"id":45,"status":"completed"}'
    expected = _sign(b"s3cret", body)
    assert webhook_signature(body, "s3cret") == expected
    assert verify_webhook_signature(body, expected, "s3cret")
    assert not verify_webhook_signature(body + b" ", expected, "s3cret")
    assert not verify_webhook_signature(body, expected, "other")
    assert not verify_webhook_signature(body, None, "s3cret")
    assert not verify_webhook_signature(body, "", "s3cret")


def test_webhook_secret_is_decoded_as_wordpress_does_not_as_html() -> None:
    body = b"{}"
    assert verify_webhook_signature(body, _sign(b"a&b", body), "a&amp;b")
    # wp_specialchars_decode() knows no other named entity: this secret signs as written.
    assert verify_webhook_signature(body, _sign(b"a&eacute;b", body), "a&eacute;b")
    assert not verify_webhook_signature(body, _sign("aéb".encode(), body), "a&eacute;b")


@pytest.mark.parametrize(
    ("secret", "decoded"),
    [
        ("", ""),
        ("plain-secret", "plain-secret"),
        ("a&amp;b", "a&b"),
        ("a&eacute;b", "a&eacute;b"),
        ("&apos;&AMP;&nbsp;&#233;&#xE9;", "&apos;&AMP;&nbsp;&#233;&#xE9;"),
        ("&lt;&gt;&quot;&#039;", "<>\"'"),
        ("&#39;&#0039;&#x27;&#X27;&#x0027;", "'" * 5),
        ("&#34;&#034;&#x22;&#X022;", '"' * 4),
        ("&#60;&#060;&#0062;&#38;&#x26;&#X26;", "<<>&&&"),
        ("&#x3C;&#x3E;", "&#x3C;&#x3E;"),  # hexadecimal < and > are not in WordPress's table
        ("&amp;lt;", "&lt;"),  # one strtr() pass: what a replacement produced is not decoded again
        ("&amp;amp;", "&amp;"),
        ("a&b&", "a&b&"),
    ],
)
def test_wp_specialchars_decode_matches_wordpress(secret: str, decoded: str) -> None:
    # Expected values read off WordPress's own tables (wp-includes/formatting.php, wp_specialchars_decode():
    # $single/$double/$others and their *_preg).
    assert wp_specialchars_decode(secret) == decoded
    assert webhook_signature(b"x", secret) == _sign(decoded.encode(), b"x")


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        ({}, b"webhook_id=12", True),
        ({"X-WC-Webhook-Topic": "order.updated"}, b"webhook_id=12", False),
        ({}, b"webhook_id=abc", False),
        ({}, b"webhook_id=1&x=2", False),
        ({}, b'{"id": 1}', False),
        ({}, b"", False),
    ],
)
def test_ping_detection(headers: dict[str, str], body: bytes, expected: bool) -> None:
    assert is_webhook_ping(headers, body) is expected


def test_account_credentials_round_trip_and_failures() -> None:
    secret = SecretStr("signing-secret")
    creds = mint_account_credentials(7, 1, "signing-secret")
    verify_account_signature(creds["UID"], creds["blog"], creds["nonce"], creds["signature"], secret)
    with pytest.raises(Unauthorized, match="bad signature"):
        verify_account_signature("8", creds["blog"], creds["nonce"], creds["signature"], secret)
    with pytest.raises(Unauthorized, match="bad signature"):
        verify_account_signature(creds["UID"], creds["blog"], creds["nonce"], creds["signature"], SecretStr("other"))
    expired_nonce = f"{int(time.time()) - 5}.abcd"
    expired_sig = account_signature("7", "1", expired_nonce, "signing-secret")
    with pytest.raises(Unauthorized, match="expired"):
        verify_account_signature("7", "1", expired_nonce, expired_sig, secret)
    malformed = "soon.abcd"
    with pytest.raises(Unauthorized, match="malformed"):
        verify_account_signature("7", "1", malformed, account_signature("7", "1", malformed, "signing-secret"), secret)


def test_api_keys_and_bearer() -> None:
    keys = (SecretStr("key-one"), SecretStr("key-two"))
    require_api_key({"X-Api-Key": "key-two"}, keys)
    require_api_key({}, ())  # no keys configured: open
    with pytest.raises(Unauthorized):
        require_api_key({}, keys)
    with pytest.raises(Unauthorized):
        require_api_key({"x-api-key": "key-three"}, keys)
    require_bearer({"authorization": "Bearer admin"}, SecretStr("admin"))
    for value in ("", "Bearer", "Bearer wrong", "Basic admin", "admin"):
        with pytest.raises(Unauthorized):
            require_bearer({"Authorization": value}, SecretStr("admin"))


# ------------------------------------------------------------------ the shop's webhooks (service)
BASE = "https://api.example.com"


def _hook(hook_id: int, topic: str, path: str, status: str = "active", base: str = BASE) -> Webhook:
    return Webhook(id=hook_id, name="", status=status, topic=topic, delivery_url=base + path)


def test_the_topics_set_up_are_the_ones_the_webhook_route_handles() -> None:
    assert [(w.topic, w.delivery_url) for w in wanted_webhooks(BASE + "/", [CREDITS_WEBHOOK_PATH])] == [
        ("order.created", BASE + CREDITS_WEBHOOK_PATH),
        ("order.updated", BASE + CREDITS_WEBHOOK_PATH),
    ]


def test_the_watch_turns_disabled_and_paused_webhooks_back_on_and_reports_missing_ones() -> None:
    shop = FakeShop(
        [
            _hook(1, "order.created", CREDITS_WEBHOOK_PATH, "paused"),
            _hook(2, "order.updated", CREDITS_WEBHOOK_PATH + "/", "disabled"),  # a trailing slash is the same URL
            _hook(3, "order.updated", BALANCE_WEBHOOK_PATH, "disabled"),  # another sync's
            _hook(4, "order.updated", CREDITS_WEBHOOK_PATH, "disabled", base="https://other.example.com"),
            _hook(5, "order.deleted", CREDITS_WEBHOOK_PATH, "disabled"),  # not a topic we need
        ]
    )
    report = WebhookWatch(shop, wanted_webhooks(BASE, [CREDITS_WEBHOOK_PATH])).check()
    assert [(r.webhook_id, r.previous_status) for r in report.reactivated] == [(1, "paused"), (2, "disabled")]
    assert report.missing == []
    assert shop.webhook_writes == [("PUT", 1, {"status": "active"}), ("PUT", 2, {"status": "active"})]
    assert {h.id: h.status for h in shop.webhooks} == {
        1: "active",
        2: "active",
        3: "disabled",
        4: "disabled",
        5: "disabled",
    }
    again = WebhookWatch(shop, wanted_webhooks(BASE, [CREDITS_WEBHOOK_PATH])).check()
    assert (again.healthy, again.reactivated, shop.webhook_writes[2:]) == (2, [], [])


def test_the_watch_reports_a_missing_webhook_without_creating_it() -> None:
    shop = FakeShop([_hook(1, "order.updated", BALANCE_WEBHOOK_PATH)])
    report = WebhookWatch(shop, wanted_webhooks(BASE, [BALANCE_WEBHOOK_PATH])).check()
    assert [(m.topic, m.delivery_url) for m in report.missing] == [("order.created", BASE + BALANCE_WEBHOOK_PATH)]
    assert report.counts() == {"healthy": 1, "reactivated": 0, "missing": 1, "still_off": 0}
    assert shop.webhook_writes == []


def test_a_webhook_that_does_not_turn_back_on_is_reported_as_still_off() -> None:
    shop = FakeShop([_hook(1, "order.updated", BALANCE_WEBHOOK_PATH, "disabled")], refuse_status=True)
    report = WebhookWatch(shop, [WantedWebhook("order.updated", BASE + BALANCE_WEBHOOK_PATH)]).check()
    assert (report.reactivated, [s.webhook_id for s in report.still_off]) == ([], [1])


def test_setup_creates_what_is_missing_and_never_duplicates() -> None:
    shop = FakeShop([_hook(7, "order.updated", CREDITS_WEBHOOK_PATH, "disabled")])
    wanted = wanted_webhooks(BASE)
    first = ensure_webhooks(shop, wanted, "s3cret")
    assert sorted((a.action, a.topic, a.delivery_url) for a in first) == sorted(
        [("updated", "order.updated", BASE + CREDITS_WEBHOOK_PATH)]
        + [
            ("created", w.topic, w.delivery_url)
            for w in wanted
            if w.topic != "order.updated" or "credits" not in w.delivery_url
        ]
    )
    second = ensure_webhooks(shop, wanted, "s3cret")
    assert {a.action for a in second} == {"updated"}
    assert sorted((h.topic, h.delivery_url) for h in shop.webhooks) == sorted((w.topic, w.delivery_url) for w in wanted)
    assert {h.status for h in shop.webhooks} == {"active"}
    assert set(shop.webhook_secrets.values()) == {"s3cret"}


def test_the_watch_uses_the_sync_client_when_given_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_BASE_URL", BASE + "/")
    shop = FakeShop()
    watch = webhook_watch([CREDITS_WEBHOOK_PATH], shop)
    assert watch is not None
    assert watch.client is shop
    assert [w.delivery_url for w in watch.wanted] == [BASE + CREDITS_WEBHOOK_PATH] * 2
    monkeypatch.delenv("WEBHOOK_BASE_URL")
    assert webhook_watch([CREDITS_WEBHOOK_PATH], shop) is None


def test_the_sync_reports_webhooks_and_survives_a_failed_check(caplog: pytest.LogCaptureFixture) -> None:
    shop = FakeShop([_hook(1, "order.updated", CREDITS_WEBHOOK_PATH, "disabled")])
    counts = watch_webhooks(WebhookWatch(shop, wanted_webhooks(BASE, [CREDITS_WEBHOOK_PATH])))
    assert counts == {"healthy": 0, "reactivated": 1, "missing": 1, "still_off": 0}
    assert any("turned back on" in m for m in caplog.messages)
    assert any("webhook missing" in m for m in caplog.messages)

    class Broken(FakeShop):
        def list_webhooks(self) -> list[Webhook]:
            raise UpstreamUnavailable("woocommerce", "answered 503")

    assert watch_webhooks(WebhookWatch(Broken(), wanted_webhooks(BASE))) == {"check_failed": 1}
    assert any("webhook check failed" in m for m in caplog.messages)
