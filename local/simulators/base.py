"""What both simulators share: routing, JSON, Basic/Bearer checks, fault injection, a request log.

Control endpoints (not part of any upstream's API):
- ``POST /_sim/faults`` ``{"error_rate": 0.2, "latency_ms": 50, "rules": [{"method": "POST",
  "path": "/api/plugin/users/update-solde", "mode": "500|timeout|malformed|drop", "times": 1}]}``
  (``drop`` applies the change, then fails the answer: the "lost response" case);
- ``DELETE /_sim/faults``; ``GET /_sim/requests`` (the log); ``DELETE /_sim/requests``;
- ``GET /_sim/state``; ``POST /_sim/reset`` (back to the seed).
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from woo_backend.settings import upstream_read_timeout

Handler = Callable[..., Response]

# The "timeout" fault answers this long after the clients' read timeout: the call times out, and the
# simulator's thread is not kept longer than that.
TIMEOUT_MARGIN_SECONDS = 0.5


def timeout_fault_seconds() -> float:
    """The clients' read timeout (the variable the functions read, in this same environment) plus the margin."""
    return upstream_read_timeout() + TIMEOUT_MARGIN_SECONDS


def json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, default=json_default), status=status, content_type="application/json", headers=headers
    )


@dataclass
class FaultRule:
    method: str
    path: str
    mode: str
    times: int = 1

    def matches(self, method: str, path: str) -> bool:
        return self.method in (method, "*") and (
            self.path == path or (self.path.endswith("*") and path.startswith(self.path[:-1]))
        )


@dataclass
class Faults:
    error_rate: float = 0.0
    latency_ms: int = 0
    rules: list[FaultRule] = field(default_factory=list)


class Simulator:
    name = "simulator"

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.faults = Faults()
        self.requests: list[dict[str, Any]] = []
        self.url_map = Map(
            [
                Rule("/_sim/faults", methods=["POST", "DELETE"], endpoint=self._sim_faults),
                Rule("/_sim/requests", methods=["GET", "DELETE"], endpoint=self._sim_requests),
                Rule("/_sim/state", methods=["GET"], endpoint=self._sim_state),
                Rule("/_sim/reset", methods=["POST"], endpoint=self._sim_reset),
            ]
        )
        self.reset()

    # ------------------------------------------------------------ to override
    def reset(self) -> None:
        raise NotImplementedError

    def state(self) -> dict[str, Any]:
        raise NotImplementedError

    def authorize(self, request: Request) -> Response | None:
        return None

    # ------------------------------------------------------------ plumbing
    def route(self, path: str, methods: list[str], endpoint: Handler) -> None:
        self.url_map.add(Rule(path, methods=methods, endpoint=endpoint))

    def _sim_faults(self, request: Request) -> Response:
        with self.lock:
            if request.method == "DELETE":
                self.faults = Faults()
            else:
                body = request.get_json(force=True)
                self.faults = Faults(
                    error_rate=float(body.get("error_rate", 0)),
                    latency_ms=int(body.get("latency_ms", 0)),
                    rules=[FaultRule(**r) for r in body.get("rules", [])],
                )
        return json_response({"ok": True})

    def _sim_requests(self, request: Request) -> Response:
        with self.lock:
            if request.method == "DELETE":
                self.requests.clear()
                return json_response({"ok": True})
            return json_response(list(self.requests))

    def _sim_state(self, request: Request) -> Response:
        with self.lock:
            return json_response(self.state())

    def _sim_reset(self, request: Request) -> Response:
        with self.lock:
            self.reset()
            self.faults = Faults()
            self.requests.clear()
        return json_response({"ok": True})

    def _fault_for(self, method: str, path: str) -> str | None:
        with self.lock:
            for rule in self.faults.rules:
                if rule.times > 0 and rule.matches(method, path):
                    rule.times -= 1
                    return rule.mode
            if self.faults.error_rate and random.random() < self.faults.error_rate:
                return "500"
        return None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        return self.dispatch(request)(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        control = request.path.startswith("/_sim/")
        fault: str | None = None
        if not control:
            with self.lock:
                self.requests.append({"method": request.method, "path": request.path, "query": request.args.to_dict()})
            if self.faults.latency_ms:
                time.sleep(self.faults.latency_ms / 1000)
        try:
            endpoint, args = self.url_map.bind_to_environ(request.environ).match()
        except HTTPException as exc:
            return json_response({"code": "rest_no_route", "message": exc.description}, status=exc.code or 404)
        if not control:
            denied = self.authorize(request)
            if denied is not None:
                return denied
            fault = self._fault_for(request.method, request.path)
            if fault == "500":
                return json_response({"message": "simulated failure"}, status=500)
            if fault == "timeout":
                time.sleep(timeout_fault_seconds())
                return json_response({"message": "too late"}, status=504)
            if fault == "malformed":
                return Response("{not json", status=200, content_type="application/json")
        with self.lock:
            response: Response = endpoint(request, **args)
        if not control and fault == "drop":
            return json_response({"message": "simulated failure after the change"}, status=502)
        return response

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> BaseWSGIServer:
        server = make_server(host, port, self, threaded=True)
        # Polled every 0.1 s for a shutdown: the local runtime stops within a second.
        threading.Thread(target=server.serve_forever, args=(0.1,), name=f"{self.name}-sim", daemon=True).start()
        return server
