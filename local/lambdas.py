"""Lambda containers on this machine.

``Container`` is one import of a function's handler module and of the ``woo_backend`` layer (purged from
``sys.modules`` for the import), made with the function's environment (the handler tests load functions
this way). The local runtime runs each container in a process of its own (``ProcessContainer``), as Lambda
does: Powertools keeps the request being resolved on a class (``BaseRouter.current_event``) and its metrics
in module state, and the layer imports some modules late, so two containers in one process would see each
other's requests and classes. The processes are forked from a server that has the libraries imported
already (``multiprocessing``'s forkserver), so a cold start imports only the layer and the handler, and the
libraries' pages are shared. A container runs one event at a time; a function's pool starts containers on
demand, up to ``LOCAL_MAX_CONCURRENCY``, so concurrent requests run concurrently (on every core).
"""

from __future__ import annotations

import importlib.util
import io
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from types import ModuleType
from typing import Any

from local.template import ROOT, Function

LAYER_PACKAGE = "woo_backend"
LAYER_PATH = str(ROOT / "layers" / "shared")  # what Lambda mounts at /opt/python
if LAYER_PATH not in sys.path:
    sys.path.insert(0, LAYER_PATH)
_import_lock = threading.Lock()


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    deadline: float
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"

    @classmethod
    def for_invocation(cls, function: Function) -> LambdaContext:
        """A new request of ``function``: its own request id, and the template's timeout from now."""
        return cls(
            function_name=function.logical_id,
            memory_limit_in_mb=512,
            invoked_function_arn=f"arn:aws:lambda:us-east-1:000000000000:function:{function.logical_id}",
            aws_request_id=str(uuid.uuid4()),
            deadline=time.monotonic() + function.timeout,
        )

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


class Container:
    def __init__(self, function: Function, environment: dict[str, str]) -> None:
        self.function = function
        self.module = self._cold_start(environment)
        self.handler: Callable[[dict[str, Any], Any], Any] = getattr(self.module, function.handler_name)

    def _cold_start(self, environment: dict[str, str]) -> ModuleType:
        with _import_lock, _environment(environment):
            for name in [m for m in sys.modules if m == LAYER_PACKAGE or m.startswith(LAYER_PACKAGE + ".")]:
                del sys.modules[name]
            # One module name for every container of a function, as in Lambda (where each container's handler
            # module is `app`): Powertools' idempotency keys include the module name, so containers named
            # apart would not see each other's keys.
            name = f"_lambda_{self.function.logical_id}"
            spec = importlib.util.spec_from_file_location(name, self.function.module_path)
            assert spec is not None
            assert spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            return module

    def invoke(self, event: dict[str, Any]) -> Any:
        return self.handler(event, LambdaContext.for_invocation(self.function))


# ------------------------------------------------------------------ one container per process
# Imported once by the fork server: what every cold start would otherwise import again (a module missing from
# the layer's dependencies is skipped). Each container's process imports the runtime's main module again as
# multiprocessing does (``local.run``): preloaded, that costs nothing. The layer it imports is the fork server's
# own, which every cold start replaces (``Container``).
PRELOAD = [
    "local.lambdas",
    "local.run",
    "boto3",
    "botocore.session",
    "pydantic",
    "httpx",
    "aws_lambda_powertools",
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.utilities.idempotency",
    "local.preload",
]
# Past the template's timeout, a container is stopped (Lambda ends the invocation there).
TIMEOUT_MARGIN_SECONDS = 1.0
_processes = multiprocessing.get_context("forkserver")
_processes.set_forkserver_preload(PRELOAD)
# Powertools warns at every cold start that POWERTOOLS_DEV is on, which `make run` turns on on purpose.
warnings.filterwarnings("ignore", message="POWERTOOLS_DEV environment variable is enabled")
# multiprocessing runs the main module (``local.run``) again in each new process, which runpy warns of.
warnings.filterwarnings("ignore", message="'local.run' found in sys.modules", category=RuntimeWarning)


def _container_process() -> None:
    """What every container's process does first."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the runtime stops us
    if isinstance(sys.stdout, io.TextIOWrapper):
        # Log lines appear as they are written, each in one write: with write_through (PYTHONUNBUFFERED, or -u)
        # print() writes a line and its newline apart, and two containers sharing the runtime's stdout could
        # interleave them ('{...}{...}' then an empty line; Powertools' metrics are printed so).
        sys.stdout.reconfigure(line_buffering=True, write_through=False)


class FunctionError(Exception):
    """The function raised (its traceback is in its own log) or its container died or timed out."""


def _serve(connection: Connection, function: Function, environment: dict[str, str]) -> None:
    """A container's process: cold start, then one event at a time until the runtime closes the pipe."""
    _container_process()
    os.environ.clear()
    os.environ.update(environment)
    try:
        container = Container(function, {})
    except Exception as exc:
        connection.send(("error", _one_line(exc)))
        return
    connection.send(("ready", None))
    while True:
        try:
            event = connection.recv()
        except (EOFError, OSError):
            return
        try:
            answer = ("ok", container.invoke(event))
        except Exception as exc:
            traceback.print_exc()  # in the function's log, as Lambda writes it
            answer = ("error", _one_line(exc))
        connection.send(answer)


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


