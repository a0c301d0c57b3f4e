"""The HTTP resolver every function uses, the one table from error kinds to statuses, and the native error shape.

Errors: ``{"error": {"code": "...", "message": "..."}}`` with 400 validation, 401/403 auth, 404,
409 conflict, 413 body too large, 415 content type, 422 semantic, 502/503 upstream. Never a traceback.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.dependant import get_dependant
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.typing import LambdaContext

from woo_backend.api.bodies import FORM, JSON, MAX_BODY_BYTES, Body, check_json_depth, parse_json, request_body
from woo_backend.errors import (
    BodyTooLarge,
    DomainError,
    ErrorKind,
    UnsupportedMediaType,
    ValidationFailed,
    describe_validation_errors,
)
from woo_backend.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.models import OpenAPI

# The one table from error kinds to HTTP statuses (every API shape uses it; see tests/unit/test_errors.py).
STATUS_BY_KIND: dict[ErrorKind, int] = {
    ErrorKind.INVALID: 400,
    ErrorKind.UNAUTHORIZED: 401,
    ErrorKind.PAYMENT_REQUIRED: 402,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.GONE: 410,
    ErrorKind.PAYLOAD_TOO_LARGE: 413,
    ErrorKind.UNSUPPORTED_MEDIA: 415,
    ErrorKind.SEMANTIC: 422,
    ErrorKind.RATE_LIMITED: 429,
    ErrorKind.BAD_GATEWAY: 502,
    ErrorKind.UNAVAILABLE: 503,
}


def status_of(exc: DomainError) -> int:
    return STATUS_BY_KIND[exc.kind]


def compact_json(body: Any) -> str:
    # Compact separators: the Dotix-compatible answers are compared byte for byte.
    return json.dumps(body, separators=(",", ":"), default=str)


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=compact_json(body), headers=headers
    )


def error_response(status: int, code: str, message: str) -> Response[str]:
    return json_response(status, {"error": {"code": code, "message": message}})


# How one API answers a DomainError: its status and body. The native shape is the default; the account API
# and the Dotix-compatible API have their plugins' shapes.
ErrorShape = Callable[[DomainError], tuple[int, dict[str, Any]]]
# A credentials check over the request's headers; it raises a DomainError to refuse.
Guard = Callable[[Mapping[str, str]], None]


def native_error(exc: DomainError) -> tuple[int, dict[str, Any]]:
    return status_of(exc), {"error": {"code": exc.code, "message": exc.message}}


# A WooCommerce delivery carries a whole order (line items, meta): its routes take bodies up to 1 MB.
WEBHOOK_BODY_BYTES = 1024 * 1024


@dataclass
class BodyRule:
    """What one route takes as a body. Routes with a validated body (a model parameter) take the media types of
    their ``Body`` (JSON); routes that read their body themselves (the account API, Dotix, webhooks) take JSON
    or a form."""

    method: str
    pattern: re.Pattern[str]
    rule: str
    func: Callable[..., Any]

    @cached_property
    def validated_media(self) -> frozenset[str]:
        """The media types Powertools validates this route's body as; empty when it validates no body."""
        params = get_dependant(path=self.rule, call=self.func).body_params
        return frozenset(getattr(p.field_info, "media_type", JSON) for p in params)

    @property
    def delivery(self) -> bool:
        """A WooCommerce webhook route: its bytes are checked against their signature before anything reads them
        (401 whatever the body), and they carry a whole order."""
        return "/webhooks/" in self.rule

    @property
    def limit(self) -> int:
        return WEBHOOK_BODY_BYTES if self.delivery else MAX_BODY_BYTES


def _rule_pattern(rule: str) -> re.Pattern[str]:
    return re.compile(
        "^" + "/".join("[^/]+" if re.fullmatch(r"<\w+>", seg) else re.escape(seg) for seg in rule.split("/")) + "$"
    )


