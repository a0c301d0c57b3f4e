"""In-process Lambda containers.

Each container is its own import of the handler module and of the ``woo_backend`` layer (purged from
``sys.modules`` for the import), made with the function's environment, so cold-start state is per
container as in Lambda. A container runs one event at a time; a function scales to
``LOCAL_MAX_CONCURRENCY`` containers, so concurrent requests really run concurrently.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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


class FunctionPool:
    """The containers of one function, created on demand up to ``max_concurrency``."""

    def __init__(self, function: Function, environment: dict[str, str], max_concurrency: int) -> None:
        self.function = function
        self.environment = environment
        self.max_concurrency = max_concurrency
        self._containers: list[Container] = []
        self._idle: list[Container] = []
        self._cond = threading.Condition()
        self._creating = 0

    def _acquire(self) -> Container:
        with self._cond:
            while True:
                if self._idle:
                    return self._idle.pop()
                if len(self._containers) + self._creating < self.max_concurrency:
                    self._creating += 1
                    break
                self._cond.wait()
        try:
            container = Container(self.function, self.environment)
        finally:
            with self._cond:
                self._creating -= 1
        with self._cond:
            self._containers.append(container)
        return container

    def _release(self, container: Container) -> None:
        with self._cond:
            self._idle.append(container)
            self._cond.notify()

    def invoke(self, event: dict[str, Any]) -> Any:
        container = self._acquire()
        try:
            return container.invoke(event)
        finally:
            self._release(container)

    def warm(self) -> None:
        self._release(self._acquire())