def _check(connection: Connection, functions: list[tuple[Function, dict[str, str]]]) -> None:
    """Cold-start every function once, in this throwaway process: their settings' errors, one line each."""
    _container_process()
    errors = []
    for function, environment in functions:
        try:
            Container(function, environment)
        except Exception as exc:
            errors.append(f"{function.logical_id}: {_one_line(exc)}")
    connection.send(errors)


def check_cold_starts(functions: list[tuple[Function, dict[str, str]]]) -> list[str]:
    """Each function's cold start with its environment, in a process of its own that ends after: what failed."""
    parent, child = _processes.Pipe()
    process = _processes.Process(target=_check, args=(child, functions), name="cold-start-check", daemon=True)
    process.start()
    child.close()
    try:
        errors: list[str] = parent.recv()
    except EOFError:
        errors = ["the cold-start check's process died"]
    process.join()
    return errors


class ProcessContainer:
    """One container of ``function``: a process of its own, cold-started with ``environment``."""

    def __init__(self, function: Function, environment: dict[str, str]) -> None:
        self.function = function
        self.connection, child = _processes.Pipe()
        self.process = _processes.Process(
            target=_serve, args=(child, function, environment), name=function.logical_id, daemon=True
        )
        self.process.start()
        child.close()
        self.last_used = time.monotonic()
        self._answer(f"{function.logical_id} did not start")

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def _answer(self, failure: str) -> Any:
        try:
            if not self.connection.poll(self.function.timeout + TIMEOUT_MARGIN_SECONDS):
                self.stop()
                raise FunctionError(f"{failure}: timed out after {self.function.timeout} seconds")
            kind, payload = self.connection.recv()
        except (EOFError, OSError) as exc:
            self.stop()
            raise FunctionError(f"{failure}: its process ended") from exc
        if kind == "error":
            raise FunctionError(f"{self.function.logical_id}: {payload}")
        return payload

    def invoke(self, event: dict[str, Any]) -> Any:
        self.last_used = time.monotonic()
        try:
            self.connection.send(event)
        except OSError as exc:
            self.stop()
            raise FunctionError(f"{self.function.logical_id}: its container is gone") from exc
        return self._answer(self.function.logical_id)

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def close(self) -> None:
        """Ask the process to end (it sees the pipe close); ``stop`` waits for it."""
        self.connection.close()

    def stop(self, wait: float = 1.0) -> None:
        self.connection.close()
        self.process.join(max(0.0, wait))
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


class FunctionPool:
    """The containers of one function, started on demand up to ``max_concurrency``; each serves one event at a
    time. None is started before the function is first called."""

    def __init__(self, function: Function, environment: dict[str, str], max_concurrency: int) -> None:
        self.function = function
        self.environment = environment
        self.max_concurrency = max_concurrency
        self._containers: list[ProcessContainer] = []
        self._idle: list[ProcessContainer] = []
        self._cond = threading.Condition()
        self._creating = 0
        self._stopped = False

    def _acquire(self) -> ProcessContainer:
        with self._cond:
            while True:
                if self._stopped:
                    raise FunctionError(f"{self.function.logical_id}: the runtime is stopping")
                if self._idle:
                    return self._idle.pop()  # the most recently used: the others may go idle long enough to end
                if len(self._containers) + self._creating < self.max_concurrency:
                    self._creating += 1
                    break
                self._cond.wait()
        try:
            container = ProcessContainer(self.function, self.environment)
        finally:
            with self._cond:
                self._creating -= 1
                self._cond.notify()
        with self._cond:
            self._containers.append(container)
        return container

    def _release(self, container: ProcessContainer) -> None:
        with self._cond:
            if container.alive and not self._stopped:
                self._idle.append(container)
            else:
                self._containers.remove(container)
            self._cond.notify()

    def invoke(self, event: dict[str, Any]) -> Any:
        container = self._acquire()
        try:
            return container.invoke(event)
        finally:
            self._release(container)

    @property
    def pids(self) -> list[int]:
        with self._cond:
            return [c.pid for c in self._containers if c.pid is not None]

    def reap(self, idle_seconds: float, last_idle_seconds: float) -> None:
        """End the containers idle for ``idle_seconds``, and the most recently used one once idle for
        ``last_idle_seconds`` (Lambda ends idle containers too; the next call is a cold start)."""
        now = time.monotonic()
        with self._cond:
            limits = [idle_seconds] * (len(self._idle) - 1) + [last_idle_seconds]
            ended = [c for c, limit in zip(self._idle, limits, strict=False) if now - c.last_used > limit]
            for container in ended:
                self._idle.remove(container)
                self._containers.remove(container)
        for container in ended:
            container.stop()

    def close(self) -> None:
        """No more events; every container is asked to end (``stop`` waits for them)."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
            containers = list(self._containers)
        for container in containers:
            container.close()

    def stop(self, deadline: float) -> None:
        """Every container ended: by ``deadline`` (``time.monotonic()``), else killed."""
        self.close()
        with self._cond:
            containers = list(self._containers)
        for container in containers:
            container.stop(wait=deadline - time.monotonic())
