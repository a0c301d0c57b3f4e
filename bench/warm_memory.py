"""Peak RSS of each HTTP function after 100 warm requests: a fresh interpreter per function (its cold start, then
100 requests in process, then ``resource.getrusage`` maxrss), against the embedded DynamoDB and the simulators
served by this process. The goal: under 128 MB, so memory can follow CPU needs rather than imports.

``python -m bench.warm_memory <LogicalId>`` is the child: it prints its statuses and peak RSS as its last line.
"""

from __future__ import annotations

import importlib.util
import json
import os
import resource
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bench.events import http_event
from bench.run import Row

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REQUESTS = 100
GOAL_MB = 128
ADMIN = {"Authorization": f"Bearer {os.environ.get('ADMIN_API_KEY', 'local-admin-api-key')}"}
ORDER_KEY = "wc_order_bench_memory"


@dataclass(frozen=True)
class Context:
    """What Powertools reads of a Lambda context (the child imports nothing of the bench's own machinery)."""

    function_name: str
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:bench"
    aws_request_id: str = "bench"


def _request(logical_id: str) -> dict[str, Any]:
    """The function's typical read: DynamoDB and, where the route asks one, an upstream simulator."""
    from woo_backend.auth import mint_account_credentials

    if logical_id == "CreditsFunction":
        path = f"/credits/v1/orders/{ORDER_KEY}"
        return http_event("GET", path, "/credits/v1/orders/{order_key}", {"order_key": ORDER_KEY})
    if logical_id == "BalanceFunction":  # the Topomer simulator's seeded customer
        return http_event("GET", "/balance/v1/balance", "/balance/v1/balance", {}, None, {"X-Topomer-Token": _token()})
    if logical_id == "PromoFunction":
        return http_event("GET", "/promo/v1/codes", "/promo/v1/codes", {}, None, ADMIN)
    if logical_id == "AdminFunction":
        return http_event("GET", "/admin/v1/payments", "/admin/v1/payments", {}, None, ADMIN)
    if logical_id == "AccountFunction":  # the WooCommerce simulator's customer 1
        credentials = mint_account_credentials(1, 1, os.environ["ACCOUNT_SIGNING_SECRET"])
        return http_event("POST", "/account/v1", "/account/v1", {}, {**credentials, "action": "get_user_info"})
    raise ValueError(f"no request for {logical_id}")


def _token() -> str:
    return os.environ["BENCH_TOPOMER_TOKEN"]


def child(logical_id: str, module_path: str) -> None:
    spec = importlib.util.spec_from_file_location("app", module_path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["app"] = module
    spec.loader.exec_module(module)
    context = Context(logical_id)
    event = _request(logical_id)
    statuses = Counter(module.lambda_handler(event, context)["statusCode"] for _ in range(REQUESTS))
    print(json.dumps({"peak_mb": _peak_mb(), "statuses": {str(k): v for k, v in statuses.items()}}))


def _peak_mb() -> float:
    """This process's peak RSS. Linux's ``getrusage`` maxrss survives ``exec``: a child started by this bench
    (moto and the simulators in it) would report the parent's peak. ``VmHWM`` is the peak of this image alone."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def _seed() -> None:
    import boto3

    from woo_backend.store.credits import CreditsStore

    store = CreditsStore("CreditsTable", boto3.client("dynamodb"))
    store.grant(ORDER_KEY, 1, 100, "2026-01-01T00:00:00", "tx_bench_memory", datetime.now(UTC))


def rows() -> list[Row]:
    from bench.cold_start import http_functions
    from bench.support import simulated_upstreams
    from local.simulators.topomer import SEED_TOKEN

    out = []
    with simulated_upstreams():
        _seed()
        served = {k: os.environ[k] for k in ("AWS_ENDPOINT_URL_DYNAMODB", "WOOCOMMERCE_URL", "TOPOMER_URL")}
        for fn in http_functions():
            env = {
                **os.environ,
                **fn.local_environment,
                **served,
                "PYTHONPATH": os.pathsep.join([os.path.join(ROOT, "layers", "shared"), ROOT]),
                "POWERTOOLS_LOG_LEVEL": "ERROR",
                "BENCH_TOPOMER_TOKEN": SEED_TOKEN,
            }
            done = subprocess.run(  # noqa: S603 - our own module
                [sys.executable, "-m", "bench.warm_memory", fn.logical_id, str(fn.module_path)],
                env=env,
                cwd=ROOT,
                check=True,
                capture_output=True,
                text=True,
            )
            answer = json.loads(done.stdout.strip().splitlines()[-1])
            statuses = ", ".join(f"{n}x {status}" for status, n in sorted(answer["statuses"].items()))
            out.append(
                Row(
                    f"peak RSS after {REQUESTS} warm requests: {fn.logical_id}",
                    f"{answer['peak_mb']:.0f} MB",
                    f"{GOAL_MB} MB",
                    f"{answer['peak_mb'] / GOAL_MB:.2f}x",
                    f"goal < {GOAL_MB} MB; answers: {statuses}",
                )
            )
    return out


if __name__ == "__main__":
    child(sys.argv[1], sys.argv[2])
