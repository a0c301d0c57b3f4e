"""What the benches share: the embedded DynamoDB, round-trip counting, medians, handler loading."""

from __future__ import annotations

import importlib.util
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import boto3

from local import template
from local.embedded_aws import serve_embedded_aws
from local.lambdas import LambdaContext
from local.run import LOCAL_DEFAULTS

RUNS = 300


class RoundTrips:
    """Counts DynamoDB requests through botocore's event system."""

    def __init__(self, client: Any) -> None:
        self.count = 0
        client.meta.events.register("before-send.dynamodb.*", self._seen)

    def _seen(self, **_: Any) -> None:
        self.count += 1

    def of(self, action: Callable[[], object]) -> int:
        before = self.count
        action()
        return self.count - before


class AllRoundTrips:
    """DynamoDB requests plus each upstream client's ``round_trips``, for one action at a time."""

    def __init__(self, dynamodb_client: Any, **upstreams: Any) -> None:
        self.dynamo = RoundTrips(dynamodb_client)
        self.upstreams = upstreams

    def of(self, action: Callable[[], object]) -> str:
        before = [client.round_trips for client in self.upstreams.values()]
        dynamo = self.dynamo.of(action)
        counts = [client.round_trips - b for client, b in zip(self.upstreams.values(), before, strict=True)]
        named = (f"{name} {n}" for name, n in zip(self.upstreams, counts, strict=True))
        return ", ".join([f"DynamoDB {dynamo}", *named])


@contextmanager
def embedded_dynamodb() -> Iterator[str]:
    server = serve_embedded_aws()
    endpoint = f"http://127.0.0.1:{server.server_port}"
    saved = dict(os.environ)
    os.environ.update(
        {
            **LOCAL_DEFAULTS,
            "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
            "CREDITS_TABLE": "CreditsTable",
            "PAYMENTS_TABLE": "PaymentsTable",
            "PROMO_TABLE": "PromoTable",
            "ACCOUNT_TABLE": "AccountTable",
            "ADMIN_TABLE": "AdminTable",  # the promo and admin functions keep their audit trail there
            "IDEMPOTENCY_TABLE": "IdempotencyTable",
            "WOOCOMMERCE_URL": "http://127.0.0.1:9",
            "TOPOMER_URL": "http://127.0.0.1:9",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
    )
    from woo_backend.aws import dynamodb_client

    dynamodb_client.cache_clear()  # one client per container: this "container" has a new endpoint
    try:
        template.create_tables(boto3.client("dynamodb", endpoint_url=endpoint))
        yield endpoint
    finally:
        dynamodb_client.cache_clear()
        os.environ.clear()
        os.environ.update(saved)
        server.shutdown()


def median_ms(action: Callable[[], object], runs: int = RUNS) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def load_handler(logical_id: str) -> tuple[ModuleType, LambdaContext]:
    """The function's handler module, imported as a cold start would, and a context for it."""
    from woo_backend.bootstrap import common

    # A container makes its own upstream clients (one each, bootstrap.common), for the upstreams it is given now.
    common.topomer.cache_clear()
    common.woocommerce.cache_clear()
    fn = template.functions()[logical_id]
    spec = importlib.util.spec_from_file_location(f"bench_{logical_id}", fn.module_path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pydantic resolves the handler's annotations through it
    spec.loader.exec_module(module)
    return module, LambdaContext(logical_id, 512, "arn:bench", "bench", time.monotonic() + 900)


@contextmanager
def simulated_upstreams() -> Iterator[tuple[Any, Any]]:
    """The embedded DynamoDB plus the Topomer and WooCommerce simulators over HTTP, wired into the env."""
    from local.simulators.topomer import TopomerSimulator
    from local.simulators.woocommerce import WooCommerceSimulator

    # The WooCommerce simulator in local mode: Basic auth over plain HTTP, on this machine only.
    topomer_sim, woo_sim = TopomerSimulator(), WooCommerceSimulator(local_mode=True)
    servers = [topomer_sim.serve(), woo_sim.serve()]
    try:
        with embedded_dynamodb():
            os.environ["TOPOMER_URL"] = f"http://127.0.0.1:{servers[0].server_port}"
            os.environ["WOOCOMMERCE_URL"] = f"http://127.0.0.1:{servers[1].server_port}"
            yield topomer_sim, woo_sim
    finally:
        for server in servers:
            server.shutdown()
