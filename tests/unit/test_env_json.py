"""``make env-json``: env.json for ``sam local start-api``. SAM passes a function only the variables the template
declares (then env.json's values), so each name must be declared, and together they must be all a function reads
that the template does not give a local value: its secrets (with ``*_PARAM`` blanked), the SDK's endpoints."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from local import env_json, template
from local.lambdas import Container
from local.run import LOCAL_DEFAULTS

ADDRESSES = {
    "api": "http://127.0.0.1:3000",
    "woocommerce": "http://127.0.0.1:40001",
    "topomer": "http://127.0.0.1:40002",
    "dynamodb": "http://127.0.0.1:40003",
    "ses": "http://127.0.0.1:40003",
    "pid": os.getpid(),
}
FUNCTIONS = sorted(template.functions())
# What SAM's emulator sets in every container by itself (samcli/local/lambdafn/env_vars.py).
SAM_OWN = {
    "AWS_SAM_LOCAL": "true",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "defaultkey",
    "AWS_SECRET_ACCESS_KEY": "defaultsecret",
}


@pytest.fixture(scope="module")
def content() -> dict[str, dict[str, str]]:
    return env_json.build(ADDRESSES)


def test_every_function_has_an_entry_and_every_name_is_declared_for_it(content: dict[str, dict[str, str]]) -> None:
    assert sorted(content) == FUNCTIONS
    for logical_id, values in content.items():
        assert set(values) <= env_json.declared(logical_id), logical_id


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_secrets_beside_blanked_params_and_the_hosts_endpoints(
    content: dict[str, dict[str, str]], logical_id: str
) -> None:
    values = content[logical_id]
    params = [name for name in env_json.declared(logical_id) if name.endswith("_PARAM")]
    assert params
    for param in params:
        assert values[param] == "", param  # SSM is never asked
        secret = param.removesuffix("_PARAM")
        if secret in LOCAL_DEFAULTS:  # CREDITS_API_KEYS has none locally: the credits API is open
            assert values[secret] == LOCAL_DEFAULTS[secret]
    assert values["AWS_ENDPOINT_URL_DYNAMODB"] == "http://host.docker.internal:40003"
    assert values["WOOCOMMERCE_URL"] == "http://host.docker.internal:40001"
    assert values["TOPOMER_URL"] == "http://host.docker.internal:40002"
    for name, value in values.items():
        if name.endswith("_TABLE"):
            assert value in template.tables(), (name, value)  # the local tables, named by logical id


def test_the_account_function_sends_mail_to_the_embedded_ses(content: dict[str, dict[str, str]]) -> None:
    assert content["AccountFunction"]["AWS_ENDPOINT_URL_SES"] == "http://host.docker.internal:40003"


@pytest.mark.usefixtures("layer_restored")
@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_every_function_cold_starts_on_the_template_and_env_json_alone(
    monkeypatch: pytest.MonkeyPatch, logical_id: str
) -> None:
    """A container as SAM makes it: its own AWS variables, the template's values, env.json over them, nothing
    from this machine. Host 127.0.0.1 (``--docker-network host``): a WooCommerce URL over plain HTTP is taken
    for loopback hosts only."""
    for name in list(os.environ):
        if name not in ("PATH", "HOME", "PYTHONPATH", "TMPDIR"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:9")  # an SSM read would fail at once
    fn = template.functions()[logical_id]
    values = env_json.build(ADDRESSES, "127.0.0.1")[logical_id]
    container = Container(fn, {**SAM_OWN, **fn.environment, **values})
    assert callable(container.handler)


def test_the_file_is_written_for_its_owner_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "run.json"
    config.write_text(json.dumps(ADDRESSES))
    output = tmp_path / "env.json"
    env_json.main(["--config", str(config), "--output", str(output)])
    assert stat.S_IMODE(output.stat().st_mode) == 0o600  # it holds the local secrets
    assert json.loads(output.read_text())["CreditsFunction"]["WOOCOMMERCE_CONSUMER_KEY"]
    assert "sam local start-api --env-vars" in capsys.readouterr().out


def _one_line_exit(argv: list[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        env_json.main(argv)
    message = str(exited.value.code)
    assert "\n" not in message
    return message


def test_without_a_running_make_run_it_says_to_start_one(tmp_path: Path) -> None:
    message = _one_line_exit(["--config", str(tmp_path / "missing.json"), "--output", str(tmp_path / "env.json")])
    assert "start `make run`" in message
    assert not (tmp_path / "env.json").exists()


def test_a_stopped_make_run_or_a_foreign_file_is_said_in_one_line(tmp_path: Path) -> None:
    config = tmp_path / "run.json"
    config.write_text(json.dumps({**ADDRESSES, "pid": 2**22 + 12345}))  # above pid_max: no such process
    assert "has stopped" in _one_line_exit(["--config", str(config), "--output", str(tmp_path / "env.json")])
    config.write_text("{not json")
    assert "not make run's address file" in _one_line_exit(["--config", str(config)])


def test_a_bad_host_is_said_in_one_line(tmp_path: Path) -> None:
    config = tmp_path / "run.json"
    config.write_text(json.dumps(ADDRESSES))
    assert "SIM_HOST" in _one_line_exit(["--config", str(config), "--host", "a b/c"])
