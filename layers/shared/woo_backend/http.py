"""The base of every upstream client: httpx with explicit timeouts, bounded retries, typed parsing.

httpx is imported and its client built at the first request, not at cold start: most requests never call an
upstream (a credits read), and httpx with httpcore, h11 and anyio is a fair share of a cold start.

Retries are written here rather than taken from a retry library because the decision depends on
request safety (a connection that never opened is always safe to retry, a POST that may have been
received is not unless the caller says so) and on the status, which is ten lines of code.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, TypeAdapter, ValidationError

from woo_backend.backoff import backoff_delay
from woo_backend.errors import (
    InvalidRequest,
    UpstreamInvalidResponse,
    UpstreamNotFound,
    UpstreamRejected,
    UpstreamUnavailable,
)
from woo_backend.observability import logger, mask_text

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")
ModelT = TypeVar("ModelT", bound=BaseModel)

# How long a client waits for an answer unless UPSTREAM_READ_TIMEOUT_SECONDS says otherwise (the local
# simulators' "timeout" fault waits just past whichever applies).
READ_TIMEOUT_SECONDS = 5.0


def upstream_timeout(read_seconds: float = READ_TIMEOUT_SECONDS) -> httpx.Timeout:
    import httpx

    return httpx.Timeout(connect=2.0, read=read_seconds, write=5.0, pool=2.0)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Gateway answers: a proxy in front of the server says the server did not answer in time or answered
# nonsense, so the request may have been processed. Other 5xx (500, 503) come from the server itself and
# are taken to mean it did not act: an assumption (a server may fail after writing), stated in the README.
AMBIGUOUS_STATUSES = frozenset({502, 504})


class UpstreamOutcomeUnknown(UpstreamUnavailable):
    """A request that is not safe to repeat was sent, and whether the server acted on it is unknown.

    Raised (instead of a plain ``UpstreamUnavailable``) for a non-repeatable request after a timeout once
    the connection was open, a connection dropped before the answer, or a 502/504. The caller must not
    send it again blindly: the server may have taken it. Its API code stays ``upstream_unavailable`` (503).
    """


class UnsafeId(InvalidRequest):
    """An id that cannot be a segment of an upstream URL (empty, "." or ".."): it would name another path."""

    code = "invalid_id"


def segment(value: object) -> str:
    """``value`` as one segment of an upstream URL: percent-encoded ("/", "?", "#", "%" and the rest included).

    Every id put into an upstream path goes through here, so an id can never reach another upstream path.
    ``quote`` leaves dots alone and a server resolves "." and ".." (encoded or not) as dot-segments: refused.
    """
    text = str(value)
    if text in ("", ".", ".."):
        raise UnsafeId(f"{text!r} is not a valid id")
    return quote(text, safe="")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    base_delay: float = 0.1
    max_delay: float = 2.0

    def delay(self, attempt: int) -> float:
        """Seconds before attempt ``attempt`` (1 for the first repeat): full jitter, as every backoff here."""
        return backoff_delay(attempt, self.base_delay, self.max_delay)


class ClientOptions(TypedDict, total=False):
    """What a concrete client passes through to ``UpstreamClient`` unchanged (tests and scripts set them)."""

    timeout: httpx.Timeout | float  # httpx's own, or seconds to wait for an answer (``upstream_timeout``)
    retry: RetryPolicy | None
    transport: httpx.BaseTransport | None


class RequestOptions(TypedDict, total=False):
    """``UpstreamClient.request``'s options, for clients that wrap it (Topomer adds its bearer)."""

    params: Mapping[str, Any] | None
    json: Any
    headers: Mapping[str, str] | None
    repeatable: bool | None


