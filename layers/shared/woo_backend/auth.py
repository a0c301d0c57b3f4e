"""Request authentication: admin bearer key, app API keys, and the account nonce + signature.

Every comparison is constant-time (``hmac.compare_digest``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable, Mapping

from pydantic import SecretStr

from woo_backend.errors import Unauthorized


def _header(headers: Mapping[str, str], name: str) -> str:
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), "")


def matches_any(candidate: str, allowed: Iterable[SecretStr]) -> bool:
    """True when ``candidate`` equals one of ``allowed``; every key is compared, in constant time."""
    found = False
    for key in allowed:
        found |= hmac.compare_digest(candidate.encode(), key.get_secret_value().encode())
    return found


def require_api_key(headers: Mapping[str, str], allowed: tuple[SecretStr, ...]) -> None:
    """``X-Api-Key`` must be one of ``allowed``; no keys configured means the API is open."""
    if not allowed:
        return
    if not matches_any(_header(headers, "X-Api-Key"), allowed):
        raise Unauthorized("a valid X-Api-Key header is required", code="invalid_api_key")


def require_bearer(headers: Mapping[str, str], expected: SecretStr) -> None:
    """``Authorization: Bearer <expected>``."""
    value = _header(headers, "Authorization")
    scheme, _, credential = value.partition(" ")
    if scheme.lower() != "bearer" or not matches_any(credential.strip(), (expected,)):
        raise Unauthorized("a valid admin bearer token is required", code="unauthorized")


# ------------------------------------------------------------------ account nonce + signature
def account_signature(uid: str, blog: str, nonce: str, secret: str) -> str:
    """Hex HMAC-SHA256 of ``UID:blog:nonce``, as the WordPress side mints it."""
    return hmac.new(secret.encode(), f"{uid}:{blog}:{nonce}".encode(), hashlib.sha256).hexdigest()


def mint_account_credentials(uid: str | int, blog: str | int, secret: str, ttl_seconds: int = 3600) -> dict[str, str]:
    """What the WordPress page renders for the app: UID, blog, nonce (``<expiry>.<random>``), signature."""
    nonce = f"{int(time.time()) + ttl_seconds}.{secrets.token_hex(8)}"
    return {
        "UID": str(uid),
        "blog": str(blog),
        "nonce": nonce,
        "signature": account_signature(str(uid), str(blog), nonce, secret),
    }


def verify_account_signature(
    uid: str, blog: str, nonce: str, signature: str, secret: SecretStr, now: float | None = None
) -> None:
    """Raise ``Unauthorized`` for a bad signature or an expired or malformed nonce.

    The signature is checked before the nonce's expiry is read, so timing says nothing about either.
    """
    expected = account_signature(uid, blog, nonce, secret.get_secret_value())
    if not hmac.compare_digest(expected.encode(), signature.strip().lower().encode()):
        raise Unauthorized("bad signature", code="bad_signature")
    expiry, _, _ = nonce.partition(".")
    if not expiry.isdigit():
        raise Unauthorized("malformed nonce", code="bad_nonce")
    if int(expiry) < (time.time() if now is None else now):
        raise Unauthorized("expired nonce", code="expired_nonce")


ACCOUNT_AUTH_FIELDS = ("UID", "blog", "nonce", "signature")


def authenticate_account(fields: Mapping[str, object], secret: SecretStr, now: float | None = None) -> int:
    """The customer id of an account request whose ``UID``, ``blog``, ``nonce`` and ``signature`` hold.

    Every failure is a 401 without saying which part was wrong beyond its kind.
    """
    values = {name: fields.get(name) for name in ACCOUNT_AUTH_FIELDS}
    missing = [name for name, value in values.items() if not isinstance(value, str | int) or str(value).strip() == ""]
    if missing:
        raise Unauthorized(f"missing {', '.join(missing)}", code="missing_credentials")
    uid, blog, nonce, signature = (str(values[name]).strip() for name in ACCOUNT_AUTH_FIELDS)
    if not uid.isdigit() or int(uid) < 1 or len(blog) > 20 or len(nonce) > 100 or len(signature) > 128:
        raise Unauthorized("malformed credentials", code="bad_signature")
    verify_account_signature(uid, blog, nonce, signature, secret, now)
    return int(uid)
