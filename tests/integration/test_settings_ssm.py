"""Secrets come from SSM in AWS: ``<NAME>_PARAM`` names the parameter, read once and cached."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from woo_backend.settings import ConfigurationError, WooCommerceSettings, secret


def test_secret_is_read_from_the_named_ssm_parameter(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    ssm = boto3.client("ssm")
    ssm.put_parameter(Name="/woo-backend/test/webhook-secret", Value="from-ssm-123", Type="SecureString")
    monkeypatch.delenv("WOOCOMMERCE_WEBHOOK_SECRET", raising=False)
    monkeypatch.setenv("WOOCOMMERCE_WEBHOOK_SECRET_PARAM", "/woo-backend/test/webhook-secret")
    value = secret("WOOCOMMERCE_WEBHOOK_SECRET")
    assert value is not None
    assert value.get_secret_value() == "from-ssm-123"
    ssm.put_parameter(Name="/woo-backend/test/webhook-secret", Value="rotated-456", Type="SecureString", Overwrite=True)
    cached = secret("WOOCOMMERCE_WEBHOOK_SECRET")
    assert cached is not None
    assert cached.get_secret_value() == "from-ssm-123"  # read once per container, then cached


def test_settings_from_ssm_and_a_missing_parameter_name_the_variable(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    ssm = boto3.client("ssm")
    ssm.put_parameter(Name="/wb/ck", Value="ck_live", Type="SecureString")
    monkeypatch.setenv("WOOCOMMERCE_URL", "https://shop.example.com/")
    monkeypatch.delenv("WOOCOMMERCE_CONSUMER_KEY", raising=False)
    monkeypatch.delenv("WOOCOMMERCE_CONSUMER_SECRET", raising=False)
    monkeypatch.setenv("WOOCOMMERCE_CONSUMER_KEY_PARAM", "/wb/ck")
    monkeypatch.delenv("WOOCOMMERCE_CONSUMER_SECRET_PARAM", raising=False)
    with pytest.raises(ConfigurationError, match="WOOCOMMERCE_CONSUMER_SECRET"):
        WooCommerceSettings.from_env()
    monkeypatch.setenv("WOOCOMMERCE_CONSUMER_SECRET", "cs_env")
    settings = WooCommerceSettings.from_env()
    assert settings.url == "https://shop.example.com"
    assert settings.consumer_key.get_secret_value() == "ck_live"
