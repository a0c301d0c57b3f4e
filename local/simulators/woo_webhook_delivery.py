"""The WooCommerce simulator's webhook objects and their deliveries, modelled on WooCommerce's own code:
includes/class-wc-webhook.php (``deliver()``, ``log_delivery()``, ``failed_delivery()``, ``deliver_ping()``,
``generate_signature()``: ``woo_backend.webhook_signature``, the one the webhook routes check) and
includes/data-stores/class-wc-webhook-data-store.php (``update()``), with WordPress's ``wp_json_encode()``.

One simplification: WooCommerce delivers through Action Scheduler after the request that changed the
order (includes/wc-webhook-functions.php, ``wc_webhook_execute_queue()``); the simulator delivers at once,
so ``POST /_sim/orders/{id}/status`` can answer with what the receivers answered. ``order.created`` is
not delivered (orders made through ``/_sim/orders`` or ``POST /orders`` fire nothing).

``GET /_sim/state`` shows each webhook with what the REST API hides (``secret``, ``failure_count``,
``pending_delivery``) and ``webhook_log``, every ping and delivery sent. The REST routes are in
``local.simulators.woo_webhooks``.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import ssl
from typing import Any

import httpx

from local.simulators.base import json_default
from local.simulators.woo_orders import WooOrders
from local.simulators.woo_shop import wp_now
from woo_backend.clock import woo_date
from woo_backend.webhook_signature import webhook_signature

# One TLS context for every delivery: httpx.post builds one per call (the whole CA bundle loaded), which was
# most of the runtime's CPU spent delivering webhooks in the tests (py-spy).
_TLS = ssl.create_default_context()

# WooCommerce: includes/class-wc-webhook.php, failed_delivery():
# apply_filters( 'woocommerce_max_webhook_delivery_failures', 5 ).
MAX_DELIVERY_FAILURES = 5
# WooCommerce: includes/class-wc-webhook.php, deliver(): 'timeout' => MINUTE_IN_SECONDS.
DELIVERY_TIMEOUT_SECONDS = 60
# WordPress: wp-includes/class-wp-http.php, request(): the default 'timeout' of wp_safe_remote_post().
PING_TIMEOUT_SECONDS = 5
USER_AGENT = "WooCommerce/9.9.0 Hookshot (WordPress/6.8)"
HOME_URL = "http://shop.local/"
_SALT = b"simulated-wp-salt"


def wp_json_encode(payload: Any) -> bytes:
    # WordPress: wp_json_encode() is PHP's json_encode() with its default flags: no spaces, "/" escaped as
    # "\/", non-ASCII as \uXXXX. WooCommerce trims it and signs exactly these bytes.
    text = json.dumps(payload, default=json_default, separators=(",", ":"), ensure_ascii=True)
    return text.replace("/", "\\/").strip().encode()


class WooWebhookDelivery(WooOrders):
    def reset(self) -> None:
        super().reset()
        self.webhooks: list[dict[str, Any]] = []
        self.webhook_log: list[dict[str, Any]] = []
        self._webhook_ids = itertools.count(1)

    def state(self) -> dict[str, Any]:
        return {**super().state(), "webhooks": self.webhooks, "webhook_log": self.webhook_log[-500:]}

    # ------------------------------------------------------------ the webhook object
    def _save(self, hook: dict[str, Any], *, url_changed: bool = False) -> None:
        """WooCommerce: WC_Webhook_Data_Store::update(): stamps date_modified, then pings when the webhook is
        active and its URL changed or no ping has succeeded yet (``pending_delivery``)."""
        hook["date_modified_gmt"] = woo_date(wp_now())
        if hook["status"] == "active" and (url_changed or hook["pending_delivery"]):
            self.deliver_ping(hook)

    def deliver_ping(self, hook: dict[str, Any]) -> bool:
        """WooCommerce: WC_Webhook::deliver_ping(): ``webhook_id=<id>`` posted with no signature and no X-WC
        headers; only an answer of exactly 200 counts (then ``pending_delivery`` is cleared and saved). A
        failed ping changes nothing else: it is not a failed delivery and the REST answer ignores it."""
        headers = {
            "User-Agent": USER_AGENT,
            # WordPress posts a string body as is; cURL (what almost every host uses) labels it as a form.
            "Content-Type": "application/x-www-form-urlencoded",
        }
        status, _ = self._post(hook["delivery_url"], f"webhook_id={hook['id']}".encode(), headers, PING_TIMEOUT_SECONDS)
        self._log(hook, "ping", status)
        if status != 200:
            return False
        hook["pending_delivery"] = False
        hook["date_modified_gmt"] = woo_date(wp_now())  # save() -> update(): no second ping, pending is now false
        return True

    def _post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int | None, str]:
        """POST without following redirects ('redirection' => 0): the status (``None`` for a transport
        error, a WP_Error) and the answer's text."""
        # Released while sending: the receiver may call back into this simulator.
        self.lock.release()
        try:
            answer = httpx.post(
                url, content=body, headers=headers, timeout=timeout, follow_redirects=False, verify=_TLS
            )
            return answer.status_code, answer.text
        except httpx.HTTPError as exc:
            return None, str(exc)
        finally:
            self.lock.acquire()

    def _log(self, hook: dict[str, Any], kind: str, status: int | None) -> None:
        self.webhook_log.append(
            {
                "webhook_id": hook["id"],
                "kind": kind,
                "url": hook["delivery_url"],
                "topic": hook["topic"],
                "status": status,
            }
        )

    # ------------------------------------------------------------ deliveries
    def deliver(self, order: dict[str, Any], topic: str) -> list[dict[str, Any]]:
        """Deliver ``topic`` for ``order`` to every webhook that should get it, as WooCommerce does."""
        # WooCommerce: WC_Webhook::should_deliver(): is_active() ('active' === status) and the topic's hooks.
        targets = [hook for hook in self.webhooks if hook["status"] == "active" and hook["topic"] == topic]
        return [self._deliver_one(hook, order) for hook in targets]

    def _deliver_one(self, hook: dict[str, Any], order: dict[str, Any]) -> dict[str, Any]:
        """WooCommerce: WC_Webhook::deliver(): the order's JSON now, signed, with the X-WC headers."""
        body = wp_json_encode(order)
        resource, _, event = hook["topic"].partition(".")
        # get_new_delivery_id(): wp_hash( $id . strtotime( 'now' ) ), one-second resolution.
        delivery_id = hmac.new(_SALT, f"{hook['id']}{int(wp_now().timestamp())}".encode(), hashlib.md5).hexdigest()
        headers = {
            "User-Agent": USER_AGENT,
            "Content-Type": "application/json",
            "X-WC-Webhook-Source": HOME_URL,
            "X-WC-Webhook-Topic": hook["topic"],
            "X-WC-Webhook-Resource": resource,
            "X-WC-Webhook-Event": event,
            "X-WC-Webhook-Signature": webhook_signature(body, hook["secret"]),
            "X-WC-Webhook-ID": str(hook["id"]),
            "X-WC-Webhook-Delivery-ID": delivery_id,
        }
        url = hook["delivery_url"]
        status, text = self._post(url, body, headers, DELIVERY_TIMEOUT_SECONDS)
        self._log(hook, "delivery", status)
        self._log_delivery(hook, status)
        # log_delivery() ends with save(): the data store's update(), which pings a pending webhook.
        self._save(hook)
        return {"webhook_id": hook["id"], "url": url, "status": status, "body": text}

    @staticmethod
    def _log_delivery(hook: dict[str, Any], status: int | None) -> None:
        """WooCommerce: WC_Webhook::log_delivery(), "Track failures": 200 <= code < 303 is a success and
        resets the count; anything else (another status, or a WP_Error whose code intval()s to 0) is
        failed_delivery()."""
        if status is not None and 200 <= status < 303:
            hook["failure_count"] = 0
            return
        # WooCommerce: WC_Webhook::failed_delivery(): the count is compared *before* it grows, so the
        # webhook is disabled by the failure that finds it already above 5 (the 7th in a row), and the
        # count stays where it was. Nothing resets it but a success: not a PUT, not turning it back on.
        failures = hook["failure_count"]
        if failures > MAX_DELIVERY_FAILURES:
            hook["status"] = "disabled"
        else:
            hook["failure_count"] = failures + 1
