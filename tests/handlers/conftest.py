"""In-process handler tests: each function's ``lambda_handler`` called with API Gateway v2 events.

DynamoDB and SES are moto in process (the template's tables), WooCommerce and Topomer are respx fakes
(``upstreams``), and each test gets fresh containers (``load``), so nothing leaks between tests.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import respx
from moto import mock_aws

from local import template
from tests.handlers.lambdas import RUNTIME, SECRETS, Function, environment
from tests.handlers.upstreams import TOPOMER_URL, WOO_URL, Shop, Topomer
from woo_backend.auth import account_signature
from woo_backend.webhook_signature import webhook_signature

ADMIN = {"Authorization": f"Bearer {SECRETS['ADMIN_API_KEY']}"}
CREDITS_API_KEY = "app-key-handlers-1"
Load = Callable[..., Function]
SESSION = boto3.session.Session()


@pytest.fixture(scope="session")
def no_certificates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("no-certificates")


@pytest.fixture(autouse=True)
def aws(monkeypatch: pytest.MonkeyPatch, no_certificates: Path) -> Iterator[Any]:
    """moto in process (DynamoDB, SES); ``load`` creates the tables a function's environment names."""
    for name, value in RUNTIME.items():
        monkeypatch.setenv(name, value)
    for name in (
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_ENDPOINT_URL_SES",
        "AWS_PROFILE",
        "SSL_CERT_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    # respx answers every upstream call, so no TLS handshake happens: an empty CA directory spares each upstream
    # client of each container loading certifi's bundle (httpx reads SSL_CERT_DIR), a third of a cold start.
    monkeypatch.setenv("SSL_CERT_DIR", str(no_certificates))
    with mock_aws():
        # moto clears the default session for the mock; one kept session spares every test building a new one
        # (its service models): 50 ms a test. moto puts the session before the mock back when it stops.
        boto3.DEFAULT_SESSION = SESSION
        yield boto3.client("dynamodb")


def create_tables(client: Any, env: dict[str, str]) -> None:
    """The template's tables (as ``local.template.tables`` defines them) that ``env`` names, where missing."""
    wanted = set(env.values()) & set(template.tables())
    existing = set(client.list_tables()["TableNames"])
    for name in sorted(wanted - existing):
        spec = template.tables()[name]
        client.create_table(**spec["create"])
        if spec["ttl"]:
            client.update_time_to_live(TableName=name, TimeToLiveSpecification=spec["ttl"])


@pytest.fixture(autouse=True)
def _layer_restored(layer_restored: None) -> None:
    """Every test here cold-starts containers (tests/conftest.py: ``layer_restored``)."""


@pytest.fixture
def shop() -> Shop:
    return Shop()


@pytest.fixture
def topomer() -> Topomer:
    return Topomer()


@pytest.fixture(autouse=True)
def upstreams(shop: Shop, topomer: Topomer) -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        router.route(url__startswith=WOO_URL).mock(side_effect=shop)
        router.route(url__startswith=TOPOMER_URL).mock(side_effect=topomer)
        yield router


@pytest.fixture
def load(monkeypatch: pytest.MonkeyPatch, aws: Any) -> Load:
    """``load("PromoFunction", PROMO_TTL_HOURS="1")``: a fresh container of the function, its environment set
    (for the cold start and for every request after it)."""

    def make(logical_id: str, **overrides: str) -> Function:
        env = environment(logical_id, overrides)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        create_tables(aws, env)
        if "MAIL_SENDER" in env:  # SES sends only from a verified address
            boto3.client("ses").verify_email_identity(EmailAddress=env["MAIL_SENDER"])
        return Function(logical_id, env)

    return make


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries and backoffs do not wait (upstream retries, contention backoff)."""
    monkeypatch.setattr(time, "sleep", lambda _seconds: None)


@pytest.fixture
def credits(load: Load) -> Function:
    return load("CreditsFunction")


@pytest.fixture
def balance(load: Load) -> Function:
    return load("BalanceFunction")


@pytest.fixture
def promo(load: Load) -> Function:
    return load("PromoFunction", PROMO_INTERVALS_CACHE_SECONDS="0")


@pytest.fixture
def account(load: Load) -> Function:
    return load("AccountFunction", MAIL_RATE_LIMIT_PER_HOUR="2")


# ------------------------------------------------------------------ request helpers
def signed_webhook(order: dict[str, Any], topic: str = "order.updated", secret: str | None = None) -> dict[str, Any]:
    """``api_event`` arguments of a WooCommerce order webhook delivery (base64 HMAC-SHA256 of the raw body)."""
    body = json.dumps(order).encode()
    headers = {
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Signature": sign(body, secret),
        "X-WC-Webhook-Source": WOO_URL,
    }
    return {"body": body, "content_type": "application/json", "headers": headers}


def sign(body: bytes, secret: str | None = None) -> str:
    """``X-WC-Webhook-Signature``: base64 HMAC-SHA256 of the raw body with the webhook secret."""
    return webhook_signature(body, secret or SECRETS["WOOCOMMERCE_WEBHOOK_SECRET"])


def account_credentials(
    uid: int, blog: int = 1, ttl: int = 3600, secret: str | None = None, nonce: str | None = None
) -> dict[str, str]:
    """What the WordPress page gives the app: UID, blog, nonce ``<expiry>.<random>``, hex HMAC of ``UID:blog:nonce``."""
    nonce = nonce or f"{int(time.time()) + ttl}.{uid:04x}abcd"
    signature = account_signature(str(uid), str(blog), nonce, secret or SECRETS["ACCOUNT_SIGNING_SECRET"])
    return {"UID": str(uid), "blog": str(blog), "nonce": nonce, "signature": signature}
