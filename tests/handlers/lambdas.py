"""Each function loaded in process as ``local/lambdas.py`` loads it (a fresh import of its handler module and
of the ``woo_backend`` layer, with its environment from ``template.yaml``), then called through ``lambda_handler``.

Every container keeps its own layer: while it runs, ``sys.modules`` holds its modules, so what it imports
late resolves to its own classes, as in a Lambda container, even with two containers of one function in a test.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

from local import template
from local.lambdas import LAYER_PACKAGE, Container, LambdaContext
from tests.handlers.events import Answer, api_event
from tests.handlers.upstreams import TOPOMER_URL, WOO_URL

SECRETS = {
    "WOOCOMMERCE_CONSUMER_KEY": "ck_handlers",
    "WOOCOMMERCE_CONSUMER_SECRET": "cs_handlers",
    "WOOCOMMERCE_WEBHOOK_SECRET": "webhook-secret-handlers",
    "TOPOMER_CLIENT_ID": "topomer-client",
    "TOPOMER_CLIENT_SECRET": "topomer-secret",
    "ACCOUNT_SIGNING_SECRET": "account-signing-secret-handlers",
    "ADMIN_API_KEY": "admin-key-handlers",
}
RUNTIME = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "WOOCOMMERCE_URL": WOO_URL,
    "TOPOMER_URL": TOPOMER_URL,
}


def environment(logical_id: str, overrides: dict[str, str] | None = None) -> dict[str, str]:
    """The function's template environment (secrets from the environment, not SSM) plus ``overrides``."""
    return {**template.functions()[logical_id].local_environment, **RUNTIME, **SECRETS, **(overrides or {})}


def layer_modules() -> dict[str, ModuleType]:
    return {n: m for n, m in sys.modules.items() if n == LAYER_PACKAGE or n.startswith(LAYER_PACKAGE + ".")}


@contextmanager
def own_layer(layer: dict[str, ModuleType]) -> Iterator[dict[str, ModuleType]]:
    """``sys.modules`` holds ``layer`` inside the block (modules imported meanwhile join it), then what it held."""
    before = layer_modules()
    for name in before:
        del sys.modules[name]
    sys.modules.update(layer)
    try:
        yield layer
    finally:
        layer.update(layer_modules())
        for name in layer_modules():
            del sys.modules[name]
        sys.modules.update(before)


@contextmanager
def own_request() -> Iterator[None]:
    """Powertools keeps the request being resolved on ``BaseRouter`` itself (``current_event``, ``lambda_context``:
    class attributes, one per process). A request run inside another one (a rival, see ``before_writes``) would
    leave its own there; each container is a process of its own in Lambda, so the outer request gets its back."""
    saved = {name: vars(BaseRouter)[name] for name in ("current_event", "lambda_context") if name in vars(BaseRouter)}
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(BaseRouter, name, value)


class Function:
    """One container of a template function, called with API Gateway events."""

    def __init__(self, logical_id: str, env: dict[str, str]) -> None:
        self.definition = template.functions()[logical_id]
        self.env = env
        self.container = Container(self.definition, env)
        self.layer = layer_modules()

    def rival(self) -> Function:
        """Another container of the same function. Its handler module has this one's name, as every container's
        ``app`` has in Lambda: Powertools' idempotency keys carry the module's name, so the two share them."""
        return Function(self.definition.logical_id, self.env)

    def invoke(self, event: dict[str, Any]) -> Any:
        context = LambdaContext.for_invocation(self.definition)
        with own_layer(self.layer), own_request():
            sys.modules[self.container.module.__name__] = self.container.module  # a rival may share the name
            return self.container.handler(event, context)

    def __call__(self, method: str, path: str, **request: Any) -> Answer:
        """``request``: what ``events.api_event`` takes (headers, query, json_body, form, body, ...)."""
        return Answer.of(self.invoke(api_event(method, path, **request)))

    def module(self, name: str) -> ModuleType:
        """One of this container's layer modules (``woo_backend.aws``...)."""
        return self.layer[name]


# ------------------------------------------------------------------ hooks into a container (update here if moved)
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem")


def before_writes(fn: Function, writer: Callable[[], None], *, times: int | None = None) -> list[int]:
    """Run ``writer`` just before each DynamoDB write ``fn``'s container sends (``times`` at most): another
    request getting there first, between this one's read and its write. Returns a list counting the runs.

    The container's client is ``woo_backend.aws.dynamodb_client()`` (one per container); the hook is botocore's
    public event system, so no store method is replaced.
    """
    runs: list[int] = []

    def hook(**_: Any) -> None:
        if times is None or len(runs) < times:
            runs.append(1)
            writer()

    client = fn.module("woo_backend.aws").dynamodb_client()
    for operation in WRITES:
        client.meta.events.register(f"before-call.dynamodb.{operation}", hook)
    return runs
