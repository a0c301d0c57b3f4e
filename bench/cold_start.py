"""Cold start of each function: a fresh interpreter imports the handler module and runs its init.

Baseline: a fresh interpreter that imports boto3 and creates a DynamoDB client (the floor of any of our
functions). Baseline and function alternate in pairs, each in a fresh interpreter, so a busy machine slows both
alike; the ratio is the median of the pairs' ratios. ``python -m bench.cold_start [LogicalId ...]`` prints them.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.run import Row, ratio
from local import template
from local.run import LOCAL_DEFAULTS

ROOT = Path(__file__).resolve().parent.parent
RUNS = 7  # pairs

# Both end with os._exit: Lambda never tears an interpreter down, so the teardown is not timed.
BASELINE = "import boto3; boto3.client('dynamodb'); import os; os._exit(0)"
HANDLER = (
    "import importlib.util, sys; spec = importlib.util.spec_from_file_location('handler', sys.argv[1]); "
    "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); import os; os._exit(0)"
)

# The libraries every HTTP function stands on, with none of our code: Powertools' resolver with OpenAPI validation,
# its Logger and Metrics, and one pydantic model as a route's body. What an HTTP function costs above this row
# is ours; the row itself is the floor of any function written with them.
LIBRARIES = (
    "import boto3; boto3.client('dynamodb')\n"
    "from aws_lambda_powertools import Logger, Metrics\n"
    "from aws_lambda_powertools.event_handler import APIGatewayHttpResolver\n"
    "from aws_lambda_powertools.event_handler.openapi.params import Query\n"
    "from pydantic import BaseModel\n"
    "logger, metrics, app = Logger(), Metrics(namespace='bench'), APIGatewayHttpResolver(enable_validation=True)\n"
    "class Body(BaseModel):\n    amount: int\n"
    "@app.post('/x')\ndef x(body: Body) -> dict[str, int]:\n    return {'amount': body.amount}\n"
    "import os; os._exit(0)"
)


def base_env(root: Path = ROOT) -> dict[str, str]:
    """What every cold start sees: the local defaults, the layer on the path, upstreams that never answer, and
    bytecode, as Lambda's runtime (boto3) and our layer (``layers/shared/Makefile``) ship it: a shell's
    PYTHONDONTWRITEBYTECODE would have both sides compile every module at every start."""
    environ = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    return {
        **environ,
        **LOCAL_DEFAULTS,
        "PYTHONPATH": f"{root / 'layers' / 'shared'}{os.pathsep}{root}",
        "WOOCOMMERCE_URL": "http://127.0.0.1:9",
        "TOPOMER_URL": "http://127.0.0.1:9",
    }


def function_env(fn: template.Function, root: Path = ROOT) -> dict[str, str]:
    return {**base_env(root), **fn.local_environment}


def _seconds(code: str, *args: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    # stdout dropped: a sync's cold start logs a warning there (no WEBHOOK_BASE_URL here).
    subprocess.run(  # noqa: S603 - our own code
        [sys.executable, "-c", code, *args], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL
    )
    return time.perf_counter() - started


def paired(module_path: Path | None, env: dict[str, str], runs: int = RUNS) -> tuple[float, float, float]:
    """(median seconds of the function's cold start, of the baseline's, median ratio of the pairs). Without a
    module: the libraries alone (``LIBRARIES``)."""
    start = (HANDLER, str(module_path)) if module_path else (LIBRARIES,)
    function: list[float] = []
    baseline: list[float] = []
    # Once each, not timed: the modules' bytecode is written if it was not yet.
    _seconds(BASELINE, env=env)
    _seconds(*start, env=env)
    for index in range(runs):
        # Which goes first alternates, so a machine getting busier or quieter weighs on both.
        for first in (True, False) if index % 2 == 0 else (False, True):
            if first:
                baseline.append(_seconds(BASELINE, env=env))
            else:
                function.append(_seconds(*start, env=env))
    ratios = [f / b for f, b in zip(function, baseline, strict=True)]
    return statistics.median(function), statistics.median(baseline), statistics.median(ratios)


def http_functions() -> list[template.Function]:
    """The functions behind the HTTP API (the syncs' cold starts are not on a caller's path)."""
    routed = {route.function for route in template.routes()}
    return [fn for fn in template.functions().values() if fn.logical_id in routed]


def _row(name: str, module_path: Path | None, env: dict[str, str]) -> Row:
    seconds, baseline, median_ratio = paired(module_path, env)
    return Row(
        f"cold start: {name}",
        f"{seconds * 1000:.0f} ms",
        f"{baseline * 1000:.0f} ms",
        f"{median_ratio:.2f}x",
        f"median of {RUNS} pairs (ratio of the medians {ratio(seconds, baseline)})",
    )


def rows(names: list[str] | None = None) -> list[Row]:
    out = []
    if not names or "libraries" in names:
        out.append(
            _row("libraries alone (Powertools resolver with validation, Logger, Metrics, pydantic)", None, base_env())
        )
    for fn in template.functions().values():
        if names and fn.logical_id not in names:
            continue
        out.append(_row(fn.logical_id, fn.module_path, function_env(fn)))
    return out


if __name__ == "__main__":
    for row in rows(sys.argv[1:]):
        print(" | ".join((row.name, row.value, row.baseline, row.ratio, row.note)))
