"""The simulated shop's webhooks behave as WooCommerce's, end to end: the REST routes, the creation ping,
deliveries only while active, disabled by the failure after five in a row, and what resets the count.

Webhooks a test creates point at a receiver in this process and are deleted afterwards.
"""

from __future__ import annotations

import json

import pytest

from local.run import free_port
from tests.e2e.conftest import LocalStack
from tests.e2e.shop_webhooks import (
    PATHS,
    Receiver,
    change,
    create,
    hidden,
    put,
    service_hook,
    status_of,
    webhooks,
)

pytestmark = pytest.mark.e2e


# ------------------------------------------------------------------ the shop's webhook API (simulator)
def test_creating_a_webhook_pings_its_url_without_signature_and_never_shows_the_secret(
    stack: LocalStack, receiver: Receiver, made_webhooks: list[int]
) -> None:
    url = receiver.hook_url()
    response = create(stack, made_webhooks, url, status="paused")
    assert response.status_code == 201
    hook = response.json()
    assert response.headers["Location"].endswith(f"/wp-json/wc/v3/webhooks/{hook['id']}")
    # create_item() makes it active whatever status was sent, and no answer carries the secret.
    assert {k: hook[k] for k in ("status", "topic", "resource", "event", "delivery_url")} == {
        "status": "active",
        "topic": "order.updated",
        "resource": "order",
        "event": "updated",
        "delivery_url": url,
    }
    assert "woocommerce_update_order" in hook["hooks"]
    assert "secret" not in hook
    assert "test-secret" not in json.dumps(webhooks(stack))
    (ping,) = receiver.got(url)
    assert ping["body"] == f"webhook_id={hook['id']}".encode()
    assert not any(name.lower().startswith("x-wc-webhook") for name in ping["headers"])
    assert hidden(stack, hook["id"])["pending_delivery"] is False
    with stack.shop as client:
        assert client.get(f"/webhooks/{hook['id']}").json()["name"] == "test hook"
        listed = client.get("/webhooks", params={"status": "active", "per_page": 100})
    assert hook["id"] in [h["id"] for h in listed.json()]
    assert int(listed.headers["X-WP-Total"]) == len(listed.json())


def test_a_ping_not_answered_200_leaves_the_webhook_pending_and_turning_it_on_pings_again(
    stack: LocalStack, receiver: Receiver, made_webhooks: list[int]
) -> None:
    url = receiver.hook_url()
    receiver.answers = [204]  # deliver_ping() wants exactly 200
    hook = create(stack, made_webhooks, url).json()
    assert hook["status"] == "active"  # the REST answer ignores the ping's outcome
    assert hidden(stack, hook["id"])["pending_delivery"] is True
    assert put(stack, hook["id"], status="paused").json()["status"] == "paused"
    assert len(receiver.got(url)) == 1  # not active: no ping
    assert put(stack, hook["id"], status="active").json()["status"] == "active"
    assert [r["body"] for r in receiver.got(url)] == [f"webhook_id={hook['id']}".encode()] * 2
    assert hidden(stack, hook["id"])["pending_delivery"] is False
    put(stack, hook["id"], name="renamed")
    assert len(receiver.got(url)) == 2  # no longer pending: an update does not ping


def test_the_webhook_api_refuses_what_woocommerce_refuses(stack: LocalStack, made_webhooks: list[int]) -> None:
    cases = [
        ({"topic": "order.shipped"}, "woocommerce_rest_shop_webhook_invalid_topic"),
        ({"delivery_url": "ftp://example.com/hook"}, "woocommerce_rest_shop_webhook_invalid_delivery_url"),
        ({"status": "sleeping"}, "rest_invalid_param"),
    ]
    for fields, code in cases:
        response = create(stack, made_webhooks, "https://example.com/hook", **fields)
        assert (response.status_code, response.json()["code"]) == (400, code)
    with stack.shop as client:
        missing = client.post("/webhooks", json={"topic": "order.updated"})
        assert (missing.status_code, missing.json()["code"]) == (400, "rest_missing_callback_param")
        assert client.get("/webhooks/99999").status_code == 400  # "ID is invalid."
        assert client.put("/webhooks/99999", json={"status": "active"}).status_code == 400
        assert client.get("/webhooks", params={"status": "broken"}).status_code == 400
    hook_id = service_hook(stack, "order.updated", PATHS[0])["id"]
    assert put(stack, hook_id, status="sleeping").status_code == 400
    with stack.shop as client:
        assert client.delete(f"/webhooks/{hook_id}").status_code == 501  # no trash for webhooks
    assert status_of(stack, hook_id) == "active"


