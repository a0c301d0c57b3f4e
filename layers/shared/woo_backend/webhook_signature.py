"""A WooCommerce webhook delivery's ``X-WC-Webhook-Signature``: computed (the local shop signs with it),
checked in constant time (the webhook routes), and the one unsigned request, the creation ping.

WooCommerce: includes/class-wc-webhook.php, ``generate_signature()`` and ``deliver_ping()``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from urllib.parse import parse_qs

# WordPress: wp-includes/formatting.php, wp_specialchars_decode($text, ENT_QUOTES). First the zero-padded
# numeric forms are normalised (its $single_preg, $double_preg, $others_preg, applied in that order), then one
# strtr() pass with its translation table: only these twelve spellings of ' " < > & are decoded, nothing else
# (``&eacute;``, ``&apos;``, ``&#233;`` stay as they are), and ``&amp;lt;`` becomes ``&lt;``, not ``<``.
_WP_ZERO_PADDED = (
    (re.compile(r"&#0*39;"), "&#039;"),
    (re.compile(r"&#x0*27;", re.IGNORECASE), "&#x27;"),
    (re.compile(r"&#0*34;"), "&#034;"),
    (re.compile(r"&#x0*22;", re.IGNORECASE), "&#x22;"),
    (re.compile(r"&#0*60;"), "&#060;"),
    (re.compile(r"&#0*62;"), "&#062;"),
    (re.compile(r"&#0*38;"), "&#038;"),
    (re.compile(r"&#x0*26;", re.IGNORECASE), "&#x26;"),
)
_WP_SPECIALCHARS = {
    "&#039;": "'",
    "&#x27;": "'",
    "&quot;": '"',
    "&#034;": '"',
    "&#x22;": '"',
    "&lt;": "<",
    "&#060;": "<",
    "&gt;": ">",
    "&#062;": ">",
    "&amp;": "&",
    "&#038;": "&",
    "&#x26;": "&",
}
# strtr() tries the longest key first at each position and never rescans what it replaced.
_WP_SPECIALCHARS_PATTERN = re.compile("|".join(map(re.escape, sorted(_WP_SPECIALCHARS, key=len, reverse=True))))


def wp_specialchars_decode(text: str) -> str:
    """WordPress's ``wp_specialchars_decode($text, ENT_QUOTES)``, exactly (see the table above)."""
    if "&" not in text:
        return text
    for pattern, replacement in _WP_ZERO_PADDED:
        text = pattern.sub(replacement, text)
    return _WP_SPECIALCHARS_PATTERN.sub(lambda found: _WP_SPECIALCHARS[found.group(0)], text)


def webhook_signature(body: bytes, secret: str) -> str:
    """``X-WC-Webhook-Signature``: base64 HMAC-SHA256 of the raw body.

    WooCommerce: includes/class-wc-webhook.php, ``WC_Webhook::generate_signature()`` keys the HMAC with
    ``wp_specialchars_decode($secret, ENT_QUOTES)``, so ``a&amp;b`` signs as ``a&b`` but ``a&eacute;b`` as itself.
    """
    key = wp_specialchars_decode(secret).encode()
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()


def verify_webhook_signature(body: bytes, signature: str | None, secret: str) -> bool:
    if not signature:
        return False
    return hmac.compare_digest(webhook_signature(body, secret).encode(), signature.strip().encode())


def is_webhook_ping(headers: Mapping[str, str], body: bytes) -> bool:
    """The creation ping: a form body ``webhook_id=N``, no topic header, no signature."""
    lowered = {k.lower(): v for k, v in headers.items()}
    if "x-wc-webhook-topic" in lowered or len(body) > 64:
        return False
    try:
        fields = parse_qs(body.decode("ascii"), strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return False
    return list(fields) == ["webhook_id"] and fields["webhook_id"][0].isdigit()
