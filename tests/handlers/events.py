"""API Gateway HTTP API (payload v2) events, built by the local runtime's own ``http_api_event``, and answers.

A request is described as a client would send it (method, path, headers, query, a JSON, form or raw body); the
route and its path parameters come from ``template.yaml``, so an event carries the route key API Gateway would
give it. A path no route of the template matches gets the ``$default`` route key (the function's own 404).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from werkzeug.test import EnvironBuilder

from local import template
from local.apigw import LocalHttpApi, http_api_event

HOST = "api.test"
NO_BODY = object()  # `json_body=` left out (None is a JSON body: null)


# The local runtime's own router (its ``match``): the template's routes, most specific first.
ROUTER = LocalHttpApi(template.routes(), (), invoke=lambda *_: None)


def route_for(method: str, path: str) -> tuple[template.Route, dict[str, str]]:
    """The template route API Gateway picks for ``method path``, or ``$default`` when none matches."""
    return ROUTER.match(method, path) or (template.Route("$default", "", ""), {})


def api_event(
    method: str,
    path: str,
    *,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
    json_body: Any = NO_BODY,
    form: Mapping[str, str] | None = None,
    body: bytes | str | None = None,
    content_type: str | None = None,
    base64_encoded: bool | None = None,
) -> dict[str, Any]:
    """The event API Gateway sends for this request (``base64_encoded`` forces the body's encoding flag)."""
    sent_headers = dict(headers or {})
    data: bytes | None = None
    if json_body is not NO_BODY:
        data = json.dumps(json_body).encode()
        sent_headers.setdefault("Content-Type", "application/json")
    elif form is not None:
        data = urlencode(form).encode()
        sent_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    elif body is not None:
        data = body.encode() if isinstance(body, str) else body
    if content_type is not None:
        sent_headers["Content-Type"] = content_type
    builder = EnvironBuilder(
        path=path,
        base_url=f"https://{HOST}",
        method=method,
        headers=list(sent_headers.items()),
        query_string=urlencode(query or {}),
        data=data,
    )
    request = builder.get_request()
    route, params = route_for(method, path)
    event = http_api_event(request, route, params)
    if route.method == "$default":
        event["routeKey"] = event["requestContext"]["routeKey"] = "$default"
    if base64_encoded is not None and data and base64_encoded != event["isBase64Encoded"]:
        event["body"] = base64.b64encode(data).decode() if base64_encoded else data.decode()
        event["isBase64Encoded"] = base64_encoded
    return event


@dataclass
class Answer:
    """A handler's answer as API Gateway would serve it."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def of(cls, result: Mapping[str, Any]) -> Answer:
        raw = result.get("body") or ""
        data = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
        headers = {k.lower(): str(v) for k, v in (result.get("headers") or {}).items()}
        for key, values in (result.get("multiValueHeaders") or {}).items():
            headers[key.lower()] = ",".join(str(v) for v in values)
        return cls(int(result["statusCode"]), headers, data)

    def json(self) -> Any:
        assert self.headers.get("content-type", "").startswith("application/json"), self.headers
        return json.loads(self.body)

    @property
    def error(self) -> tuple[int, str]:
        """(status, code) of a native error, checking the shape ``{"error": {"code", "message"}}``."""
        body = self.json()
        assert set(body) == {"error"}, body
        assert set(body["error"]) == {"code", "message"}, body
        assert isinstance(body["error"]["message"], str), body
        assert body["error"]["message"], body
        return self.status, body["error"]["code"]

    @property
    def account_error(self) -> tuple[int, str]:
        """(status, code) of an account API refusal, checking ``{"result": false, "error", "code"}``."""
        body = self.json()
        assert set(body) == {"result", "error", "code"}, body
        assert body["result"] is False, body
        assert isinstance(body["error"], str), body
        assert body["error"], body
        return self.status, body["code"]

    @property
    def dotix_error(self) -> tuple[int, str]:
        """(status, tag) of a Dotix refusal, checking ``{"_res": "err", "_msg": tag}``."""
        body = self.json()
        assert set(body) == {"_res", "_msg"}, body
        assert body["_res"] == "err", body
        return self.status, body["_msg"]
