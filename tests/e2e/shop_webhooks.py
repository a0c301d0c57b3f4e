"""The webhook tests' helpers: the simulated shop's webhook REST API, order changes that deliver to the
active webhooks, and ``Receiver``, an endpoint in this process that records the deliveries it gets."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
from werkzeug.wrappers import Request, Response

from local.run import LOCAL_DEFAULTS

if TYPE_CHECKING:  # the conftest imports this module for ``Receiver``
    from tests.e2e.conftest import LocalStack

SECRET = LOCAL_DEFAULTS["WOOCOMMERCE_WEBHOOK_SECRET"]
PATHS = ("/credits/webhooks/order", "/balance/webhooks/order")
TOPICS = ("order.created", "order.updated")


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


def create(stack: LocalStack, made_webhooks: list[int], url: str, **fields: Any) -> httpx.Response:
    body = {"name": "test hook", "topic": "order.updated", "delivery_url": url, "secret": "test-secret", **fields}
    with stack.shop as client:
        response = client.post("/webhooks", json=body)
    if response.status_code == 201:
        made_webhooks.append(response.json()["id"])
    return response


def webhooks(stack: LocalStack, **params: Any) -> list[dict[str, Any]]:
    with stack.shop as client:
        response = client.get("/webhooks", params={"per_page": 100, **params})
    response.raise_for_status()
    items: list[dict[str, Any]] = response.json()
    return items


def status_of(stack: LocalStack, webhook_id: int) -> str:
    with stack.shop as client:
        return str(client.get(f"/webhooks/{webhook_id}").json()["status"])


def hidden(stack: LocalStack, webhook_id: int) -> dict[str, Any]:
    """What the REST API does not show (failure_count, pending_delivery), from the simulator's state."""
    return next(h for h in stack.woo_state()["webhooks"] if h["id"] == webhook_id)


def put(stack: LocalStack, webhook_id: int, **fields: Any) -> httpx.Response:
    with stack.shop as client:
        return client.put(f"/webhooks/{webhook_id}", json=fields)


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
