"""The WooCommerce simulator's webhooks: registration and signed deliveries, and status changes that fire them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import httpx
from werkzeug.wrappers import Request, Response

from local.simulators.base import json_default, json_response
from local.simulators.woo_shop import WooShop, _now

WEBHOOK_SECRET = "local-webhook-secret"


class WooWebhooks(WooShop):
    def add_routes(self) -> None:
        super().add_routes()
        r = self.route
        r("/_sim/orders/<int:order_id>/status", ["POST"], self.sim_set_status)
        r("/_sim/webhooks", ["POST"], self.sim_add_webhook)

    def reset(self) -> None:
        super().reset()
        self.webhooks: list[dict[str, str]] = []

    def state(self) -> dict[str, Any]:
        return {**super().state(), "webhooks": self.webhooks}

    def sim_add_webhook(self, request: Request) -> Response:
        body = request.get_json(force=True)
        hook = {
            "topic": body.get("topic", "order.updated"),
            "delivery_url": body["delivery_url"],
            "secret": body.get("secret", WEBHOOK_SECRET),
        }
        self.webhooks.append(hook)
        return json_response(hook, status=201)

    def sim_set_status(self, request: Request, order_id: int) -> Response:
        order = self.orders.get(order_id)
        if order is None:
            return self._not_found("shop_order")
        body = request.get_json(force=True)
        self._apply_order_change(order, {"status": body["status"]})
        deliveries = self.deliver(order, "order.updated") if body.get("deliver", True) else []
        return json_response({"order": order, "deliveries": deliveries})

    def deliver(self, order: dict[str, Any], topic: str) -> list[dict[str, Any]]:
        """Deliver a webhook as WooCommerce does: the order's JSON now, signed, with the X-WC headers."""
        payload = json.dumps(order, default=json_default).encode()
        results = []
        for hook in self.webhooks:
            if hook["topic"] != topic:
                continue
            signature = base64.b64encode(hmac.new(hook["secret"].encode(), payload, hashlib.sha256).digest()).decode()
            headers = {
                "Content-Type": "application/json",
                "X-WC-Webhook-Source": "http://shop.local/",
                "X-WC-Webhook-Topic": topic,
                "X-WC-Webhook-Resource": "order",
                "X-WC-Webhook-Event": topic.split(".")[1],
                "X-WC-Webhook-Signature": signature,
                "X-WC-Webhook-ID": "1",
                "X-WC-Webhook-Delivery-ID": hashlib.md5(f"1{_now().timestamp()}".encode()).hexdigest(),  # noqa: S324
            }
            # Released while delivering: the receiver may call back into this simulator.
            self.lock.release()
            try:
                answer = httpx.post(hook["delivery_url"], content=payload, headers=headers, timeout=30)
                results.append({"url": hook["delivery_url"], "status": answer.status_code, "body": answer.text})
            except httpx.HTTPError as exc:
                results.append({"url": hook["delivery_url"], "status": None, "body": str(exc)})
            finally:
                self.lock.acquire()
        return results
