"""The HTTP resolver every function uses, and the one error shape of the native API.

Errors: ``{"error": {"code": "...", "message": "..."}}`` with 400 validation, 401/403 auth, 404,
409 conflict, 422 semantic, 502/503 upstream. Never a traceback.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import ResponseBuilder, Route
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from woo_backend.errors import DomainError, ErrorKind, InvalidRequest, describe_validation_errors
from woo_backend.observability import logger, metrics, tracer

STATUS_BY_KIND: dict[ErrorKind, int] = {
    ErrorKind.INVALID: 400,
    ErrorKind.UNAUTHORIZED: 401,
    ErrorKind.PAYMENT_REQUIRED: 402,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.GONE: 410,
    ErrorKind.SEMANTIC: 422,
    ErrorKind.UNSUPPORTED_MEDIA: 415,
    ErrorKind.RATE_LIMITED: 429,
    ErrorKind.BAD_GATEWAY: 502,
    ErrorKind.UNAVAILABLE: 503,
}


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response[str]:
    # Compact separators: the Dotix-compatible answers are compared byte for byte.
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body, separators=(",", ":"), default=str),
        headers=headers,
    )


def error_response(status: int, code: str, message: str) -> Response[str]:
    return json_response(status, {"error": {"code": code, "message": message}})


Guard = Callable[[Mapping[str, str]], None]


class GuardedResolver(APIGatewayHttpResolver):
    """Checks credentials before the request is validated.

    Powertools runs its validation middleware before every other middleware, so a caller without
    credentials would be told what the body should look like (400) before being refused (401). A guard
    runs first, for every route under its path prefix, and raises a ``DomainError`` to refuse.
    """

    def __init__(self, guards: Sequence[tuple[str, Guard]] = ()) -> None:
        super().__init__(enable_validation=True)
        self.guards = list(guards)

    def _call_route(self, route: Route, route_arguments: dict[str, str]) -> ResponseBuilder[Any]:
        for prefix, guard in self.guards:
            if route.path.startswith(prefix):
                try:
                    guard(self.current_event.headers)
                except DomainError as exc:
                    refused = self._call_exception_handler(exc, route)
                    if refused is not None:
                        return refused
                    raise
        return super()._call_route(route, route_arguments)


def create_resolver(
    domain_error_renderer: Callable[[DomainError], Response[str]] | None = None,
    guards: Sequence[tuple[str, Guard]] = (),
) -> APIGatewayHttpResolver:
    """An HTTP API resolver with pydantic validation, route guards and the native error shape wired in."""
    app = GuardedResolver(guards)

    @app.exception_handler(DomainError)
    def _domain_error(exc: DomainError) -> Response[str]:
        if domain_error_renderer is not None:
            return domain_error_renderer(exc)
        status = STATUS_BY_KIND[exc.kind]
        if status >= 500:
            logger.warning("upstream failure", extra={"code": exc.code, "detail": exc.message})
        return error_response(status, exc.code, exc.message)

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported_content_type(_: RequestUnsupportedContentType) -> Response[str]:
        return error_response(415, "unsupported_content_type", "send application/json")

    @app.exception_handler(RequestValidationError)
    def _validation_error(exc: RequestValidationError) -> Response[str]:
        errors = list(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(400, "malformed_json", "the request body is not valid JSON")
        return error_response(400, "validation_error", describe_validation_errors(errors))

    @app.not_found
    def _not_found(_: NotFoundError) -> Response[str]:
        return error_response(
            404, "route_not_found", f"no route for {app.current_event.http_method} {app.current_event.path}"
        )

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response[str]:
        logger.exception("unhandled error")
        metrics.add_metric(name="UnhandledError", unit="Count", value=1)
        return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "internal error")

    return app


def raw_body(app: APIGatewayHttpResolver) -> bytes:
    """The request body exactly as sent (signatures are computed over these bytes)."""
    event = app.current_event
    body = event.body or ""
    return base64.b64decode(body) if event.is_base64_encoded else body.encode()


def http_entrypoint(app: APIGatewayHttpResolver) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The Lambda handler for ``app``: correlation id, metrics flush, tracing."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return app.resolve(event, context)

    return handler  # type: ignore[no-any-return]  # Powertools' decorators are untyped


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
            raise InvalidRequest(f"form field {raw_key[:40]!r} is nested too deeply", code="malformed_body")
        target: Any = parsed
        for index, key in enumerate(path):
            last = index == len(path) - 1
            if isinstance(target, list):
                if not last:
                    raise InvalidRequest(f"form field {raw_key[:40]!r} mixes lists and maps", code="malformed_body")
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
                raise InvalidRequest("the JSON body must be an object", code="malformed_body")
            return data
        if content_type in ("application/x-www-form-urlencoded", ""):
            return _php_form(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest("the request body is not valid JSON or form data", code="malformed_body") from None
    raise DomainError(
        "send application/json or application/x-www-form-urlencoded",
        code="unsupported_content_type",
        kind=ErrorKind.UNSUPPORTED_MEDIA,
    )
