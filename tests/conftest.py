"""Fixtures every test package may use."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

LAYER_PACKAGE = "woo_backend"


def layer_modules() -> dict[str, object]:
    return {n: m for n, m in sys.modules.items() if n == LAYER_PACKAGE or n.startswith(LAYER_PACKAGE + ".")}


@pytest.fixture
def layer_restored() -> Iterator[None]:
    """For a test that cold-starts function containers, which re-import ``woo_backend``: the layer modules other
    tests imported are put back after (or their classes would no longer be the ones ``sys.modules`` holds),
    and the test's handler modules (``_lambda_*``) let go."""
    before = layer_modules()
    handlers = {name for name in sys.modules if name.startswith("_lambda_")}
    yield
    for name in [*layer_modules(), *(n for n in sys.modules if n.startswith("_lambda_") and n not in handlers)]:
        del sys.modules[name]
    sys.modules.update(before)  # type: ignore[arg-type]  # module objects, as taken
