"""WooCommerce wants TLS: its API keys are refused over plain HTTP, so the service refuses an http:// shop.

WooCommerce (includes/class-wc-rest-authentication.php, ``authenticate()``) tries Basic auth only when
WordPress sees HTTPS; over plain HTTP it wants OAuth 1.0a signatures and every Basic call is a 401. The
simulator does the same unless it runs in its explicit local mode (what ``make run`` and the default test
stack use, on loopback only).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.run import LOCAL_DEFAULTS, free_port
from tests.e2e import web
from tests.e2e.conftest import ROOT, LocalStack, start_stack

pytestmark = pytest.mark.e2e

KEY, SECRET = LOCAL_DEFAULTS["WOOCOMMERCE_CONSUMER_KEY"], LOCAL_DEFAULTS["WOOCOMMERCE_CONSUMER_SECRET"]
ORDER = "/wp-json/wc/v3/orders/45"


def test_a_plain_http_shop_url_fails_the_start_naming_woocommerce_url(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PORT": str(free_port()),
        "LOCAL_SCHEDULES": "off",
        "LOCAL_CONFIG_FILE": str(tmp_path / "config.json"),
        "PYTHONPATH": f"{ROOT / 'layers' / 'shared'}{os.pathsep}{ROOT}",
        "WOOCOMMERCE_URL": "http://shop.example",
    }
    env.pop("DYNAMODB_ENDPOINT_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "local.run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0, output[-2000:]
    assert not (tmp_path / "config.json").exists()  # never announced itself ready
    assert "WOOCOMMERCE_URL must be an https:// URL, got http://shop.example" in output
    assert SECRET not in output


def test_the_local_mode_simulator_takes_basic_auth_over_plain_http(stack: LocalStack) -> None:
    assert web.get(f"{stack.woocommerce}{ORDER}", auth=(KEY, SECRET), timeout=10).status_code == 200


@pytest.fixture(scope="module")
def strict_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    workdir: Path = tmp_path_factory.mktemp("strict-shop")
    with start_stack(workdir, {"WOO_SIM_LOCAL_MODE": "off"}) as running:
        yield running


def test_outside_local_mode_basic_auth_over_plain_http_is_refused_as_woocommerce_does(
    strict_stack: LocalStack,
) -> None:
    by_header = web.get(f"{strict_stack.woocommerce}{ORDER}", auth=(KEY, SECRET), timeout=10)
    assert by_header.status_code == 401
    assert by_header.json()["code"] == "woocommerce_rest_cannot_view"
    by_query = web.get(
        f"{strict_stack.woocommerce}{ORDER}", params={"consumer_key": KEY, "consumer_secret": SECRET}, timeout=10
    )
    assert (by_query.status_code, by_query.json()["code"]) == (401, "woocommerce_rest_cannot_view")
    created = web.post(f"{strict_stack.woocommerce}/wp-json/wc/v3/coupons", json={"code": "x"}, auth=(KEY, SECRET))
    assert (created.status_code, created.json()["code"]) == (401, "woocommerce_rest_cannot_create")
    # Every call the service makes is refused the same way: what an http:// shop URL would do in production.
    with strict_stack.admin as admin:
        made = admin.post("/promo/v1/codes", json={"code": "TLS-ONLY", "percentage": "5"})
    assert made.status_code == 201
    shop_side = made.json()["sync"]["woocommerce"]
    assert shop_side["status"] == "pending"
    assert shop_side["last_error"].startswith("upstream_rejected")
    assert not strict_stack.woo_state()["coupons"]
