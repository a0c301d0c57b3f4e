"""A small stand-in for API Gateway HTTP API (payload v2) in front of the in-process functions.

SAM CLI's local API service needs Docker to run functions; its Flask app could take a custom
runner, but that is private API. This adapter is small and tested against the event shape instead.
"""

from __future__ import annotations

import base64
import json
import re
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl

from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html
from werkzeug.wrappers import Request, Response

from local.lambdas import FunctionError
from local.template import Cors, Route, Schedule
from woo_backend.clock import utcnow

Invoke = Callable[[str, dict[str, Any]], Any]
# Each function's running containers (process ids): ``GET /_local/containers``.
Containers = Callable[[], Mapping[str, list[int]]]
# The whole API's OpenAPI document (local/openapi.py), built when first asked for.
OpenApiSource = Callable[[], Mapping[str, Any]]
# Swagger UI's assets as Powertools ships them: the docs page works without internet.
SWAGGER_ASSETS = {"swagger-ui-bundle.min.js": "text/javascript", "swagger-ui.min.css": "text/css"}

TEXT_TYPES = ("text/", "application/json", "application/x-www-form-urlencoded", "application/xml")
# Path parameters never shown in an access line (order keys, tokens), and order keys wherever they appear.
SECRET_PARAMETER = re.compile(r"key|token|secret", re.IGNORECASE)
ORDER_KEY = re.compile(r"(wc_order_)[A-Za-z0-9]+")
_print_lock = threading.Lock()


def access_line(method: str, path: str, status: int, seconds: float, function: str) -> str:
    """``GET /credits/v1/orders/wc_order_*** 200 12 ms CreditsFunction``: no query string (it may carry
    credentials) and no order key or token from the path."""
    shown = ORDER_KEY.sub(r"\1***", path)
    return f"{method} {shown} {status} {seconds * 1000:.0f} ms {function}"


def http_api_event(request: Request, route: Route, path_params: dict[str, str]) -> dict[str, Any]:
    raw_body = request.get_data(cache=True)
    content_type = request.headers.get("Content-Type", "")
    is_text = not raw_body or content_type.startswith(TEXT_TYPES) or not content_type
    body: str | None
    if not raw_body:
        body, encoded = None, False
    elif is_text:
        try:
            body, encoded = raw_body.decode("utf-8"), False
        except UnicodeDecodeError:
            body, encoded = base64.b64encode(raw_body).decode(), True
    else:
        body, encoded = base64.b64encode(raw_body).decode(), True
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for key, value in request.headers.items():
        lowered = key.lower()
        if lowered == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        headers[lowered] = f"{headers[lowered]},{value}" if lowered in headers else value
    raw_query = request.query_string.decode("latin-1")
    query: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    now = utcnow()
    request_id = str(uuid.uuid4())
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": request.path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": request.host,
            "domainPrefix": request.host.split(".")[0],
            "http": {
                "method": request.method,
                "path": request.path,
                "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                "sourceIp": request.remote_addr or "127.0.0.1",
                "userAgent": request.headers.get("User-Agent", ""),
            },
            "requestId": request_id,
            "routeKey": route.route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": encoded,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_params:
        event["pathParameters"] = path_params
    if body is not None:
        event["body"] = body
    return event


def lambda_response(result: Any) -> Response:
    """Turn a handler's answer into HTTP the way API Gateway's payload v2 does."""
    if not isinstance(result, dict) or "statusCode" not in result:
        # A bare value: API Gateway infers 200 with the JSON of it.
        return Response(json.dumps(result), status=200, content_type="application/json")
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
    response = Response(data, status=int(result["statusCode"]))
    response.headers.remove("Content-Type")
    for key, value in (result.get("headers") or {}).items():
        response.headers[key] = str(value)
    for key, values in (result.get("multiValueHeaders") or {}).items():
        for value in values:
            response.headers.add(key, str(value))
    for cookie in result.get("cookies") or []:
        response.headers.add("Set-Cookie", cookie)
    return response


def _report(exc: Exception) -> None:
    """A function's failure in one line (its container logged the traceback); the runtime's own, in full."""
    if isinstance(exc, FunctionError):
        print(exc, file=sys.stderr, flush=True)
    else:
        traceback.print_exc()


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


