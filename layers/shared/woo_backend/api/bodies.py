"""Request bodies, decoded once, here: the raw bytes (signatures are computed over them), the text (UTF-8 only),
and the fields of a JSON or PHP-style form body.

``Body`` holds one request's body and decodes each form of it at most once. The resolver checks a body before
Powertools validates it (size, content type, encoding, JSON depth): whatever Powertools or a route then reads
of it is known to decode, so a bad body is a 4xx, never a 500 (``api/resolver.py``).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from functools import cached_property
from typing import Any, NoReturn
from urllib.parse import parse_qsl

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from woo_backend.errors import MalformedBody, UnsupportedMediaType

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
# Our requests are a few hundred bytes; API Gateway would take 10 MB. A WooCommerce delivery carries a whole
# order (line items, meta), so webhook routes take more (``resolver.WEBHOOK_BODY_BYTES``).
MAX_BODY_BYTES = 64 * 1024
# Deeper JSON is no request of ours, and Python's parser recurses: 1,000 levels would be a RecursionError.
MAX_JSON_DEPTH = 32
MAX_FORM_DEPTH = 3
UTF8 = frozenset({"utf-8", "utf8", "us-ascii"})


class MalformedJson(MalformedBody):
    code = "malformed_json"


def media_type(content_type: str) -> tuple[str, str]:
    """``(type, charset)`` of a Content-Type header, lower-cased: ``("application/json", "utf-8")``."""
    essence, _, params = content_type.partition(";")
    charset = ""
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    return essence.strip().lower(), charset


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def check_json_depth(text: str, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuse JSON nested deeper than ``limit`` before the parser (which recurses) sees it."""
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub('""', text)):
        depth += 1 if match.group() in "[{" else -1
        if depth > limit:
            raise MalformedJson(f"the JSON body is nested deeper than {limit} levels")


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def parse_json(text: str) -> Any:
    """Strict JSON: nesting at most ``MAX_JSON_DEPTH``, no NaN or Infinity; 400 ``malformed_json`` otherwise."""
    check_json_depth(text)
    try:
        return json.loads(text, parse_constant=_no_constant)
    except ValueError:  # JSONDecodeError, NaN, an integer too long to convert
        raise MalformedJson("the request body is not valid JSON") from None


def _php_form(body: str | bytes) -> dict[str, Any]:
    """A form body as PHP reads it: ``meta[color]=red&a[]=1`` -> ``{"meta": {"color": "red"}, "a": ["1"]}``.

    Written by hand because jQuery's ``$.post`` sends nested objects in this bracket form and no
    standard-library parser builds them; ``parse_qsl`` does the decoding.
    """
    parsed: dict[str, Any] = {}
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise MalformedBody("the form is not UTF-8") from None
    for raw_key, value in pairs:
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


class Body:
    """One request's body. Each form is decoded when first asked for, then kept."""

    def __init__(self, raw: bytes, content_type: str) -> None:
        self.raw = raw
        self.media, self.charset = media_type(content_type)

    @classmethod
    def of(cls, event: BaseProxyEvent) -> Body:
        body = event.body or ""
        try:
            raw = base64.b64decode(body, validate=True) if event.is_base64_encoded else body.encode()
        except (binascii.Error, ValueError):
            raise MalformedBody("the body is not valid base64") from None
        return cls(raw, event.headers.get("content-type") or "")

    def check_charset(self) -> None:
        if self.charset and self.charset not in UTF8:
            raise UnsupportedMediaType(f"send the body in UTF-8, not {self.charset[:20]}")

    @cached_property
    def text(self) -> str:
        try:
            return self.raw.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedBody("the request body is not valid UTF-8") from None

    @cached_property
    def json(self) -> Any:
        return parse_json(self.text)

    @cached_property
    def fields(self) -> dict[str, Any]:
        """The body as a map, from a JSON object or a (PHP-style) form (also when no Content-Type is sent)."""
        if self.media == JSON:
            if not self.raw:
                return {}
            try:
                data = self.json
            except MalformedJson as exc:  # one code for every malformed body of a fields route
                raise MalformedBody(exc.message) from None
            if not isinstance(data, dict):
                raise MalformedBody("the JSON body must be an object")
            return data
        if self.media in (FORM, ""):
            return _php_form(self.text)
        raise UnsupportedMediaType("send application/json or application/x-www-form-urlencoded")


def request_body(app: APIGatewayHttpResolver) -> Body:
    """The body of the request being resolved: the one the resolver checked, or read now (a bare resolver)."""
    body = app.context.get("body")
    if not isinstance(body, Body):
        body = Body.of(app.current_event)
        app.context["body"] = body
    return body


def raw_body(app: APIGatewayHttpResolver) -> bytes:
    """The request body exactly as sent (signatures are computed over these bytes)."""
    return request_body(app).raw


def body_fields(app: APIGatewayHttpResolver) -> dict[str, Any]:
    """The request body as a map, from JSON or a (PHP-style) form; 400 if malformed, 415 otherwise."""
    return request_body(app).fields
