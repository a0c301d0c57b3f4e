"""The local runtime's containers load a function's handler as Lambda does."""

from __future__ import annotations

import pytest

from local import template
from local.lambdas import Container
from local.openapi import PLACEHOLDERS

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
