"""``make credentials UID=1``: a signed account body; wrong arguments or a Python without the project's packages
give one line saying what to run, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from pydantic import SecretStr

from local import account_credentials
from local.run import LOCAL_DEFAULTS
from local.template import ROOT
from woo_backend.auth import verify_account_signature


def test_the_body_is_signed_with_the_local_secret(capsys: pytest.CaptureFixture[str]) -> None:
    account_credentials.main(["7", "2", "60"])
    body = json.loads(capsys.readouterr().out)
    assert (body["UID"], body["blog"]) == ("7", "2")
    secret = SecretStr(LOCAL_DEFAULTS["ACCOUNT_SIGNING_SECRET"])
    verify_account_signature(body["UID"], body["blog"], body["nonce"], body["signature"], secret)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        ([], "UID is missing"),
        (["abc"], "UID must be a whole number, got 'abc'"),
        (["1", "x"], "BLOG must be a whole number"),
        (["1", "1", "-5"], "TTL must be a whole number"),
        (["1", "1", "0"], "TTL must be at least 1 second"),
        (["²"], "UID must be a whole number"),
        (["1", "1", "60", "extra"], "too many arguments: extra"),
    ],
)
def test_wrong_arguments_are_one_usage_line(argv: list[str], says: str) -> None:
    with pytest.raises(SystemExit) as exited:
        account_credentials.main(argv)
    message = str(exited.value.code)
    assert message.startswith("usage: make credentials UID=")
    assert says in message
    assert "\n" not in message


def test_a_python_without_the_packages_is_told_to_use_make() -> None:
    """As ``python -m local.account_credentials 1`` outside the venv: ``-S`` leaves out site-packages."""
    done = subprocess.run(
        [sys.executable, "-S", "-m", "local.account_credentials", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().endswith("run `make credentials UID=1` from the repository (it uses .venv)")
    assert len(done.stderr.strip().splitlines()) == 1
