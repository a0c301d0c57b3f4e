"""Webhooks end to end: the simulated shop's webhooks behave as WooCommerce's (REST routes, the creation
ping, deliveries only while active, disabled by the failure after five in a row), the syncs turn the
service's webhooks back on and report them, ``local.setup_webhooks`` is idempotent, and an entity in the
webhook secret is decoded as WordPress does.

Webhooks a test creates point at a receiver in this process and are deleted afterwards; the stack's own
webhooks that a test breaks are put back in a ``finally``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from local.run import LOCAL_DEFAULTS, free_port
from tests.e2e.conftest import ROOT, LocalStack, start_stack
from woo_backend.webhook_signature import verify_webhook_signature

pytestmark = pytest.mark.e2e

API = "/wp-json/wc/v3"
SECRET = LOCAL_DEFAULTS["WOOCOMMERCE_WEBHOOK_SECRET"]
PATHS = ("/credits/webhooks/order", "/balance/webhooks/order")
TOPICS = ("order.created", "order.updated")


# ------------------------------------------------------------------ helpers
@dataclass
class Receiver:
    """An endpoint in this process: records what it gets, answers the queued statuses (then ``default``)."""

    url: str = ""
    default: int = 200
    answers: list[int] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        self.received.append({"path": request.path, "headers": dict(request.headers), "body": request.get_data()})
        status = self.answers.pop(0) if self.answers else self.default
        return Response("answer", status=status)(environ, start_response)

    def hook_url(self) -> str:
        return f"{self.url}/hook-{uuid.uuid4().hex[:8]}"

    def got(self, url: str) -> list[dict[str, Any]]:
        return [r for r in self.received if url.endswith(r["path"])]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    endpoint = Receiver()
    server = make_server("127.0.0.1", 0, endpoint, threaded=True)
    endpoint.url = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield endpoint
    server.shutdown()


def shop(stack: LocalStack) -> httpx.Client:
    return httpx.Client(
        base_url=stack.woocommerce + API,
        auth=(LOCAL_DEFAULTS["WOOCOMMERCE_CONSUMER_KEY"], LOCAL_DEFAULTS["WOOCOMMERCE_CONSUMER_SECRET"]),
        timeout=30,
    )


@pytest.fixture
def made(stack: LocalStack) -> Iterator[list[int]]:
    """Ids of the webhooks a test creates: deleted when it ends."""
    ids: list[int] = []
    yield ids
    with shop(stack) as client:
        for webhook_id in ids:
            client.delete(f"/webhooks/{webhook_id}", params={"force": "true"})


def create(stack: LocalStack, made: list[int], url: str, **fields: Any) -> httpx.Response:
    body = {"name": "test hook", "topic": "order.updated", "delivery_url": url, "secret": "test-secret", **fields}
    with shop(stack) as client:
        response = client.post("/webhooks", json=body)
    if response.status_code == 201:
        made.append(response.json()["id"])
    return response


def webhooks(stack: LocalStack, **params: Any) -> list[dict[str, Any]]:
    with shop(stack) as client:
        response = client.get("/webhooks", params={"per_page": 100, **params})
    response.raise_for_status()
    items: list[dict[str, Any]] = response.json()
    return items


def status_of(stack: LocalStack, webhook_id: int) -> str:
    with shop(stack) as client:
        return str(client.get(f"/webhooks/{webhook_id}").json()["status"])


def hidden(stack: LocalStack, webhook_id: int) -> dict[str, Any]:
    """What the REST API does not show (failure_count, pending_delivery), from the simulator's state."""
    return next(h for h in stack.woo_state()["webhooks"] if h["id"] == webhook_id)


def put(stack: LocalStack, webhook_id: int, **fields: Any) -> httpx.Response:
    with shop(stack) as client:
        return client.put(f"/webhooks/{webhook_id}", json=fields)


@pytest.fixture
def order_id(stack: LocalStack) -> int:
    """An order no part of the service acts on (no credits, not paid with Topomer)."""
    response = stack.sim("woocommerce").post(
        "/_sim/orders", json={"customer_id": 2, "payment_method": "cod", "line_items": [{"product_id": 12}]}
    )
    return int(response.json()["id"])


