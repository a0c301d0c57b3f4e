"""The local runtime's containers load a function's handler as Lambda does."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from local import template
from local.lambdas import Container
from local.openapi import PLACEHOLDERS
from local.template import ROOT

pytestmark = pytest.mark.usefixtures("layer_restored")


def _container(logical_id: str) -> Container:
    fn = template.functions()[logical_id]
    return Container(fn, {**PLACEHOLDERS, **fn.local_environment})


def test_every_container_of_a_function_shares_its_idempotency_keys() -> None:
    """Powertools' idempotency key starts with the decorated function's module name: two containers of one
    function must name it alike (as every Lambda container's ``app``), or one Idempotency-Key sent to two
    containers would run twice."""
    first, second = _container("BalanceFunction"), _container("BalanceFunction")
    assert first.module is not second.module  # two cold starts
    assert first.module.authorize_once.__module__ == second.module.authorize_once.__module__
    assert _container("CreditsFunction").module.__name__ != first.module.__name__


def test_a_container_writes_each_printed_line_in_one_write() -> None:
    """Containers share the runtime's stdout. Under PYTHONUNBUFFERED (CI's shell sets it) print() wrote a line
    and its newline in two writes, so two containers printing at once (Powertools prints its metrics) made one
    line of two JSON objects. A container's stdout must hold a line until its newline (not write through) and
    write it then (line buffering)."""
    code = (
        "import sys; from local.lambdas import _container_process; _container_process(); "
        "print(sys.stdout.write_through, sys.stdout.line_buffering)"
    )
    done = subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-u", "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert done.stdout.split() == ["False", "True"]
