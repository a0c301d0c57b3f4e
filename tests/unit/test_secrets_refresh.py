"""Secrets kept in SSM are read again once Powertools' cache expires: a rotation takes effect in a running
container (WooCommerce's Basic auth, Topomer's token request, the credits API keys), and is masked in logs."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator

import boto3
import httpx
import pytest
import respx
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws
from mypy_boto3_ssm import SSMClient
from pydantic import SecretStr

from woo_backend import settings
from woo_backend.http import RetryPolicy
from woo_backend.observability import mask_text
from woo_backend.settings import CreditsSettings, ParameterSecret, TopomerSettings, WooCommerceSettings, secret
from woo_backend.topomer import TopomerClient
from woo_backend.woocommerce import WooCommerceClient

WOO = "https://shop.test"
TOPOMER = "https://topomer.test"
CACHE_SECONDS = 1  # the test's cache, so it can wait for it to expire
NO_WAIT = RetryPolicy(attempts=1, base_delay=0.0)


@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch) -> Iterator[SSMClient]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setattr(settings, "SECRET_CACHE_SECONDS", CACHE_SECONDS)
    for name in ("WOOCOMMERCE_CONSUMER_KEY", "WOOCOMMERCE_CONSUMER_SECRET", "TOPOMER_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        parameters.clear_caches()  # type: ignore[no-untyped-call]
        client = boto3.client("ssm")
        yield client
    parameters.clear_caches()  # type: ignore[no-untyped-call]


def put(client: SSMClient, name: str, value: str) -> None:
    client.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)


def expire_cache() -> None:
    time.sleep(CACHE_SECONDS + 0.2)


def basic_user(request: httpx.Request) -> str:
    return base64.b64decode(request.headers["Authorization"].split(" ", 1)[1]).decode()


@respx.mock
def test_woocommerce_uses_a_rotated_consumer_key_once_the_cache_expires(
    ssm: SSMClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    put(ssm, "/woo-backend/dev/woocommerce/consumer-key", "ck_first_value")
    put(ssm, "/woo-backend/dev/woocommerce/consumer-secret", "cs_first_value")
    monkeypatch.setenv("WOOCOMMERCE_URL", WOO)
    monkeypatch.setenv("WOOCOMMERCE_CONSUMER_KEY_PARAM", "/woo-backend/dev/woocommerce/consumer-key")
    monkeypatch.setenv("WOOCOMMERCE_CONSUMER_SECRET_PARAM", "/woo-backend/dev/woocommerce/consumer-secret")
    client = WooCommerceClient(WooCommerceSettings.from_env(), retry=NO_WAIT)
    route = respx.get(f"{WOO}/wp-json/wc/v3/system_status").mock(return_value=httpx.Response(200, json={}))

    client.get_object("/system_status")
    put(ssm, "/woo-backend/dev/woocommerce/consumer-key", "ck_rotated_value")
    client.get_object("/system_status")  # still cached: the value read before
    expire_cache()
    client.get_object("/system_status")

    users = [basic_user(call.request) for call in route.calls]
    assert users == [
        "ck_first_value:cs_first_value",
        "ck_first_value:cs_first_value",
        "ck_rotated_value:cs_first_value",
    ]
    assert mask_text("key ck_rotated_value") == "key ***"  # the new value is masked from its first use


@respx.mock
def test_topomer_asks_its_token_with_a_rotated_client_secret(ssm: SSMClient, monkeypatch: pytest.MonkeyPatch) -> None:
    put(ssm, "/woo-backend/dev/topomer/client-secret", "first-client-secret")
    monkeypatch.setenv("TOPOMER_URL", TOPOMER)
    monkeypatch.setenv("TOPOMER_CLIENT_ID", "client-id")
    monkeypatch.setenv("TOPOMER_CLIENT_SECRET_PARAM", "/woo-backend/dev/topomer/client-secret")
    client = TopomerClient(TopomerSettings.from_env(), retry=NO_WAIT)
    token = respx.post(f"{TOPOMER}/api/auth/token").mock(
        return_value=httpx.Response(200, json={"access_token": "t", "expires_in": 0})
    )
    respx.get(f"{TOPOMER}/api/x").mock(return_value=httpx.Response(200, json={}))

    client.call("GET", "/api/x")
    put(ssm, "/woo-backend/dev/topomer/client-secret", "rotated-client-secret")
    expire_cache()
    client.call("GET", "/api/x")  # the token expired too: asked again, with the new secret

    sent = [json.loads(call.request.content)["client_secret"] for call in token.calls]
    assert sent == ["first-client-secret", "rotated-client-secret"]


def test_credits_api_keys_follow_a_rotation(ssm: SSMClient, monkeypatch: pytest.MonkeyPatch) -> None:
    put(ssm, "/woo-backend/dev/credits/api-keys", "key-one-aaaa, key-two-bbbb")
    monkeypatch.setenv("CREDITS_TABLE", "CreditsTable")
    monkeypatch.setenv("CREDITS_API_KEYS_PARAM", "/woo-backend/dev/credits/api-keys")
    monkeypatch.delenv("CREDITS_API_KEYS", raising=False)
    credits = CreditsSettings.from_env()
    assert [k.get_secret_value() for k in credits.api_keys] == ["key-one-aaaa", "key-two-bbbb"]

    put(ssm, "/woo-backend/dev/credits/api-keys", "key-three-cccc")
    expire_cache()
    assert [k.get_secret_value() for k in credits.api_keys] == ["key-three-cccc"]
    assert mask_text("x key-three-cccc") == "x ***"


def test_a_failed_read_keeps_the_last_value(ssm: SSMClient, monkeypatch: pytest.MonkeyPatch) -> None:
    put(ssm, "/woo-backend/dev/admin-api-key", "admin-key-value")
    monkeypatch.setenv("ADMIN_API_KEY_PARAM", "/woo-backend/dev/admin-api-key")
    monkeypatch.delenv("ADMIN_API_KEY", raising=False)
    key = secret("ADMIN_API_KEY")
    assert isinstance(key, ParameterSecret)

    ssm.delete_parameter(Name="/woo-backend/dev/admin-api-key")
    expire_cache()
    assert key.get_secret_value() == "admin-key-value"


def test_a_secret_from_the_environment_is_a_plain_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_API_KEY", "local-admin-key")
    key = secret("ADMIN_API_KEY")
    assert type(key) is SecretStr
    assert key.get_secret_value() == "local-admin-key"