def change(stack: LocalStack, order_id: int, times: int = 1) -> list[dict[str, Any]]:
    """Change the order's status ``times`` times: each change delivers order.updated to the active webhooks."""
    deliveries: list[dict[str, Any]] = []
    for n in range(times):
        status = ("on-hold", "pending")[n % 2]
        deliveries += (
            stack.sim("woocommerce")
            .post(f"/_sim/orders/{order_id}/status", json={"status": status})
            .json()["deliveries"]
        )
    return deliveries


def service_hook(stack: LocalStack, topic: str, path: str) -> dict[str, Any]:
    found = [h for h in webhooks(stack) if h["topic"] == topic and h["delivery_url"] == stack.api + path]
    assert len(found) == 1, found
    return found[0]


def new_log(stack: LocalStack, start: int) -> list[dict[str, Any]]:
    text = stack.log.read_text()[start:]
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


# ------------------------------------------------------------------ the shop's webhook API (simulator)
def test_creating_a_webhook_pings_its_url_without_signature_and_never_shows_the_secret(
    stack: LocalStack, receiver: Receiver, made: list[int]
) -> None:
    url = receiver.hook_url()
    response = create(stack, made, url, status="paused")
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
    with shop(stack) as client:
        assert client.get(f"/webhooks/{hook['id']}").json()["name"] == "test hook"
        listed = client.get("/webhooks", params={"status": "active", "per_page": 100})
    assert hook["id"] in [h["id"] for h in listed.json()]
    assert int(listed.headers["X-WP-Total"]) == len(listed.json())


def test_a_ping_not_answered_200_leaves_the_webhook_pending_and_turning_it_on_pings_again(
    stack: LocalStack, receiver: Receiver, made: list[int]
) -> None:
    url = receiver.hook_url()
    receiver.answers = [204]  # deliver_ping() wants exactly 200
    hook = create(stack, made, url).json()
    assert hook["status"] == "active"  # the REST answer ignores the ping's outcome
    assert hidden(stack, hook["id"])["pending_delivery"] is True
    assert put(stack, hook["id"], status="paused").json()["status"] == "paused"
    assert len(receiver.got(url)) == 1  # not active: no ping
    assert put(stack, hook["id"], status="active").json()["status"] == "active"
    assert [r["body"] for r in receiver.got(url)] == [f"webhook_id={hook['id']}".encode()] * 2
    assert hidden(stack, hook["id"])["pending_delivery"] is False
    put(stack, hook["id"], name="renamed")
    assert len(receiver.got(url)) == 2  # no longer pending: an update does not ping


def test_the_webhook_api_refuses_what_woocommerce_refuses(stack: LocalStack, made: list[int]) -> None:
    cases = [
        ({"topic": "order.shipped"}, "woocommerce_rest_shop_webhook_invalid_topic"),
        ({"delivery_url": "ftp://example.com/hook"}, "woocommerce_rest_shop_webhook_invalid_delivery_url"),
        ({"status": "sleeping"}, "rest_invalid_param"),
    ]
    for fields, code in cases:
        response = create(stack, made, "https://example.com/hook", **fields)
        assert (response.status_code, response.json()["code"]) == (400, code)
    with shop(stack) as client:
        missing = client.post("/webhooks", json={"topic": "order.updated"})
        assert (missing.status_code, missing.json()["code"]) == (400, "rest_missing_callback_param")
        assert client.get("/webhooks/99999").status_code == 400  # "ID is invalid."
        assert client.put("/webhooks/99999", json={"status": "active"}).status_code == 400
        assert client.get("/webhooks", params={"status": "broken"}).status_code == 400
    hook_id = service_hook(stack, "order.updated", PATHS[0])["id"]
    assert put(stack, hook_id, status="sleeping").status_code == 400
    with shop(stack) as client:
        assert client.delete(f"/webhooks/{hook_id}").status_code == 501  # no trash for webhooks
    assert status_of(stack, hook_id) == "active"


def test_woocommerce_disables_a_webhook_at_the_failure_after_five_in_a_row(
    stack: LocalStack, receiver: Receiver, made: list[int], order_id: int
) -> None:
    url = receiver.hook_url()
    receiver.answers = [200]  # the ping
    receiver.default = 500
    hook_id = create(stack, made, url).json()["id"]
    change(stack, order_id, 6)
    # failed_delivery() compares the count before it grows: six failures leave it active, counting 6 ...
    assert (status_of(stack, hook_id), hidden(stack, hook_id)["failure_count"]) == ("active", 6)
    change(stack, order_id)
    # ... and the seventh finds it above 5: disabled, and the count stays.
    assert (status_of(stack, hook_id), hidden(stack, hook_id)["failure_count"]) == ("disabled", 6)
    assert hook_id in [h["id"] for h in webhooks(stack, status="disabled")]
    assert len(receiver.got(url)) == 1 + 7
    change(stack, order_id, 2)
    assert len(receiver.got(url)) == 1 + 7  # only active webhooks are delivered to


def test_a_success_resets_the_count_and_a_redirect_is_a_success(
    stack: LocalStack, receiver: Receiver, made: list[int], order_id: int
) -> None:
    url = receiver.hook_url()
    receiver.answers = [200, 500, 500, 500, 500, 500, 302, 404, 500, 500, 500, 500, 500, 201]
    hook_id = create(stack, made, url).json()["id"]
    change(stack, order_id, 5)
    assert hidden(stack, hook_id)["failure_count"] == 5
    change(stack, order_id)  # 302: log_delivery() counts 200 <= code < 303 as a success
    assert hidden(stack, hook_id)["failure_count"] == 0
    change(stack, order_id, 6)
    assert (status_of(stack, hook_id), hidden(stack, hook_id)["failure_count"]) == ("active", 6)
    change(stack, order_id)  # 201
    assert (status_of(stack, hook_id), hidden(stack, hook_id)["failure_count"]) == ("active", 0)


def test_an_unreachable_url_counts_as_a_failure(stack: LocalStack, made: list[int], order_id: int) -> None:
    url = f"http://127.0.0.1:{free_port()}/gone"  # nobody listens there
    hook_id = create(stack, made, url).json()["id"]
    assert hidden(stack, hook_id)["pending_delivery"] is True  # the ping could not be delivered
    change(stack, order_id, 7)
    assert (status_of(stack, hook_id), hidden(stack, hook_id)["failure_count"]) == ("disabled", 6)


def test_a_webhook_turned_back_on_keeps_its_count_until_a_success(
    stack: LocalStack, receiver: Receiver, made: list[int], order_id: int
) -> None:
    url = receiver.hook_url()
    receiver.answers = [200]
    receiver.default = 500
    hook_id = create(stack, made, url).json()["id"]
    change(stack, order_id, 7)
    assert status_of(stack, hook_id) == "disabled"
    assert put(stack, hook_id, status="active").json()["status"] == "active"
    change(stack, order_id)  # still failing: the first failure disables it again
    assert status_of(stack, hook_id) == "disabled"
    put(stack, hook_id, status="active")
    receiver.default = 200
    change(stack, order_id)
    assert (status_of(stack, hook_id), hidden(stack, hook_id)["failure_count"]) == ("active", 0)


# ------------------------------------------------------------------ the syncs watch the service's webhooks
def test_the_next_sync_turns_the_service_webhooks_back_on_and_reports_them(stack: LocalStack, order_id: int) -> None:
    credits = service_hook(stack, "order.updated", "/credits/webhooks/order")
    balance = service_hook(stack, "order.updated", "/balance/webhooks/order")
    put(stack, credits["id"], secret="not-the-service-secret")  # every delivery to credits now fails (401)
    put(stack, balance["id"], status="paused")  # as an admin would
    try:
        deliveries = change(stack, order_id, 7)
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
    assert {d["status"] for d in change(stack, order_id) if d["webhook_id"] in (credits["id"], balance["id"])} == {200}
    assert hidden(stack, credits["id"])["failure_count"] == 0


def test_a_missing_service_webhook_is_reported_not_created(stack: LocalStack) -> None:
    gone = service_hook(stack, "order.created", "/credits/webhooks/order")
    with shop(stack) as client:
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
        with shop(stack) as client:
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
    stack: LocalStack, receiver: Receiver, made: list[int], order_id: int
) -> None:
    # The stack's own webhooks were made by the same code at start-up: running it again duplicates nothing.
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
    made.extend(h["id"] for hooks in created.values() for h in hooks)
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
    for delivery in change(stack, order_id):
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