class Resolver(APIGatewayHttpResolver):
    """Powertools' HTTP API resolver with validation on, plus two things keyed by path prefix:

    - ``error_shapes``: how a ``DomainError`` is answered under that prefix (``native_error`` elsewhere);
    - ``guards``: credentials checks that run *before* the request is routed and validated;

    and, after the guards, the body check of each route (``body_refusal``).

    Powertools runs body validation before any middleware, so a guard cannot be a middleware: a caller
    without credentials would first be told what the body should look like (400). ``http_entrypoint`` calls
    ``refusal()`` before ``resolve()`` instead, which needs no private Powertools API (the maintainers point
    to an authorizer or a check before resolve for auth-before-validation: powertools discussion #4656).
    """

    def __init__(
        self, error_shapes: Sequence[tuple[str, ErrorShape]] = (), guards: Sequence[tuple[str, Guard]] = ()
    ) -> None:
        # Powertools parses a validated JSON body with this: the body ``refusal()`` already read (decoded once).
        # Never Powertools' debug mode (which POWERTOOLS_DEV, on in `make run` for pretty logs, would turn on):
        # it prints every event whole, tokens and order keys included, and answers a crash with its traceback.
        super().__init__(enable_validation=True, json_body_deserializer=self._json_body, debug=False)
        self.error_shapes = list(error_shapes)
        self.guards = list(guards)
        self.body_rules: list[BodyRule] = []

    def route(self, rule: str, method: Any, *args: Any, **kwargs: Any) -> Callable[[Any], Any]:
        """Powertools' ``route``, also noting what body the route takes (``body_refusal`` checks it)."""
        register = super().route(rule, method, *args, **kwargs)

        def note(func: Any) -> Any:
            for item in (method,) if isinstance(method, str) else method:
                self.body_rules.append(BodyRule(item.upper(), _rule_pattern(rule), rule, func))
            return register(func)

        return note

    def get_openapi_schema(self, **kwargs: Any) -> OpenAPI:
        """Powertools' document, with the security schemes the routes name when none was configured: they are
        built only here (``openapi.security_schemes``), as no request needs their costly models."""
        if kwargs.get("security_schemes") is None and self.openapi_config.security_schemes is None:
            from woo_backend.api.openapi import security_schemes

            kwargs["security_schemes"] = security_schemes()
        return super().get_openapi_schema(**kwargs)

    def _json_body(self, text: str) -> Any:
        return request_body(self).json if "body" in self.context else parse_json(text)

    def body_rule(self, method: str, path: str) -> BodyRule | None:
        """The route Powertools will pick (a static rule before a dynamic one), or None (a 404)."""
        rules = [r for r in self.body_rules if r.method == method and r.pattern.match(path)]
        return min(rules, key=lambda r: "<" in r.rule, default=None)

    def body_refusal(self, request: APIGatewayProxyEventV2) -> None:
        """Check the body before Powertools reads it: 413 over the route's limit, 415 for a media type or
        charset the route does not take, 400 for bytes that are not UTF-8 or JSON (nested at most 32 deep).

        Powertools decodes and parses a validated body before any middleware runs, and raises what is not an
        answer (a UnicodeDecodeError, a RecursionError, a multipart body without a boundary): 500s. So the
        check runs here, before ``resolve()``, and the checked ``Body`` is kept in the resolver's context for
        Powertools (``json_body_deserializer``) and the routes (``bodies.request_body``).
        """
        route = self.body_rule(request.http_method.upper(), request.path)
        if route is None:
            return
        body = Body.of(request)
        if len(body.raw) > route.limit:
            raise BodyTooLarge(f"the body is over the limit of {route.limit // 1024} KB")
        if body.raw:
            validated = route.validated_media
            accepted = validated or frozenset({JSON, FORM})
            if body.media and body.media not in accepted:
                raise UnsupportedMediaType(f"send {' or '.join(sorted(accepted))}")
            body.check_charset()
            if validated and body.media in ("", JSON):
                body.json  # noqa: B018  # parsed now: a malformed body is refused before validation
            elif not route.delivery:  # the route parses it (bodies.body_fields, Dotix's num), safely after this
                text = body.text  # UTF-8, or 400
                if body.media == JSON:
                    check_json_depth(text)
        self.context["body"] = body

    def error_shape_for(self, path: str) -> ErrorShape:
        return next((shape for prefix, shape in self.error_shapes if path.startswith(prefix)), native_error)

    def render_error(self, exc: DomainError, path: str) -> tuple[int, dict[str, Any]]:
        status, body = self.error_shape_for(path)(exc)
        if status >= 500:
            logger.warning("upstream failure", extra={"code": exc.code, "detail": exc.message})
        return status, body

    def refusal(self, event: Mapping[str, Any]) -> dict[str, Any] | None:
        """The API Gateway answer refusing ``event`` if a guard of its path refuses it, or its body is refused
        (``body_refusal``: after the guards, so a caller without credentials is 401 whatever its body), else None.

        The path is the one Powertools routes on (a named stage's prefix removed). A guard runs before routing,
        so under a guarded prefix a path no route serves is 401 without credentials (API Gateway's own routes
        answer such paths 404 before the function is called).
        """
        request = APIGatewayProxyEventV2(dict(event))
        guards = [guard for prefix, guard in self.guards if request.path.startswith(prefix)]
        try:
            for guard in guards:
                guard(request.headers)
            self.body_refusal(request)
        except DomainError as exc:
            status, body = self.render_error(exc, request.path)
            return {
                "statusCode": status,
                "headers": {"Content-Type": content_types.APPLICATION_JSON},
                "body": compact_json(body),
                "isBase64Encoded": False,
            }
        return None


def create_resolver(
    error_shapes: Sequence[tuple[str, ErrorShape]] = (), guards: Sequence[tuple[str, Guard]] = ()
) -> Resolver:
    """An HTTP API resolver with pydantic validation, guards and the error shapes wired in."""
    app = Resolver(error_shapes, guards)

    @app.exception_handler(DomainError)
    def _domain_error(exc: DomainError) -> Response[str]:
        status, body = app.render_error(exc, app.current_event.path)
        return json_response(status, body)

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported_content_type(_: RequestUnsupportedContentType) -> Response[str]:
        return error_response(415, "unsupported_content_type", "send application/json")

    @app.exception_handler(RequestValidationError)
    def _validation_error(exc: RequestValidationError) -> Response[str]:
        errors = list(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(400, "malformed_json", "the request body is not valid JSON")
        # In the path's error shape (Dotix answers a bad header in its own).
        status, body = app.render_error(ValidationFailed(describe_validation_errors(errors)), app.current_event.path)
        return json_response(status, body)

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


def http_entrypoint(app: Resolver) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The Lambda handler for ``app``: correlation id, metrics flush; guards before routing. (Tracing: Lambda's
    own invocation segment, no SDK here.)"""

    from woo_backend import snapstart

    snapstart.register_hooks()  # the HTTP functions may run from a SnapStart snapshot

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        refused = app.refusal(event)
        if refused is not None:
            return refused
        return app.resolve(event, context)

    return handler