def test_woocommerce_disables_a_webhook_at_the_failure_after_five_in_a_row(
    stack: LocalStack, receiver: Receiver, made_webhooks: list[int], quiet_order: int
) -> None:
    url = receiver.hook_url()
    receiver.answers = [200]  # the ping
    receiver.default = 500
    hook_id = create(stack, made_webhooks, url).json()["id"]
    change(stack, quiet_order, 6)
    # failed_delivery() compares the count before it grows: six failures leave it active, counting 6 ...
    assert (status_of(stack, hook_id), hidden(stack, hook_id)["failure_count"]) == ("active", 6)
    change(stack, quiet_order)
    # ... and the seventh finds it above 5: disabled, and the count stays.
    assert (status_of(stack, hook_id), hidden(stack, hook_id)["failure_count"]) == ("disabled", 6)
    assert hook_id in [h["id"] for h in webhooks(stack, status="disabled")]
    assert len(receiver.got(url)) == 1 + 7
    change(stack, quiet_order, 2)
    assert len(receiver.got(url)) == 1 + 7  # only active webhooks are delivered to


def test_a_success_resets_the_count_and_a_redirect_is_a_success(
    stack: LocalStack, receiver: Receiver, made_webhooks: list[int], quiet_order: int
) -> None:
    url = receiver.hook_url()
    receiver.answers = [200, 500, 500, 500, 500, 500, 302, 404, 500, 500, 500, 500, 500, 201]
    hook_id = create(stack, made_webhooks, url).json()["id"]
    change(stack, quiet_order, 5)
    assert hidden(stack, hook_id)["failure_count"] == 5
    change(stack, quiet_order)  # 302: log_delivery() counts 200 <= code < 303 as a success
    assert hidden(stack, hook_id)["failure_count"] == 0
    change(stack, quiet_order, 6)
    assert (status_of(stack, hook_id), hidden(stack, hook_id)["failure_count"]) == ("active", 6)
    change(stack, quiet_order)  # 201
    assert (status_of(stack, hook_id), hidden(stack, hook_id)["failure_count"]) == ("active", 0)


def test_an_unreachable_url_counts_as_a_failure(stack: LocalStack, made_webhooks: list[int], quiet_order: int) -> None:
    url = f"http://127.0.0.1:{free_port()}/gone"  # nobody listens there
    hook_id = create(stack, made_webhooks, url).json()["id"]
    assert hidden(stack, hook_id)["pending_delivery"] is True  # the ping could not be delivered
    change(stack, quiet_order, 7)
    assert (status_of(stack, hook_id), hidden(stack, hook_id)["failure_count"]) == ("disabled", 6)


def test_a_webhook_turned_back_on_keeps_its_count_until_a_success(
    stack: LocalStack, receiver: Receiver, made_webhooks: list[int], quiet_order: int
) -> None:
    url = receiver.hook_url()
    receiver.answers = [200]
    receiver.default = 500
    hook_id = create(stack, made_webhooks, url).json()["id"]
    change(stack, quiet_order, 7)
    assert status_of(stack, hook_id) == "disabled"
    assert put(stack, hook_id, status="active").json()["status"] == "active"
    change(stack, quiet_order)  # still failing: the first failure disables it again
    assert status_of(stack, hook_id) == "disabled"
    put(stack, hook_id, status="active")
    receiver.default = 200
    change(stack, quiet_order)
    assert (status_of(stack, hook_id), hidden(stack, hook_id)["failure_count"]) == ("active", 0)
