from __future__ import annotations

import io
import json

import pytest

from woo_backend.observability import MASK, logger, mask, mask_key, register_secret
from woo_backend.settings import (
    ConfigurationError,
    TopomerSettings,
    WooCommerceSettings,
    env,
    secret,
    upstream_read_timeout,
)


def test_mask_hides_sensitive_keys_and_shapes() -> None:
    masked = mask(
        {
            "token": "tpm_abc",
            "nested": {"order_key": "wc_order_abc", "Authorization": "Bearer xyz"},
            "message": "GET /orders?consumer_key=ck_123&x=1 for wc_order_AbC123 with Bearer abc.def",
            "amount": "12.50",
        }
    )
    assert masked["token"] == MASK
    assert masked["nested"] == {"order_key": MASK, "Authorization": MASK}
    assert "ck_123" not in masked["message"]
    assert "wc_order_AbC123" not in masked["message"]
    assert "abc.def" not in masked["message"]
    assert masked["amount"] == "12.50"


def test_registered_secrets_are_masked_anywhere() -> None:
    register_secret("very-secret-value")
    assert mask({"msg": "failed with very-secret-value inside"})["msg"] == f"failed with {MASK} inside"


def test_mask_key_keeps_a_prefix_only() -> None:
    assert mask_key("wc_order_abcdef") == "wc_o" + MASK
    assert mask_key("abc") == MASK


def test_logger_output_is_masked() -> None:
    stream = io.StringIO()
    handler = logger.registered_handler
    previous = handler.setStream(stream)  # type: ignore[attr-defined]
    try:
        logger.info("paying", extra={"topomer_token": "tpm_live_123", "note": "key wc_order_ZZZ999"})
    finally:
        handler.setStream(previous)  # type: ignore[attr-defined]
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["topomer_token"] == MASK
    assert "wc_order_ZZZ999" not in line["note"]


def test_missing_settings_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WOOCOMMERCE_URL", raising=False)
    with pytest.raises(ConfigurationError, match="WOOCOMMERCE_URL"):
        WooCommerceSettings.from_env()
    monkeypatch.setenv("TOPOMER_URL", "http://topomer.test")
    monkeypatch.delenv("TOPOMER_CLIENT_ID", raising=False)
    monkeypatch.delenv("TOPOMER_CLIENT_ID_PARAM", raising=False)
    with pytest.raises(ConfigurationError, match="TOPOMER_CLIENT_ID"):
        TopomerSettings.from_env()


def test_env_default_and_secret_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert env("SURELY_NOT_SET_VAR", "fallback") == "fallback"
    monkeypatch.setenv("SOME_SECRET_VALUE", "abcdefgh")
    value = secret("SOME_SECRET_VALUE")
    assert value is not None
    assert value.get_secret_value() == "abcdefgh"
    assert "abcdefgh" not in repr(value)
    assert secret("SURELY_NOT_SET_SECRET", required=False) is None


def test_the_upstream_read_timeout_is_five_seconds_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UPSTREAM_READ_TIMEOUT_SECONDS", raising=False)
    assert upstream_read_timeout() == 5.0
    monkeypatch.setenv("UPSTREAM_READ_TIMEOUT_SECONDS", "1.5")
    assert upstream_read_timeout() == 1.5
    for bad in ("0", "-1", "soon"):
        monkeypatch.setenv("UPSTREAM_READ_TIMEOUT_SECONDS", bad)
        with pytest.raises(ConfigurationError, match="UPSTREAM_READ_TIMEOUT_SECONDS"):
            upstream_read_timeout()
