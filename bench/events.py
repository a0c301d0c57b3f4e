"""API Gateway HTTP API events for the bench's in-process calls (its own module: the warm-memory bench imports it
in a fresh interpreter that must load nothing else of the bench)."""

from __future__ import annotations

import json
from typing import Any


def http_event(
    method: str,
    path: str,
    route: str,
    path_parameters: dict[str, str],
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event."""
    return {
        "version": "2.0",
        "routeKey": f"{method} {route}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json", **{k.lower(): v for k, v in (headers or {}).items()}},
        "pathParameters": path_parameters,
        "requestContext": {"http": {"method": method, "path": path}, "requestId": "bench", "stage": "$default"},
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }
