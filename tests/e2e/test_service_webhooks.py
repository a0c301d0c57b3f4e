"""The service's webhooks end to end: the syncs turn them back on and report them, ``local.setup_webhooks``
is idempotent, and an entity in the webhook secret is decoded as WordPress does.

The stack's own webhooks that a test breaks are put back in a ``finally``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.run import LOCAL_DEFAULTS
from tests.e2e.conftest import ROOT, LocalStack, start_stack
from tests.e2e.shop_webhooks import (
    PATHS,
    SECRET,
    TOPICS,
    Receiver,
    change,
    hidden,
    new_log,
    put,
    service_hook,
    status_of,
    webhooks,
)
from woo_backend.webhook_signature import verify_webhook_signature

pytestmark = pytest.mark.e2e


# ------------------------------------------------------------------ the syncs watch the service's webhooks
def test_the_next_sync_turns_the_service_webhooks_back_on_and_reports_them(stack: LocalStack, quiet_order: int) -> None:
    credits = service_hook(stack, "order.updated", "/credits/webhooks/order")
    balance = service_hook(stack, "order.updated", "/balance/webhooks/order")
    put(stack, credits["id"], secret="not-the-service-secret")  # every delivery to credits now fails (401)
    put(stack, balance["id"], status="paused")  # as an admin would
    try:
        deliveries = change(stack, quiet_order, 7)
        assert {d["status"] for d in deliveries if d["webhook_id"] == credits["id"]} == {401}
        assert status_of(stack, credits["id"]) == "disabled"
        start = len(stack.log.read_text())

        result = stack.run_schedule("CreditsSyncFunction")["result"]
        assert result["webhooks"]["reactivated"] == 1
        assert status_of(stack, credits["id"]) == "active"
        assert status_of(stack, balance["id"]) == "paused"  # the balance sync's, not this one's
        lines = new_log(stack, start)
        warned = [line for line in lines if line.get("message") == "webhook was off in WooCommerce; turned back on"]
        assert [(w["webhook_id"], w["previous_status"], w["delivery_url"]) for w in warned] == [
            (credits["id"], "disabled", credits["delivery_url"])
        ]
        assert [line["WebhookDisabled"] for line in lines if "WebhookDisabled" in line] == [[1.0]]
        text = stack.log.read_text()[start:]
        assert "not-the-service-secret" not in text
        assert SECRET not in text

        start = len(stack.log.read_text())
        assert stack.run_schedule("BalanceSyncFunction")["result"]["webhooks"]["reactivated"] == 1
        assert status_of(stack, balance["id"]) == "active"
        warned = [line for line in new_log(stack, start) if line.get("message", "").startswith("webhook was off")]
        assert [(w["webhook_id"], w["previous_status"]) for w in warned] == [(balance["id"], "paused")]
        again = stack.run_schedule("CreditsSyncFunction")["result"]["webhooks"]
        assert again == {"healthy": 2, "reactivated": 0, "missing": 0, "still_off": 0}
    finally:
        put(stack, credits["id"], secret=SECRET, status="active")
        put(stack, balance["id"], status="active")
    # The secret is right again: the next delivery succeeds and resets the count WooCommerce kept.
    ours = (credits["id"], balance["id"])
    assert {d["status"] for d in change(stack, quiet_order) if d["webhook_id"] in ours} == {200}
    assert hidden(stack, credits["id"])["failure_count"] == 0


def test_a_missing_service_webhook_is_reported_not_created(stack: LocalStack) -> None:
    gone = service_hook(stack, "order.created", "/credits/webhooks/order")
    with stack.shop as client:
        client.delete(f"/webhooks/{gone['id']}", params={"force": "true"}).raise_for_status()
    try:
        start = len(stack.log.read_text())
        result = stack.run_schedule("CreditsSyncFunction")["result"]
        assert result["webhooks"]["missing"] == 1
        assert not [
            h for h in webhooks(stack) if h["topic"] == "order.created" and h["delivery_url"] == gone["delivery_url"]
        ]
        lines = new_log(stack, start)
        missing = [line for line in lines if line.get("message", "").startswith("webhook missing")]
        assert [(m["topic"], m["delivery_url"]) for m in missing] == [("order.created", gone["delivery_url"])]
        assert [line["WebhookMissing"] for line in lines if "WebhookMissing" in line] == [[1.0]]
    finally:
        with stack.shop as client:
            body = {
                "name": gone["name"],
                "topic": "order.created",
                "delivery_url": gone["delivery_url"],
                "secret": SECRET,
            }
            client.post("/webhooks", json=body).raise_for_status()


# ------------------------------------------------------------------ setup_webhooks
def run_setup(stack: LocalStack, base_url: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'layers' / 'shared'}{os.pathsep}{ROOT}",
        "WOOCOMMERCE_URL": stack.woocommerce,
        "WOOCOMMERCE_CONSUMER_KEY": LOCAL_DEFAULTS["WOOCOMMERCE_CONSUMER_KEY"],
        "WOOCOMMERCE_CONSUMER_SECRET": LOCAL_DEFAULTS["WOOCOMMERCE_CONSUMER_SECRET"],
        "WOOCOMMERCE_WEBHOOK_SECRET": SECRET,
    }
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "local.setup_webhooks", "--base-url", base_url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def actions(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [line.split()[0] for line in done.stdout.splitlines() if line.strip()]


def by_topic_and_url(stack: LocalStack, base_url: str) -> dict[tuple[str, str], list[dict[str, Any]]]:
    wanted: dict[tuple[str, str], list[dict[str, Any]]] = {(t, base_url + p): [] for p in PATHS for t in TOPICS}
    for hook in webhooks(stack):
        if (hook["topic"], hook["delivery_url"]) in wanted:
            wanted[(hook["topic"], hook["delivery_url"])].append(hook)
    return wanted


def test_setup_webhooks_twice_leaves_exactly_one_webhook_per_topic_and_url(
    stack: LocalStack, receiver: Receiver, made_webhooks: list[int], quiet_order: int
) -> None:
    # The stack's own webhooks were made_webhooks by the same code at start-up: running it again duplicates nothing.
    before = by_topic_and_url(stack, stack.api)
    for _ in range(2):
        done = run_setup(stack, stack.api)
        assert done.returncode == 0, done.stderr
        assert SECRET not in done.stdout + done.stderr
    after = by_topic_and_url(stack, stack.api)
    assert {key: [h["id"] for h in hooks] for key, hooks in after.items()} == {
        key: [h["id"] for h in hooks] for key, hooks in before.items()
    }
    assert all(len(hooks) == 1 and hooks[0]["status"] == "active" for hooks in after.values())

    # Another base URL: created once, then found again; a disabled one is turned back on.
    other = receiver.url + "/shop-b"
    first = run_setup(stack, other)
    assert first.returncode == 0, first.stderr
    created = by_topic_and_url(stack, other)
    made_webhooks.extend(h["id"] for hooks in created.values() for h in hooks)
    assert all(len(hooks) == 1 for hooks in created.values())
    assert actions(first) == ["created"] * 4
    assert len([r for r in receiver.received if r["body"].startswith(b"webhook_id=")]) == 4  # the pings
    some = created[("order.updated", other + PATHS[0])][0]["id"]
    put(stack, some, status="disabled")
    second = run_setup(stack, other)
    assert second.returncode == 0, second.stderr
    assert actions(second) == ["updated"] * 4
    again = by_topic_and_url(stack, other)
    assert {key: [h["id"] for h in hooks] for key, hooks in again.items()} == {
        key: [h["id"] for h in hooks] for key, hooks in created.items()
    }
    assert status_of(stack, some) == "active"
    # Deliveries are signed with the secret setup gave them.
    for delivery in change(stack, quiet_order):
        if delivery["url"].startswith(other):
            got = receiver.got(delivery["url"])[-1]
            assert verify_webhook_signature(got["body"], got["headers"]["X-Wc-Webhook-Signature"], SECRET)


def test_setup_webhooks_without_a_base_url_explains_itself(stack: LocalStack) -> None:
    done = run_setup(stack, "")
    assert done.returncode == 2
    assert "--base-url" in done.stderr


# ------------------------------------------------------------------ the secret, decoded as WordPress does
ENTITY_SECRET = "s&amp;e&eacute;cret&#039;s-key"


@pytest.fixture(scope="module")
def entity_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    workdir: Path = tmp_path_factory.mktemp("entity-secret-stack")
    with start_stack(workdir, {"WOOCOMMERCE_WEBHOOK_SECRET": ENTITY_SECRET}) as running:
        yield running


def test_a_webhook_signed_with_an_entity_in_its_secret_verifies(entity_stack: LocalStack) -> None:
    # WooCommerce keys the HMAC with wp_specialchars_decode(secret): "s&e&eacute;cret's-key".
    order = entity_stack.sim("woocommerce").post(
        "/_sim/orders", json={"customer_id": 1, "payment_method": "cod", "line_items": [{"product_id": 10}]}
    )
    deliveries = change(entity_stack, int(order.json()["id"]))
    assert {d["url"].removeprefix(entity_stack.api): d["status"] for d in deliveries} == {
        "/credits/webhooks/order": 200,
        "/balance/webhooks/order": 200,
    }
    assert ENTITY_SECRET not in entity_stack.log.read_text()
