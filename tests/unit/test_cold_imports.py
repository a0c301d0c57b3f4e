"""What an HTTP function's cold start must not import: each function started in a fresh interpreter, with its
template environment, as ``bench/cold_start.py`` starts it, then its ``sys.modules`` read.

Not asserted, because what pulls them is below us: ``asyncio`` (Powertools' ``event_handler`` package imports its
AppSync resolvers) and ``multiprocessing`` (boto3 itself, through s3transfer: the baseline imports it too).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench.cold_start import ROOT, function_env, http_functions

MODULES = (
    "import importlib.util, json, sys; spec = importlib.util.spec_from_file_location('handler', sys.argv[1]); "
    "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); print(json.dumps(sorted(sys.modules)))"
)
# Never at a cold start: the X-Ray SDK (no tracer in the functions), the upstream clients' httpx (built at the
# first request that calls an upstream), httpx's command line (click, rich), Powertools' OpenAPI models (built for
# the document only).
NEVER = ("aws_xray_sdk", "httpx", "httpcore", "h11", "anyio", "click", "rich")
NEVER_EXACT = ("aws_lambda_powertools.event_handler.openapi.models",)

FUNCTIONS = {fn.logical_id: fn for fn in http_functions()}


def cold_modules(logical_id: str, **env: str) -> set[str]:
    fn = FUNCTIONS[logical_id]
    out = subprocess.run(  # noqa: S603 - our own handler
        [sys.executable, "-c", MODULES, str(fn.module_path)],
        env={**function_env(fn), **env},
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_every_http_function_is_checked() -> None:
    assert set(FUNCTIONS) == {"CreditsFunction", "BalanceFunction", "PromoFunction", "AdminFunction", "AccountFunction"}


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_a_cold_start_imports_nothing_the_first_request_does_not_need(logical_id: str) -> None:
    loaded = cold_modules(logical_id)
    unwanted = sorted(
        name
        for name in loaded
        if name in NEVER_EXACT or any(name == top or name.startswith(top + ".") for top in NEVER)
    )
    assert unwanted == []


def test_tracing_on_still_imports_no_sdk() -> None:
    """As in Lambda with ``Tracing: Active`` (Powertools would take tracing as on there)."""
    loaded = cold_modules("CreditsFunction", POWERTOOLS_TRACE_DISABLED="false", LAMBDA_TASK_ROOT=str(ROOT))
    assert not any(name.startswith("aws_xray_sdk") for name in loaded)


# pydantic's email validator (email-validator, with dnspython and idna) is imported by the first build of a model
# with an email field. Only the promo function's main request, the automatic quote, has one; the account
# function's two (set_user_info, send_mail) are built at their first use: 0.13x of its cold start.
EMAIL_AT_COLD_START = {"PromoFunction"}


@pytest.mark.parametrize("logical_id", sorted(set(FUNCTIONS) - EMAIL_AT_COLD_START))
def test_the_email_validator_waits_for_a_request_that_has_an_email(logical_id: str) -> None:
    loaded = cold_modules(logical_id)
    assert not {"email_validator", "dns"} & {name.split(".")[0] for name in loaded}