class LocalHttpApi:
    """WSGI app: routes from the template, ``/health``, ``/_local/schedules/{LogicalId}``, and the API's
    document at ``/openapi.json`` with its Swagger UI page at ``/docs``."""

    def __init__(
        self,
        routes: Iterable[Route],
        schedules: Iterable[Schedule],
        invoke: Invoke,
        cors: Cors | None = None,
        openapi: OpenApiSource | None = None,
        containers: Containers | None = None,
    ) -> None:
        self.routes = list(routes)
        self.containers = containers
        self.cors = cors
        self.openapi = openapi
        self.schedules = {s.function: s for s in schedules} | {s.name: s for s in schedules}
        self.invoke = invoke
        self.ready = threading.Event()

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            if route.method not in (method, "ANY"):
                continue
            found = route.pattern.match(path)
            if found:
                return route, found.groupdict()
        return None

    def run_schedule(self, name: str) -> Any:
        schedule = self.schedules[name]
        scheduled_time = utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
        payload = (schedule.input or "{}").replace("<aws.scheduler.scheduled-time>", scheduled_time)
        return self.invoke(schedule.function, json.loads(payload))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        started = time.monotonic()
        response = self.dispatch(request)
        self.log_access(request, response.status_code, time.monotonic() - started)
        return response(environ, start_response)

    def log_access(self, request: Request, status: int, seconds: float) -> None:
        """One line per request, as API Gateway's access log keeps one (the function, or ``-``)."""
        path = request.path
        function = "-"
        found = self.match(request.method, path)
        if found is not None:
            route, params = found
            function = route.function
            for name, value in params.items():
                if SECRET_PARAMETER.search(name):
                    path = path.replace(value, "***")
        elif path.startswith("/_local/schedules/") and (schedule := self.schedules.get(path.split("/")[-1])):
            function = schedule.function
        line = access_line(request.method, path, status, seconds, function)
        with _print_lock:
            print(line, file=sys.stdout, flush=True)

    def dispatch(self, request: Request) -> Response:
        origin = request.headers.get("Origin")
        if self.cors is not None and origin and request.method == "OPTIONS":
            return self._preflight(request, origin, self.cors)
        response = self._dispatch(request)
        if self.cors is not None and origin and self.cors.allows(origin):
            # As API Gateway does for a configured HTTP API: the header on every answer to an allowed origin.
            response.headers["Access-Control-Allow-Origin"] = "*" if "*" in self.cors.origins else origin
            response.headers.add("Vary", "Origin")
        return response

    @staticmethod
    def _preflight(request: Request, origin: str, cors: Cors) -> Response:
        """API Gateway answers a CORS preflight itself (204), without calling a function."""
        method = (request.headers.get("Access-Control-Request-Method") or "").upper()
        asked = [h.strip().lower() for h in (request.headers.get("Access-Control-Request-Headers") or "").split(",")]
        response = Response(status=204)
        if not cors.allows(origin) or method not in cors.methods or not set(filter(None, asked)) <= set(cors.headers):
            return response  # no CORS headers: the browser refuses the real request
        response.headers["Access-Control-Allow-Origin"] = "*" if "*" in cors.origins else origin
        response.headers["Access-Control-Allow-Methods"] = ",".join(cors.methods)
        response.headers["Access-Control-Allow-Headers"] = ",".join(cors.headers)
        response.headers["Access-Control-Max-Age"] = str(cors.max_age)
        response.headers["Vary"] = "Origin"
        return response

    def _dispatch(self, request: Request) -> Response:
        if request.path == "/health" and request.method == "GET":
            return _json(200 if self.ready.is_set() else 503, {"status": "ok" if self.ready.is_set() else "starting"})
        if request.path.startswith("/_local/schedules/") and request.method == "POST":
            name = request.path.removeprefix("/_local/schedules/")
            if name not in self.schedules:
                return _json(404, {"message": f"no schedule {name}"})
            started = time.monotonic()
            try:
                result = self.run_schedule(name)
            except Exception as exc:  # the run failed: say so, as the Lambda console would
                _report(exc)
                return _json(500, {"schedule": name, "errorType": type(exc).__name__, "errorMessage": str(exc)})
            return _json(200, {"schedule": name, "result": result, "seconds": round(time.monotonic() - started, 3)})
        if request.path == "/_local/containers" and request.method == "GET" and self.containers is not None:
            return _json(200, dict(self.containers()))
        if self.openapi is not None and request.method == "GET" and (docs := self._docs(request, self.openapi)):
            return docs
        found = self.match(request.method, request.path)
        if found is None:
            # What API Gateway answers for a route it does not have.
            return _json(404, {"message": "Not Found"})
        route, params = found
        try:
            result = self.invoke(route.function, http_api_event(request, route, params))
        except Exception as exc:  # a crashed function: API Gateway answers 500 without details
            _report(exc)
            return _json(500, {"message": "Internal Server Error"})
        return lambda_response(result)

    @staticmethod
    def _docs(request: Request, openapi: OpenApiSource) -> Response | None:
        """``/openapi.json``, ``/docs`` (``?format=json``: the document, as Swagger UI links it) and its assets."""
        if request.path == "/openapi.json" or (request.path == "/docs" and request.args.get("format") == "json"):
            return _json(200, openapi())
        if request.path == "/docs":
            page = generate_swagger_html(
                spec=json.dumps(openapi()).replace("</", "<\\/"),  # no "</script>" inside the page's script
                swagger_js="/docs/swagger-ui-bundle.min.js",
                swagger_css="/docs/swagger-ui.min.css",
                swagger_base_url="/docs",
                oauth2_config=None,
            )
            return Response(page, status=200, content_type="text/html; charset=utf-8")
        asset = request.path.removeprefix("/docs/")
        if asset in SWAGGER_ASSETS:
            package = resources.files("aws_lambda_powertools.event_handler.openapi.swagger_ui")
            return Response(package.joinpath(asset).read_bytes(), status=200, content_type=SWAGGER_ASSETS[asset])
        return None
