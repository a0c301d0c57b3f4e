"""Configuration, read and validated once per container (at cold start).

Plain values come from environment variables. Secrets come from the environment locally; in AWS the
template sets ``<NAME>_PARAM`` to an SSM parameter name instead, read with Powertools parameters (decrypted,
cached ``SECRET_CACHE_SECONDS``) at cold start and again at each use once that cache expired, so a rotated
secret is used without a new container. A missing value fails the cold start with a message naming the variable.
"""

from __future__ import annotations

import ipaddress
import os
from decimal import Decimal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, SecretStr

from woo_backend.http import READ_TIMEOUT_SECONDS
from woo_backend.observability import logger, register_secret

SECRET_CACHE_SECONDS = 300


class ConfigurationError(RuntimeError):
    """A required setting is missing or malformed."""


def env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, "").strip()
    if value:
        return value
    if default is not None:
        return default
    raise ConfigurationError(f"environment variable {name} is not set")


def _read_parameter(parameter_name: str) -> str:
    # Imported here: only AWS containers pay for the SSM client.
    from aws_lambda_powertools.utilities import parameters

    return str(parameters.get_parameter(parameter_name, decrypt=True, max_age=SECRET_CACHE_SECONDS))


class ParameterSecret(SecretStr):
    """A secret kept in an SSM parameter: each ``get_secret_value()`` asks Powertools, whose cache answers for
    ``SECRET_CACHE_SECONDS`` and then reads SSM again, so a rotated value takes over without a redeploy. If that
    read fails (SSM throttled or down), the value read before is used: a request never fails on it."""

    def __init__(self, parameter_name: str, value: str) -> None:
        super().__init__(value)
        self._parameter_name = parameter_name
        self._current = value

    def get_secret_value(self) -> str:
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        try:
            value = _read_parameter(self._parameter_name)
        except GetParameterError:
            logger.warning(
                "secret parameter not read again; using its last value", extra={"parameter": self._parameter_name}
            )
            return self._current
        if value and value != self._current:
            register_secret(value)  # masked in log lines from its first use
            self._current = value
        return self._current


def secret(name: str, *, required: bool = True) -> SecretStr | None:
    """The secret ``name`` from the environment (fixed), or from the SSM parameter named by ``<name>_PARAM``
    (a ``ParameterSecret``: read again when the cache expires)."""
    value = os.environ.get(name, "")
    parameter_name = "" if value else os.environ.get(f"{name}_PARAM", "")
    if parameter_name:
        value = _read_parameter(parameter_name)
    if not value:
        if not required:
            return None
        raise ConfigurationError(f"secret {name} is not set (set {name}, or {name}_PARAM to an SSM parameter name)")
    register_secret(value)
    return ParameterSecret(parameter_name, value) if parameter_name else SecretStr(value)


def _positive_decimal(name: str, default: str, *, allow_zero: bool = False) -> Decimal:
    raw = env(name, default)
    try:
        value = Decimal(raw)
    except ArithmeticError as exc:
        raise ConfigurationError(f"environment variable {name} is not a number: {raw!r}") from exc
    if not value.is_finite() or value < 0 or (value == 0 and not allow_zero):
        raise ConfigurationError(
            f"environment variable {name} must be {'zero or more' if allow_zero else 'positive'}, got {raw!r}"
        )
    return value


def upstream_read_timeout() -> float:
    """Seconds an upstream client waits for an answer: ``UPSTREAM_READ_TIMEOUT_SECONDS``, else 5. The local
    simulators' timeout fault reads it too; the e2e stack shortens it so its timeout cases end sooner."""
    return float(_positive_decimal("UPSTREAM_READ_TIMEOUT_SECONDS", str(READ_TIMEOUT_SECONDS)))


class _Settings(BaseModel):
    model_config = ConfigDict(frozen=True)


