"""Logger and metrics shared by every function, with secrets masked in every log line.

Powertools' data-masking utility works on payloads we choose to mask; log lines need masking of
whatever ends up in them (exception messages, extra keys), so a formatter does it on the way out.

No tracer: Lambda's active tracing (the template's ``Tracing: Active``) records each invocation's segment
(initialization, invocation, overhead) without an SDK in the function, and Powertools' Tracer (the X-Ray SDK)
cost more cold start than its subsegments are worth (README, "Cold start and tracing").
"""

from __future__ import annotations

import os
import re
import threading
import warnings
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

MASK = "***"

# Keys whose values are never logged, whatever they hold.
_SENSITIVE_KEY = re.compile(
    r"(token|secret|password|passwd|signature|nonce|api[-_]?key|authorization|order[-_]?key|consumer[-_]?key|cookie)",
    re.IGNORECASE,
)
# Values recognisable by their shape: WooCommerce order keys, bearer credentials, Topomer tokens in URLs.
_SENSITIVE_VALUE = re.compile(
    r"(wc_order_)[A-Za-z0-9]+|(Bearer\s+)[^\s\"']+|(Basic\s+)[^\s\"']+|([?&](?:token|consumer_key|consumer_secret)=)[^&\s\"']+",
)

_known_secrets: set[str] = set()
_known_secrets_lock = threading.Lock()


def register_secret(value: str) -> None:
    """Mask every later occurrence of ``value`` (configured secrets, API keys) in log lines."""
    if len(value) >= 6:
        with _known_secrets_lock:
            _known_secrets.add(value)


def mask_text(text: str) -> str:
    text = _SENSITIVE_VALUE.sub(lambda m: (m.group(1) or m.group(2) or m.group(3) or m.group(4) or "") + MASK, text)
    for known in _known_secrets:
        if known in text:
            text = text.replace(known, MASK)
    return text


def mask_key(value: str, visible: int = 4) -> str:
    """A bearer identifier shortened so it can be correlated in logs but not replayed."""
    return value[:visible] + MASK if len(value) > visible else MASK


def mask(value: Any, key: str = "") -> Any:
    if key and _SENSITIVE_KEY.search(key) and value not in (None, "", [], {}):
        return MASK
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: mask(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask(v) for v in value]
    return value


class MaskingFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: Any) -> str:
        return super().serialize(mask(dict(log)))


# A request that records no business metric is normal, not worth a warning per invocation.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger(logger_formatter=MaskingFormatter())
# The template sets the namespace; the default keeps a missing variable from failing a request after
# its money has moved (Powertools raises on add_metric without one).
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "WooBackend")
