"""Cold start of each function: a fresh interpreter imports the handler module and runs its init.

Baseline: a fresh interpreter that imports boto3 and creates a DynamoDB client (the floor of any of
our functions). Median of several runs each.
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
RUNS = 7

BASELINE = "import boto3; boto3.client('dynamodb')"
HANDLER = (
    "import importlib.util, sys; spec = importlib.util.spec_from_file_location('handler', sys.argv[1]); "
    "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)"
)


def _median_process_seconds(code: str, *args: str, env: dict[str, str]) -> float:
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code, *args], env=env, check=True, cwd=ROOT)  # noqa: S603 - our own code
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def rows() -> list[Row]:
    env = {
        **os.environ,
        **LOCAL_DEFAULTS,
        "PYTHONPATH": f"{ROOT / 'layers' / 'shared'}{os.pathsep}{ROOT}",
        "WOOCOMMERCE_URL": "http://127.0.0.1:9",
        "TOPOMER_URL": "http://127.0.0.1:9",
    }
    baseline = _median_process_seconds(BASELINE, env=env)
    out = [
        Row(
            "cold start: baseline (boto3 + DynamoDB client)",
            f"{baseline * 1000:.0f} ms",
            "",
            "1.00x",
            f"median of {RUNS}",
        )
    ]
    for fn in template.functions().values():
        fn_env = {**env, **fn.local_environment}
        seconds = _median_process_seconds(HANDLER, str(fn.module_path), env=fn_env)
        out.append(
            Row(
                f"cold start: {fn.logical_id}",
                f"{seconds * 1000:.0f} ms",
                f"{baseline * 1000:.0f} ms",
                ratio(seconds, baseline),
                f"median of {RUNS}",
            )
        )
    return out