class WooCommerceSettings(_Settings):
    url: str
    consumer_key: SecretStr
    consumer_secret: SecretStr
    read_timeout_seconds: float = READ_TIMEOUT_SECONDS

    @classmethod
    def from_env(cls) -> WooCommerceSettings:
        return cls(
            url=woocommerce_url(env("WOOCOMMERCE_URL")),
            consumer_key=secret("WOOCOMMERCE_CONSUMER_KEY"),
            consumer_secret=secret("WOOCOMMERCE_CONSUMER_SECRET"),
            read_timeout_seconds=upstream_read_timeout(),
        )


# Docker Desktop's name for the machine running the container (``sam local start-api``): traffic to it stays on
# that machine. Lambda's DNS never resolves it, so it cannot open plain HTTP to a real shop.
DOCKER_HOST_NAMES = frozenset({"localhost", "host.docker.internal"})


def is_loopback_host(host: str) -> bool:
    """``localhost``, 127.0.0.0/8, ::1 or Docker's host name: this machine, where nothing on the wire can read a
    secret."""
    if host.lower().rstrip(".") in DOCKER_HOST_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def woocommerce_url(raw: str) -> str:
    """``WOOCOMMERCE_URL`` without its trailing slash, refused unless ``https://`` (or plain HTTP to loopback).

    WooCommerce accepts the consumer key and secret (Basic auth, or the query parameters) only over TLS:
    includes/class-wc-rest-authentication.php, ``authenticate()`` tries Basic only when ``is_ssl()``, and
    demands OAuth 1.0a signatures otherwise. Over ``http://`` every call would be answered 401.
    """
    url = raw.rstrip("/")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:  # an unbalanced "[" of an IPv6 host
        parts, host = urlsplit(""), ""
    if parts.scheme.lower() == "https" and host:
        return url
    if parts.scheme.lower() == "http" and is_loopback_host(host):
        return url
    raise ConfigurationError(
        f"environment variable WOOCOMMERCE_URL must be an https:// URL, got {parts.scheme or '(no scheme)'}://"
        f"{host or '(no host)'}: WooCommerce refuses its API keys without TLS (every call would be 401). "
        "Plain http:// is accepted only for a loopback host (localhost, 127.0.0.0/8, ::1)."
    )


class WebhookSettings(_Settings):
    secret: SecretStr

    @classmethod
    def from_env(cls) -> WebhookSettings:
        return cls(secret=secret("WOOCOMMERCE_WEBHOOK_SECRET"))


class WebhookWatchSettings(_Settings):
    """``WEBHOOK_BASE_URL``: the service's public base URL, which the shop's webhooks deliver to (the
    template sets the HTTP API's URL unless the ``WebhookBaseUrl`` parameter names another, e.g. a custom
    domain). Not set: the syncs do not watch the webhooks."""

    base_url: str | None

    @classmethod
    def from_env(cls) -> WebhookWatchSettings:
        raw = os.environ.get("WEBHOOK_BASE_URL", "").strip().rstrip("/")
        if raw and not raw.startswith(("https://", "http://")):
            raise ConfigurationError(f"environment variable WEBHOOK_BASE_URL must be an http(s) URL, got {raw!r}")
        return cls(base_url=raw or None)


class TopomerSettings(_Settings):
    url: str
    client_id: SecretStr
    client_secret: SecretStr
    read_timeout_seconds: float = READ_TIMEOUT_SECONDS

    @classmethod
    def from_env(cls) -> TopomerSettings:
        return cls(
            url=env("TOPOMER_URL").rstrip("/"),
            client_id=secret("TOPOMER_CLIENT_ID"),
            client_secret=secret("TOPOMER_CLIENT_SECRET"),
            read_timeout_seconds=upstream_read_timeout(),
        )


