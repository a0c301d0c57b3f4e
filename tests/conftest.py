"""Fixtures every test package may use."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

LAYER_PACKAGE = "woo_backend"
TESTS = Path(__file__).resolve().parent
# Files whose tests run after the parallel pass, alone (`make pytest`): the browser tests' focus and timing
# expectations failed with the other worker's stacks busy on both cores.
SERIAL_FILES = frozenset({"e2e/test_admin_console.py"})
_STARTED = pytest.StashKey[float]()


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


# Started first in the parallel pass: the longest group (about 50 s), which would end the pass late if a worker
# took it last.
FIRST_FILES = ("e2e/test_schemathesis.py",)
SCHEMATHESIS_REPORT = TESTS / "e2e" / "artifacts" / "schemathesis.txt"


class FirstFilesFirst:
    """A plugin (a module has one hook of a name): its hook runs after pytest's, which orders the items by their
    fixtures' parameters."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        items.sort(key=lambda item: not any(xdist_group(item).startswith(first) for first in FIRST_FILES))


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(FirstFilesFirst(), "first-files-first")
    config.stash[_STARTED] = time.time()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """Schemathesis' own summary (operations, cases generated and passed, failures) when its test ran in this
    session, also under pytest-xdist, whose workers' output is not shown."""
    ran = any(
        "test_schemathesis.py" in report.nodeid
        for reports in terminalreporter.stats.values()
        for report in reports
        if hasattr(report, "nodeid")
    )
    if not ran or not SCHEMATHESIS_REPORT.exists():
        return
    if SCHEMATHESIS_REPORT.stat().st_mtime < config.stash.get(_STARTED, 0.0):
        return
    report = SCHEMATHESIS_REPORT.read_text()
    summary = report[report.rfind("SUMMARY") :] if "SUMMARY" in report else report[-2000:]
    terminalreporter.write_sep("=", "schemathesis")
    terminalreporter.write_line(summary.strip().removeprefix("SUMMARY").strip("= \n"))


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
