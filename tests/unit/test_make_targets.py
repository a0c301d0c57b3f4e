"""``make help`` lists every target with one line, and the README's "Make targets" lists each of them."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from local.template import ROOT

MAKEFILE = (ROOT / "Makefile").read_text()


def phony_targets() -> set[str]:
    declared = re.findall(r"^\.PHONY:((?:.*\\\n)*.*)$", MAKEFILE, flags=re.M)
    return {name for block in declared for name in block.replace("\\\n", " ").split()}


def described_targets() -> dict[str, str]:
    return dict(re.findall(r"^([a-z0-9-]+):.*?## (.+)$", MAKEFILE, flags=re.M))


def test_every_target_has_its_line() -> None:
    assert phony_targets() == set(described_targets())


MAKE = shutil.which("make")


@pytest.mark.skipif(MAKE is None, reason="make is not installed")
def test_make_help_prints_one_line_each() -> None:
    assert MAKE is not None
    done = subprocess.run([MAKE, "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True)  # noqa: S603
    printed = done.stdout
    listed = [re.match(r"^  make (\S+) +\S", line) for line in printed.splitlines()]
    assert all(listed), printed
    assert sorted(m.group(1) for m in listed if m) == sorted(described_targets())


def test_the_readme_lists_every_target() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Make targets", 1)[1].split("\n## ", 1)[0]
    for target in described_targets():
        assert f"| `make {target}` |" in section, target