class CreditsSettings(_Settings):
    table: str
    meta_key: str
    # CREDITS_API_KEYS, comma-separated; split at each use (``api_keys``), so a rotation takes effect.
    api_keys_secret: SecretStr | None = None
    # How the Dotix routes answer a refusal ({"_res": "err"}): "200" as WordPress does, or "4xx".
    dotix_error_status: str = "200"

    @property
    def api_keys(self) -> tuple[SecretStr, ...]:
        """The keys ``X-Api-Key`` must match, from the secret's current value; none: the API is open."""
        raw = self.api_keys_secret.get_secret_value() if self.api_keys_secret else ""
        keys = tuple(SecretStr(k.strip()) for k in raw.split(",") if k.strip())
        for key in keys:
            register_secret(key.get_secret_value())
        return keys

    @classmethod
    def from_env(cls) -> CreditsSettings:
        raw_keys = secret("CREDITS_API_KEYS", required=False)
        dotix_error_status = env("DOTIX_ERROR_STATUS", "200").lower()
        if dotix_error_status not in ("200", "4xx"):
            raise ConfigurationError(
                f"environment variable DOTIX_ERROR_STATUS must be 200 or 4xx, got {dotix_error_status!r}"
            )
        return cls(
            table=env("CREDITS_TABLE"),
            meta_key=env("CREDITS_META_KEY", "_credits"),
            api_keys_secret=raw_keys,
            dotix_error_status=dotix_error_status,
        )


class BalanceSettings(_Settings):
    table: str
    hold_ttl_minutes: Decimal
    capture_retry_base_seconds: Decimal
    capture_max_attempts: int
    # The currency Topomer balances are kept in: every payment is in it, and so must its order be.
    currency: str = "EUR"
    # IDEMPOTENCY_TABLE: where the payments API keeps its idempotency records (the sync needs none).
    idempotency_table: str | None = None

    @classmethod
    def from_env(cls) -> BalanceSettings:
        attempts = env("CAPTURE_MAX_ATTEMPTS", "8")
        if not attempts.isdigit() or int(attempts) < 1:
            raise ConfigurationError(
                f"environment variable CAPTURE_MAX_ATTEMPTS must be a positive integer, got {attempts!r}"
            )
        currency = env("BALANCE_CURRENCY", "EUR")
        if len(currency) != 3 or not currency.isascii() or not currency.isupper() or not currency.isalpha():
            raise ConfigurationError(
                f"environment variable BALANCE_CURRENCY must be an ISO 4217 code such as EUR, got {currency!r}"
            )
        return cls(
            table=env("PAYMENTS_TABLE"),
            hold_ttl_minutes=_positive_decimal("HOLD_TTL_MINUTES", "60"),
            # Zero is allowed: every sync run retries every pending step (the local default).
            capture_retry_base_seconds=_positive_decimal("CAPTURE_RETRY_BASE_SECONDS", "60", allow_zero=True),
            capture_max_attempts=int(attempts),
            currency=currency,
            idempotency_table=os.environ.get("IDEMPOTENCY_TABLE", "").strip() or None,
        )


class PromoSettings(_Settings):
    table: str
    ttl_hours: Decimal
    intervals_cache_seconds: Decimal

    @classmethod
    def from_env(cls) -> PromoSettings:
        return cls(
            table=env("PROMO_TABLE"),
            ttl_hours=_positive_decimal("PROMO_TTL_HOURS", "48"),
            intervals_cache_seconds=_positive_decimal("PROMO_INTERVALS_CACHE_SECONDS", "60", allow_zero=True),
        )


class AdminSettings(_Settings):
    api_key: SecretStr

    @classmethod
    def from_env(cls) -> AdminSettings:
        key = secret("ADMIN_API_KEY")
        assert key is not None
        return cls(api_key=key)


class AccountSettings(_Settings):
    table: str
    signing_secret: SecretStr
    merchant_email: str
    mail_sender: str
    mail_rate_limit_per_hour: int

    @classmethod
    def from_env(cls) -> AccountSettings:
        signing = secret("ACCOUNT_SIGNING_SECRET")
        assert signing is not None
        limit = _positive_decimal("MAIL_RATE_LIMIT_PER_HOUR", "5")
        if limit != limit.to_integral_value():
            raise ConfigurationError("environment variable MAIL_RATE_LIMIT_PER_HOUR must be a whole number")
        return cls(
            table=env("ACCOUNT_TABLE"),
            signing_secret=signing,
            merchant_email=env("MERCHANT_EMAIL"),
            mail_sender=env("MAIL_SENDER"),
            mail_rate_limit_per_hour=int(limit),
        )
