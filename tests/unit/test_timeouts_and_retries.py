"""How long the clients wait and retry, and how long the simulators' timeout fault waits to match."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from local.simulators.base import TIMEOUT_MARGIN_SECONDS, timeout_fault_seconds
from woo_backend.http import READ_TIMEOUT_SECONDS, RetryPolicy, upstream_timeout
from woo_backend.settings import TopomerSettings, WooCommerceSettings
from woo_backend.topomer import TopomerClient
from woo_backend.woocommerce import WooCommerceClient

WOO = "https://shop.test"
TOPOMER = "https://topomer.test"


def test_the_retry_delay_is_the_shared_full_jitter_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    policy = RetryPolicy(attempts=5, base_delay=0.1, max_delay=0.5)
    monkeypatch.setattr("random.uniform", lambda low, high: (low, high))
    assert [policy.delay(attempt) for attempt in (1, 2, 3)] == [(0, 0.2), (0, 0.4), (0, 0.5)]


def test_the_clients_read_timeout_comes_from_their_settings() -> None:
    assert upstream_timeout().read == READ_TIMEOUT_SECONDS
    woo = WooCommerceSettings(url=WOO, consumer_key=SecretStr("ck"), consumer_secret=SecretStr("cs"))
    assert WooCommerceClient(woo)._http.timeout.read == READ_TIMEOUT_SECONDS
    assert WooCommerceClient(woo.model_copy(update={"read_timeout_seconds": 2.0}))._http.timeout.read == 2.0
    top = TopomerSettings(
        url=TOPOMER, client_id=SecretStr("id"), client_secret=SecretStr("s"), read_timeout_seconds=2.0
    )
    assert TopomerClient(top)._http.timeout.read == 2.0


def test_the_simulators_timeout_fault_outlasts_the_clients_read_timeout_just(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UPSTREAM_READ_TIMEOUT_SECONDS", raising=False)
    assert timeout_fault_seconds() == READ_TIMEOUT_SECONDS + TIMEOUT_MARGIN_SECONDS
    monkeypatch.setenv("UPSTREAM_READ_TIMEOUT_SECONDS", "2")
    assert timeout_fault_seconds() == 2 + TIMEOUT_MARGIN_SECONDS
    assert 0 < TIMEOUT_MARGIN_SECONDS <= 1
