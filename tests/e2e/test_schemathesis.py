"""Schemathesis over the OpenAPI document the local runtime serves, against that runtime (``make schemathesis``).

A fixed seed and a bounded number of examples per operation keep the run reproducible and short. It fails on any
5xx and on any answer the document does not describe (status, content type, headers, body schema). The local
credentials (admin bearer, an API key, the seeded Topomer token and shopper token) get it past the 401s.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from local.run import LOCAL_DEFAULTS
from local.simulators import topomer as topomer_sim
from tests.e2e.conftest import ROOT, start_stack

SEED = 13
REPORT = ROOT / "tests" / "e2e" / "artifacts" / "schemathesis.txt"
MAX_EXAMPLES = 100  # per operation: about 2,200 cases, half a minute
# Credits keys are open locally unless set: set, the document's X-Api-Key scheme is really enforced.
CREDITS_KEY = "schemathesis-credits-key"
# Real ids from the simulators' seeds for half the cases, so they reach past 404 into the use cases (the credits
# sync grants the seeded completed orders first).
CONFIG = f"""
[dictionaries.order_keys]
values = ["wc_order_seedCompleted", "wc_order_seedProcessing", "wc_order_seedMixed", "wc_order_seedBankWire"]

[dictionaries.shopper_ids]
values = ["{topomer_sim.SEED_SHOPPER_ID}"]

[parameters]
"path.order_key" = {{ dictionary = "order_keys", probability = 0.5 }}
"path.shopper_id" = {{ dictionary = "shopper_ids", probability = 0.5 }}
"""
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)


def schemathesis_command(api: str, config: Path) -> list[str]:
    headers = {
        "Authorization": f"Bearer {LOCAL_DEFAULTS['ADMIN_API_KEY']}",
        "X-Api-Key": CREDITS_KEY,
        "X-Topomer-Token": topomer_sim.SEED_TOKEN,
        "X-Shopper-Token": topomer_sim.SEED_SHOPPER_TOKEN,
    }
    return [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config),
        "run",
        f"{api}/openapi.json",
        "--url",
        api,
        "--checks",
        ",".join(CHECKS),
        "--seed",
        str(SEED),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--phases",
        "examples,coverage,fuzzing",
        "--generation-database",
        "none",
        "--workers",
        "1",  # hypothesis' lambda descriptions are not thread-safe (an "AST constructor recursion" error with 2)
        "--request-timeout",
        "30",
        "--no-color",
        *(option for name, value in headers.items() for option in ("-H", f"{name}: {value}")),
    ]


def test_schemathesis_finds_nothing(tmp_path: Path) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    with start_stack(tmp_path, {"CREDITS_API_KEYS": CREDITS_KEY}) as stack:
        stack.run_schedule("CreditsSyncFunction")
        run = subprocess.run(  # noqa: S603  (our own command line)
            schemathesis_command(stack.api, config),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    report = run.stdout + run.stderr
    print(report)  # the counts (operations, cases, failures) are in `make schemathesis`'s output
    # ... and in the parallel pass's summary (`make pytest`), which tests/conftest.py prints from this file.
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(report)
    assert run.returncode == 0, report[-20000:]
    assert re.search(r"\b(\d+) generated, \1 passed\b", report), report[-5000:]
