"""SnapStart: each HTTP function survives a simulated restore (``woo_backend.snapstart``'s hooks run as Lambda runs
them around a snapshot) and serves a request after it; the hooks dropped the connections and reseeded ``random``."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.handlers.conftest import ADMIN, Load
from tests.handlers.lambdas import Function, own_layer

# One request per HTTP function and the status it answers, before and after the restore.
REQUESTS: dict[str, tuple[str, str, dict[str, Any], int]] = {
    "CreditsFunction": ("GET", "/credits/v1/orders/wc_order_unknown", {}, 404),  # asks WooCommerce
    "BalanceFunction": ("GET", f"/balance/v1/payments/pay_{'0' * 24}", {"headers": {"X-Topomer-Token": "tpm_x"}}, 404),
    "PromoFunction": ("GET", "/promo/v1/codes", {"headers": ADMIN}, 200),
    "AdminFunction": ("GET", "/admin/v1/payments", {"headers": ADMIN}, 200),
    "AccountFunction": ("POST", "/account/v1", {"json_body": {"action": "get_user_info"}}, 401),
}


def restore(fn: Function) -> None:
    """Lambda's snapshot and restore of ``fn``'s container: its own registered hooks."""
    with own_layer(fn.layer):
        fn.module("woo_backend.snapstart").simulate_restore()


@pytest.mark.parametrize("logical_id", sorted(REQUESTS))
def test_each_http_function_serves_after_a_restore(load: Load, logical_id: str) -> None:
    fn = load(logical_id)
    method, path, request, status = REQUESTS[logical_id]
    assert fn(method, path, **request).status == status
    state = random.getstate()

    restore(fn)

    assert random.getstate() != state  # reseeded: restored environments do not share the backoff's jitter
    assert fn(method, path, **request).status == status


def test_the_restore_drops_the_upstream_pool_and_the_next_request_builds_a_new_one(load: Load) -> None:
    credits = load("CreditsFunction")
    assert credits("GET", "/credits/v1/orders/wc_order_unknown").status == 404
    shop = credits.module("woo_backend.bootstrap.common").woocommerce()
    pool = shop._http
    sdk = credits.module("woo_backend.aws").dynamodb_client()

    restore(credits)

    assert shop._client is None  # the pooled connections are gone with the client that held them
    assert credits("GET", "/credits/v1/orders/wc_order_unknown").status == 404
    assert shop._http is not pool
    assert credits.module("woo_backend.aws").dynamodb_client() is sdk  # closed, not replaced: the stores keep it


def test_the_hooks_are_registered_at_the_cold_start(load: Load) -> None:
    credits = load("CreditsFunction")
    snapstart = credits.module("woo_backend.snapstart")
    assert snapstart._before_snapshot == [snapstart.close_connections]
    assert snapstart._after_restore == [snapstart.after_restore]
