from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest
from pydantic import SecretStr

from woo_backend.auth import (
    account_signature,
    mint_account_credentials,
    require_api_key,
    require_bearer,
    verify_account_signature,
)
from woo_backend.errors import Unauthorized
from woo_backend.woocommerce import is_webhook_ping, verify_webhook_signature, webhook_signature


def test_webhook_signature_is_base64_hmac_sha256_of_the_raw_body() -> None:
    body = b'{"id":45,"status":"completed"}'
    expected = base64.b64encode(hmac.new(b"s3cret", body, hashlib.sha256).digest()).decode()
    assert webhook_signature(body, "s3cret") == expected
    assert verify_webhook_signature(body, expected, "s3cret")
    assert not verify_webhook_signature(body + b" ", expected, "s3cret")
    assert not verify_webhook_signature(body, expected, "other")
    assert not verify_webhook_signature(body, None, "s3cret")
    assert not verify_webhook_signature(body, "", "s3cret")


def test_webhook_secret_is_html_entity_decoded_as_woocommerce_does() -> None:
    body = b"{}"
    signed_with_decoded = base64.b64encode(hmac.new(b"a&b", body, hashlib.sha256).digest()).decode()
    assert verify_webhook_signature(body, signed_with_decoded, "a&amp;b")


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
