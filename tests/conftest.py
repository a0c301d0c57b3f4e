"""Fixtures every test package may use."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

LAYER_PACKAGE = "woo_backend"
TESTS = Path(__file__).resolve().parent
# Files whose tests run after the parallel pass, alone (`make pytest`): the browser tests' focus and timing
# expectations failed with the other worker's stacks busy on both cores.
SERIAL_FILES = frozenset({"e2e/test_admin_console.py"})


# Module-scoped fixtures whose parameters start a run of the whole module (or of its tests that use them) on
# their own: each parameter's tests are a group of their own for pytest-xdist (`--dist loadgroup`). Grouped by
# file only, test_balance.py (4 Topomer answer styles) took 175 s of one worker while the parallel pass took
# 182 s: split, its longest group takes about a quarter of it.
SPLIT_BY = ("answer_style", "topomer_answer_style")


def xdist_group(item: pytest.Item) -> str:
    """The file, as `--dist loadfile` would group it (its module-scoped stack is started once per worker that
    runs its tests), then the value of a ``SPLIT_BY`` parameter when the test has one."""
    group = item.path.relative_to(TESTS).as_posix() if item.path.is_relative_to(TESTS) else str(item.path)
    callspec = getattr(item, "callspec", None)
    split = [f"{name}={callspec.params[name]}" for name in SPLIT_BY if callspec and name in callspec.params]
    return "::".join([group, *split])


@pytest.hookimpl(tryfirst=True)  # before pytest's -m selection and xdist's loadgroup read the markers
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(TESTS) and item.path.relative_to(TESTS).as_posix() in SERIAL_FILES:
            item.add_marker(pytest.mark.serial)
        item.add_marker(pytest.mark.xdist_group(xdist_group(item)))


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
