"""Request bodies: the raw bytes (signatures are computed over them) and the fields of a JSON or PHP-style form
body, decoded once, here."""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import parse_qsl

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from woo_backend.errors import MalformedBody, UnsupportedMediaType


def raw_body(app: APIGatewayHttpResolver) -> bytes:
    """The request body exactly as sent (signatures are computed over these bytes)."""
    event = app.current_event
    body = event.body or ""
    return base64.b64decode(body) if event.is_base64_encoded else body.encode()


MAX_FORM_DEPTH = 3


def _php_form(body: bytes) -> dict[str, Any]:
    """A form body as PHP reads it: ``meta[color]=red&a[]=1`` -> ``{"meta": {"color": "red"}, "a": ["1"]}``.

    Written by hand because jQuery's ``$.post`` sends nested objects in this bracket form and no
    standard-library parser builds them; ``parse_qsl`` does the decoding.
    """
    parsed: dict[str, Any] = {}
    for raw_key, value in parse_qsl(body.decode("utf-8", errors="strict"), keep_blank_values=True):
        head, _, rest = raw_key.partition("[")
        path = [head, *re.findall(r"([^\[\]]*)\]", "[" + rest)] if rest else [head]
        if len(path) > MAX_FORM_DEPTH + 1:
            raise MalformedBody(f"form field {raw_key[:40]!r} is nested too deeply")
        target: Any = parsed
        for index, key in enumerate(path):
            last = index == len(path) - 1
            if isinstance(target, list):
                if not last:
                    raise MalformedBody(f"form field {raw_key[:40]!r} mixes lists and maps")
                target.append(value)
                break
            if last:
                target[key] = value
                break
            following = path[index + 1]
            container = target.get(key)
            if container is None or not isinstance(container, dict | list):
                container = [] if following == "" else {}
                target[key] = container
            target = container
    return parsed


def body_fields(app: APIGatewayHttpResolver) -> dict[str, Any]:
    """The request body as a map, from JSON or a (PHP-style) form; 400 if malformed, 415 otherwise."""
    content_type = (app.current_event.headers.get("content-type") or "").split(";")[0].strip().lower()
    body = raw_body(app)
    try:
        if content_type == "application/json":
            data = json.loads(body or b"{}")
            if not isinstance(data, dict):
                raise MalformedBody("the JSON body must be an object")
            return data
        if content_type in ("application/x-www-form-urlencoded", ""):
            return _php_form(body)
    except (ValueError, UnicodeDecodeError):
        raise MalformedBody("the request body is not valid JSON or form data") from None
    raise UnsupportedMediaType("send application/json or application/x-www-form-urlencoded")
