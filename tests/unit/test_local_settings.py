"""The local runtime's own settings and its access lines."""

from __future__ import annotations

import pytest
from werkzeug.test import EnvironBuilder

from local import template
from local.apigw import LocalHttpApi, access_line
from local.settings import LocalSettings, SettingError


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PORT", "LOCAL_SCHEDULES", "LOCAL_MAX_CONCURRENCY", "LOCAL_JSON_LOGS", "WOO_SIM_LOCAL_MODE"):
        monkeypatch.delenv(name, raising=False)
    assert LocalSettings.from_env() == LocalSettings(
        port=3000, schedules=True, max_concurrency=8, json_logs=False, woo_local_mode=True
    )


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("PORT", "abc", "PORT must be a port number from 1 to 65535, got 'abc'"),
        ("PORT", "70000", "PORT must be a port number from 1 to 65535, got '70000'"),
        ("PORT", "٣٠٠٠", "PORT must be a port number"),  # digits, but not ASCII ones
        ("LOCAL_SCHEDULES", "maybe", "LOCAL_SCHEDULES must be on or off, got 'maybe'"),
        ("LOCAL_MAX_CONCURRENCY", "0", "LOCAL_MAX_CONCURRENCY must be a whole number from 1 to 64, got '0'"),
        ("LOCAL_JSON_LOGS", "true", "LOCAL_JSON_LOGS must be 1 or 0, got 'true'"),
        ("WOO_SIM_LOCAL_MODE", "no", "WOO_SIM_LOCAL_MODE must be on or off, got 'no'"),
    ],
)
def test_a_bad_value_is_named_with_what_is_accepted(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, said: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingError) as refused:
        LocalSettings.from_env()
    assert len(refused.value.lines) == 1
    assert said in refused.value.lines[0]


def test_every_bad_value_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "x")
    monkeypatch.setenv("LOCAL_SCHEDULES", "x")
    with pytest.raises(SettingError) as refused:
        LocalSettings.from_env()
    assert [line.split()[0] for line in refused.value.lines] == ["PORT", "LOCAL_SCHEDULES"]


def test_switches_are_case_blind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCAL_SCHEDULES", "OFF")
    monkeypatch.setenv("LOCAL_JSON_LOGS", "1")
    settings = LocalSettings.from_env()
    assert settings.schedules is False
    assert settings.json_logs is True


def test_access_line_hides_order_keys() -> None:
    line = access_line("GET", "/dotix/v1/order/wc_order_AbC123", 200, 0.0123, "CreditsFunction")
    assert line == "GET /dotix/v1/order/wc_order_*** 200 12 ms CreditsFunction"


def test_access_lines_hide_secret_path_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    api = LocalHttpApi(template.routes(), template.schedules(), lambda fn, ev: {"statusCode": 204})
    environ = EnvironBuilder(method="GET", path="/credits/v1/orders/plainkey42", query_string="k=v").get_environ()
    list(api(environ, lambda status, headers: None))
    assert capsys.readouterr().out.startswith("GET /credits/v1/orders/*** 204 ")
