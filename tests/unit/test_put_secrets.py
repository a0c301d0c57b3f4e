"""``make secrets``: the names come from the template's ``*_PARAM`` variables; values from the env file or
prompts become SecureString parameters, and are never printed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from mypy_boto3_ssm import SSMClient

from local import template
from local.put_secrets import needed, put_secrets, read_env_file


@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch) -> Iterator[SSMClient]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("ssm")


def test_the_names_are_every_param_variable_of_the_template_for_the_stage() -> None:
    declared = {
        key.removesuffix("_PARAM")
        for fn in template.load_template()["Resources"].values()
        if fn["Type"] == "AWS::Serverless::Function"
        for key in fn["Properties"].get("Environment", {}).get("Variables", {})
        if key.endswith("_PARAM")
    }
    items = needed("prod")
    assert {i.variable for i in items} == declared
    assert all(i.parameter.startswith("/woo-backend/prod/") for i in items)
    keys = next(i for i in items if i.variable == "CREDITS_API_KEYS")
    assert keys.condition == "RequireCreditsApiKeys"
    assert keys.functions == ("CreditsFunction",)


def test_env_file_values_and_prompts_become_secure_strings(
    ssm: SSMClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = tmp_path / ".env"
    env.write_text('# shop keys\nWOOCOMMERCE_CONSUMER_KEY="ck_from_file_123"\nexport ADMIN_API_KEY=admin-from-file\n')
    asked: list[str] = []

    def ask(prompt: str) -> str:
        asked.append(prompt)
        return "prompted-value" if "TOPOMER_CLIENT_ID" in prompt else ""

    written = put_secrets(ssm, "staging", read_env_file(env), ask, out=print)

    assert set(written) == {
        "/woo-backend/staging/woocommerce/consumer-key",
        "/woo-backend/staging/admin-api-key",
        "/woo-backend/staging/topomer/client-id",
    }
    got = ssm.get_parameter(Name="/woo-backend/staging/woocommerce/consumer-key", WithDecryption=True)["Parameter"]
    assert (got["Type"], got["Value"]) == ("SecureString", "ck_from_file_123")
    assert not any("WOOCOMMERCE_CONSUMER_KEY " in p for p in asked)  # the file's value is not asked again
    printed = capsys.readouterr().out
    assert "MISSING" in printed  # the ones left unset are listed
    assert "ck_from_file_123" not in printed
    assert "prompted-value" not in printed
