"""Account requests without AWS or HTTP: signed credentials and PHP-style form bodies."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from woo_backend.api.bodies import _php_form
from woo_backend.auth import authenticate_account, mint_account_credentials
from woo_backend.errors import DomainError, Unauthorized

# ------------------------------------------------------------------ auth
SECRET = SecretStr("s3cret")


def test_minted_credentials_authenticate() -> None:
    creds = mint_account_credentials(42, 1, "s3cret")
    assert authenticate_account(creds, SECRET) == 42


@pytest.mark.parametrize(
    "change",
    [{"UID": "43"}, {"blog": "2"}, {"signature": "0" * 64}, {"UID": ""}, {"UID": None}, {"nonce": ["x"]}, {"UID": "0"}],
)
def test_anything_else_is_401(change: dict[str, Any]) -> None:
    creds: dict[str, Any] = {**mint_account_credentials(42, 1, "s3cret"), **change}
    with pytest.raises(Unauthorized):
        authenticate_account(creds, SECRET)


def test_expired_credentials_are_401() -> None:
    creds = mint_account_credentials(42, 1, "s3cret", ttl_seconds=60)
    with pytest.raises(Unauthorized) as refused:
        authenticate_account(creds, SECRET, now=time.time() + 120)
    assert refused.value.code == "expired_nonce"


# ------------------------------------------------------------------ form bodies
def test_php_style_forms() -> None:
    body = b"UID=1&meta%5Bcolor%5D=red&meta[size]=M&data[user_email]=a%40b.c&ids[]=1&ids[]=2&plain=x+y"
    assert _php_form(body) == {
        "UID": "1",
        "meta": {"color": "red", "size": "M"},
        "data": {"user_email": "a@b.c"},
        "ids": ["1", "2"],
        "plain": "x y",
    }


@pytest.mark.parametrize("body", [b"a[b][c][d][e]=1", b"a[][b]=1"])
def test_php_forms_refuse_what_they_cannot_mean(body: bytes) -> None:
    with pytest.raises(DomainError):
        _php_form(body)


@given(st.dictionaries(st.from_regex(r"[a-z]{1,8}", fullmatch=True), st.text(max_size=20), max_size=5))
def test_flat_forms_round_trip(fields: dict[str, str]) -> None:
    from urllib.parse import urlencode

    assert _php_form(urlencode(fields).encode()) == fields


def test_the_credentials_tool_prints_a_body_that_authenticates(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from local.account_credentials import main
    from local.run import LOCAL_DEFAULTS

    main(["7"])
    creds = json.loads(capsys.readouterr().out)
    assert authenticate_account(creds, SecretStr(LOCAL_DEFAULTS["ACCOUNT_SIGNING_SECRET"])) == 7
