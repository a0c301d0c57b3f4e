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


class InvalidApiKey(Unauthorized):
    code = "invalid_api_key"


class InvalidBearer(Unauthorized):
    code = "unauthorized"


class BadSignature(Unauthorized):
    code = "bad_signature"


class BadNonce(Unauthorized):
    code = "bad_nonce"


class ExpiredNonce(Unauthorized):
    code = "expired_nonce"


class MissingCredentials(Unauthorized):
    code = "missing_credentials"


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
        raise InvalidApiKey("a valid X-Api-Key header is required")


def require_bearer(headers: Mapping[str, str], expected: SecretStr) -> None:
    """``Authorization: Bearer <expected>``."""
    value = _header(headers, "Authorization")
    scheme, _, credential = value.partition(" ")
    if scheme.lower() != "bearer" or not matches_any(credential.strip(), (expected,)):
        raise InvalidBearer("a valid admin bearer token is required")


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
        raise BadSignature("bad signature")
    expiry, _, _ = nonce.partition(".")
    if not expiry.isdigit():
        raise BadNonce("malformed nonce")
    if int(expiry) < (time.time() if now is None else now):
        raise ExpiredNonce("expired nonce")


ACCOUNT_AUTH_FIELDS = ("UID", "blog", "nonce", "signature")


def authenticate_account(fields: Mapping[str, object], secret: SecretStr, now: float | None = None) -> int:
    """The customer id of an account request whose ``UID``, ``blog``, ``nonce`` and ``signature`` hold.

    Every failure is a 401 without saying which part was wrong beyond its kind.
    """
    values = {name: fields.get(name) for name in ACCOUNT_AUTH_FIELDS}
    missing = [name for name, value in values.items() if not isinstance(value, str | int) or str(value).strip() == ""]
    if missing:
        raise MissingCredentials(f"missing {', '.join(missing)}")
    uid, blog, nonce, signature = (str(values[name]).strip() for name in ACCOUNT_AUTH_FIELDS)
    if not uid.isdigit() or int(uid) < 1 or len(blog) > 20 or len(nonce) > 100 or len(signature) > 128:
        raise BadSignature("malformed credentials")
    verify_account_signature(uid, blog, nonce, signature, secret, now)
    return int(uid)