class UpstreamClient:
    """One upstream service. Thread-safe; counts its round trips (for the bench)."""

    name = "upstream"

    def __init__(
        self,
        base_url: str,
        *,
        auth: httpx.Auth | Callable[[httpx.Request], httpx.Request] | None = None,
        timeout: httpx.Timeout | float = READ_TIMEOUT_SECONDS,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.retry = retry or RetryPolicy()
        self.round_trips = 0
        self._count_lock = threading.Lock()
        self._base_url, self._auth, self._timeout, self._transport = base_url, auth, timeout, transport
        self._client: httpx.Client | None = None
        self._client_lock = threading.Lock()

    @property
    def _http(self) -> httpx.Client:
        """The httpx client, built at the first request (and again after ``reset``)."""
        client = self._client
        if client is None:
            with self._client_lock:
                if self._client is None:
                    self._client = self._new_client()
                client = self._client
        return client

    def _new_client(self) -> httpx.Client:
        import httpx

        timeout = self._timeout
        return httpx.Client(
            base_url=self._base_url,
            auth=self._auth,
            timeout=upstream_timeout(timeout) if isinstance(timeout, int | float) else timeout,
            transport=self._transport,
            headers={"User-Agent": "woo-backend/1.0", "Accept": "application/json"},
            event_hooks={"request": [self._count]},
        )

    def _count(self, _: httpx.Request) -> None:
        with self._count_lock:
            self.round_trips += 1

    def reset(self) -> None:
        """Drop the connection pool; the next request builds a new one. After a SnapStart restore the pooled
        sockets belong to another machine's past (``woo_backend.snapstart``)."""
        with self._client_lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def close(self) -> None:
        self.reset()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        repeatable: bool | None = None,
    ) -> httpx.Response:
        """Send with retries; map failures to the upstream exceptions.

        ``repeatable`` says a request is safe to send again although its method is not (for example an
        update that sets an absolute value); by default only GET/HEAD/OPTIONS/PUT/DELETE are repeated.
        A request that is not repeated and may have been taken raises ``UpstreamOutcomeUnknown``.
        """
        import httpx

        safe = method.upper() in SAFE_METHODS if repeatable is None else repeatable
        last_problem = "no attempt"
        last_status: int | None = None
        ambiguous = False
        for attempt in range(self.retry.attempts):
            if attempt:
                time.sleep(self.retry.delay(attempt))
            try:
                response = self._http.request(method, path, params=params, json=json, headers=headers)
            # Never sent: no connection (refused, or not opened in time) or none free in the pool. Safe to repeat.
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                last_problem, last_status = f"connection failed ({type(exc).__name__})", None
                continue
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                last_problem, last_status = f"no answer ({type(exc).__name__})", None  # the last problem's status
                if safe:
                    continue
                ambiguous = True
                break
            if response.status_code >= 500:
                last_problem = f"answered {response.status_code}"
                last_status = response.status_code
                if safe:
                    continue
                ambiguous = response.status_code in AMBIGUOUS_STATUSES
                break
            return self._check(response)
        logger.warning(
            "upstream unavailable",
            extra={"upstream": self.name, "method": method, "path": mask_text(path), "problem": last_problem},
        )
        if ambiguous:
            raise UpstreamOutcomeUnknown(self.name, f"{last_problem}; it may have been taken", status=last_status)
        raise UpstreamUnavailable(self.name, last_problem, status=last_status)

    def _check(self, response: httpx.Response) -> httpx.Response:
        status = response.status_code
        if status == 404:
            raise UpstreamNotFound(self.name, "not found", status=status)
        if status >= 400:
            raise UpstreamRejected(self.name, f"request refused ({status})", status=status)
        return response

    def parse(self, response: httpx.Response, model: type[ModelT]) -> ModelT:
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            raise UpstreamInvalidResponse(self.name, f"unexpected answer: {exc.error_count()} field error(s)") from exc

    def parse_as(self, response: httpx.Response, adapter: TypeAdapter[T]) -> T:
        try:
            return adapter.validate_json(response.content)
        except ValidationError as exc:
            raise UpstreamInvalidResponse(self.name, f"unexpected answer: {exc.error_count()} field error(s)") from exc
