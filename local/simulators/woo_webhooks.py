"""The WooCommerce simulator's webhooks REST routes ``/wc/v3/webhooks`` (list, create, read, update, delete),
as includes/rest-api/Controllers/Version3/class-wc-rest-webhooks-controller.php and its parents
Version2/class-wc-rest-webhooks-v2-controller.php and Version1/class-wc-rest-webhooks-v1-controller.php, with
includes/data-stores/class-wc-webhook-data-store.php (``create()``). The webhook objects, their pings and
deliveries are in ``local.simulators.woo_webhook_delivery``.

Control endpoint: ``POST /_sim/orders/{id}/status`` ``{"status": ..., "deliver": true}``. Webhooks are
created only through ``POST /wc/v3/webhooks``, as in a real shop (``local.run`` does it with
``local.setup_webhooks``).
"""

from __future__ import annotations

import math
import secrets
import string
from typing import Any
from urllib.parse import urlparse

from werkzeug.wrappers import Request, Response

from local.simulators.base import json_response
from local.simulators.woo_shop import _rest_error, wp_now
from local.simulators.woo_webhook_delivery import HOME_URL, WooWebhookDelivery
from woo_backend.clock import woo_date

# The secret the local runtime gives its webhooks (WOOCOMMERCE_WEBHOOK_SECRET's local default).
WEBHOOK_SECRET = "local-webhook-secret"

# WooCommerce: includes/wc-webhook-functions.php, wc_get_webhook_statuses().
STATUSES = ("active", "paused", "disabled")

# WooCommerce: includes/class-wc-webhook.php, get_default_topic_hooks() (the order topics are the ones
# this project uses; the others are listed for the ``hooks`` field).
TOPIC_HOOKS = {
    "coupon.created": ["woocommerce_process_shop_coupon_meta", "woocommerce_new_coupon"],
    "coupon.updated": ["woocommerce_process_shop_coupon_meta", "woocommerce_update_coupon"],
    "coupon.deleted": ["wp_trash_post"],
    "coupon.restored": ["untrashed_post"],
    "customer.created": ["user_register", "woocommerce_created_customer", "woocommerce_new_customer"],
    "customer.updated": ["profile_update", "woocommerce_update_customer"],
    "customer.deleted": ["delete_user"],
    "order.created": ["woocommerce_new_order"],
    "order.updated": ["woocommerce_update_order", "woocommerce_order_refunded", "woocommerce_delete_order_refund"],
    "order.deleted": ["wp_trash_post", "woocommerce_trash_order"],
    "order.restored": ["untrashed_post", "woocommerce_untrash_order"],
    "product.created": [
        "woocommerce_process_product_meta",
        "woocommerce_new_product",
        "woocommerce_new_product_variation",
    ],
    "product.updated": [
        "woocommerce_process_product_meta",
        "woocommerce_update_product",
        "woocommerce_update_product_variation",
    ],
    "product.deleted": ["wp_trash_post"],
    "product.restored": ["untrashed_post"],
}


def is_valid_topic(topic: str) -> bool:
    # WooCommerce: includes/wc-webhook-functions.php, wc_is_webhook_valid_topic().
    if topic in (
        "action.woocommerce_login_credentials",
        "action.woocommerce_product_csv_importer_check_import_file_path",
        "action.woocommerce_webhook_should_deliver",
    ):
        return False
    if topic.startswith(("action.woocommerce_", "action.wc_")):
        return True
    parts = topic.split(".")
    return (
        len(parts) >= 2
        and parts[0] in ("coupon", "customer", "order", "product")
        and parts[1] in ("created", "updated", "deleted", "restored")
    )


def is_valid_url(url: str) -> bool:
    # WooCommerce: includes/wc-formatting-functions.php, wc_is_valid_url(): FILTER_VALIDATE_URL, http(s) only.
    parsed = urlparse(url)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc) and " " not in url


def _generate_password(length: int = 50) -> str:
    # WordPress: wp-includes/pluggable.php, wp_generate_password( 50, true, true ), the default secret.
    chars = string.ascii_letters + string.digits + "!@#$%^&*()" + "-_ []{}<>~`+=,.;:/?|"
    return "".join(secrets.choice(chars) for _ in range(length))


class WooWebhooks(WooWebhookDelivery):
    def add_routes(self) -> None:
        super().add_routes()
        self.rest_routes(
            "webhooks",
            "webhook_id",
            get_items=self.list_webhooks,
            create_item=self.create_webhook_api,
            get_item=self.get_webhook,
            update_item=self.update_webhook_api,
            delete_item=self.delete_webhook_api,
        )
        self.route("/_sim/orders/<int:order_id>/status", ["POST"], self.sim_set_status)

    # ------------------------------------------------------------ the webhook object, as the REST API shows it
    def _find_webhook(self, webhook_id: int) -> dict[str, Any] | None:
        return next((hook for hook in self.webhooks if hook["id"] == webhook_id), None)

    def _webhook_json(self, hook: dict[str, Any]) -> dict[str, Any]:
        """WooCommerce: Version2/class-wc-rest-webhooks-v2-controller.php, prepare_item_for_response().

        ``secret`` is in the schema for the edit context only and never in the data: no answer shows it.
        """
        topic = hook["topic"]
        resource, _, event = topic.partition(".")
        hooks = [event] if resource == "action" else TOPIC_HOOKS.get(topic, [])
        return {
            "id": hook["id"],
            "name": hook["name"],
            "status": hook["status"],
            "topic": topic,
            "resource": resource,
            "event": event,
            "hooks": hooks,
            "delivery_url": hook["delivery_url"],
            # wc_rest_prepare_date_response( $date, false ): the site's time zone; without false: GMT.
            "date_created": self._site_time(hook["date_created_gmt"]),
            "date_created_gmt": hook["date_created_gmt"],
            "date_modified": self._site_time(hook["date_modified_gmt"]),
            "date_modified_gmt": hook["date_modified_gmt"],
            "_links": {
                "self": [{"href": f"{HOME_URL}wp-json/wc/v3/webhooks/{hook['id']}"}],
                "collection": [{"href": f"{HOME_URL}wp-json/wc/v3/webhooks"}],
            },
        }

    def _create_webhook(self, name: str, topic: str, delivery_url: str, secret: str) -> dict[str, Any]:
        """WooCommerce: Version1 controller create_item(): always ``active`` (the post status is 'publish'
        whatever ``status`` was sent), the secret generated when none is given; then the data store's
        create() marks it ``pending_delivery`` and the controller sends the ping."""
        hook = {
            "id": next(self._webhook_ids),
            "name": name or wp_now().strftime("Webhook created on %b %d, %Y @ %I:%M %p"),  # prepare_item_for_database()
            "status": "active",
            # WC_Webhook::set_topic(): an invalid topic (after wc_clean, case kept) is stored as ''.
            "topic": topic if is_valid_topic(topic) else "",
            "delivery_url": delivery_url,
            "secret": secret or _generate_password(),
            "api_version": 3,
            "failure_count": 0,
            "pending_delivery": True,
            "date_created_gmt": woo_date(wp_now()),
            "date_modified_gmt": None,
        }
        self.webhooks.append(hook)
        return hook

    # ------------------------------------------------------------ REST: /wc/v3/webhooks
    def list_webhooks(self, request: Request) -> Response:
        """WooCommerce: Version1 controller get_items() and WC_Webhook_Data_Store::search_webhooks()."""
        args = request.args
        status = args.get("status", "all")
        order = args.get("order", "desc")
        orderby = args.get("orderby", "date")
        try:
            per_page = int(args.get("per_page", 10))
            page = int(args.get("page", 1))
        except ValueError:
            return _rest_error("rest_invalid_param", "Invalid parameter(s): per_page, page", 400)
        bad = [
            name
            for name, ok in (
                ("status", status in ("all", *STATUSES)),
                ("order", order in ("asc", "desc")),
                ("orderby", orderby in ("date", "id", "title")),
                ("per_page", 1 <= per_page <= 100),
                ("page", page >= 1),
            )
            if not ok
        ]
        if bad:
            return _rest_error("rest_invalid_param", f"Invalid parameter(s): {', '.join(bad)}", 400)
        items = [hook for hook in self.webhooks if status == "all" or hook["status"] == status]
        if args.get("search"):
            needle = args["search"].lower()
            items = [hook for hook in items if needle in hook["name"].lower()]
        for key, keep in (("include", True), ("exclude", False)):
            if args.get(key):
                ids = {int(x) for x in args[key].split(",") if x.strip().isdigit()}
                items = [hook for hook in items if (hook["id"] in ids) is keep]
        sort_key = {"date": "date_created_gmt", "id": "id", "title": "name"}[orderby]
        items.sort(key=lambda hook: (hook[sort_key], hook["id"]), reverse=order == "desc")
        # get_items() sets the offset only when none is sent, so an ``offset`` parameter is ignored.
        start = (page - 1) * per_page
        total = len(items)
        pages = math.ceil(total / per_page) if per_page > 1 else 1  # search_webhooks()'s max_num_pages
        return json_response(
            [self._webhook_json(hook) for hook in items[start : start + per_page]],
            headers={"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)},
        )

    def get_webhook(self, request: Request, webhook_id: int) -> Response:
        # Version1 get_item() -> prepare_item_for_response(): an unknown id is a 400 "ID is invalid.".
        hook = self._find_webhook(webhook_id)
        if hook is None:
            return _rest_error("woocommerce_rest_shop_webhook_invalid_id", "ID is invalid.", 400)
        return json_response(self._webhook_json(hook))

    def create_webhook_api(self, request: Request) -> Response:
        """WooCommerce: Version1 controller create_item(), then deliver_ping() before it answers 201."""
        body = request.get_json(silent=True) or {}
        missing = [name for name in ("topic", "delivery_url") if name not in body]
        if missing:
            return _rest_error("rest_missing_callback_param", f"Missing parameter(s): {', '.join(missing)}", 400)
        if "status" in body and body["status"] not in STATUSES:
            return _rest_error("rest_invalid_param", "Invalid parameter(s): status", 400)
        if body.get("id"):
            return _rest_error("woocommerce_rest_shop_webhook_exists", "Cannot create existing shop_webhook.", 400)
        topic = str(body.get("topic") or "")
        if not topic or not is_valid_topic(topic.lower()):
            return _rest_error(
                "woocommerce_rest_shop_webhook_invalid_topic", "Webhook topic is required and must be valid.", 400
            )
        url = str(body.get("delivery_url") or "")
        if not url or not is_valid_url(url):
            return _rest_error(
                "woocommerce_rest_shop_webhook_invalid_delivery_url",
                "Webhook delivery URL must be a valid URL starting with http:// or https://.",
                400,
            )
        hook = self._create_webhook(str(body.get("name") or ""), topic, url, str(body.get("secret") or ""))
        answer = self._webhook_json(hook)  # prepared before the ping, as create_item() does
        self.deliver_ping(hook)
        return json_response(answer, status=201, headers={"Location": f"{HOME_URL}wp-json/wc/v3/webhooks/{hook['id']}"})

    def update_webhook_api(self, request: Request, webhook_id: int) -> Response:
        """WooCommerce: Version1 controller update_item(). The failure count is not touched: a webhook
        turned back on after being disabled is disabled again by its next failed delivery."""
        body = request.get_json(silent=True) or {}
        if "status" in body and body["status"] not in STATUSES:  # the route's schema enum, checked first
            return _rest_error("rest_invalid_param", "Invalid parameter(s): status", 400)
        hook = self._find_webhook(webhook_id)
        if hook is None:
            return _rest_error("woocommerce_rest_shop_webhook_invalid_id", "ID is invalid.", 400)
        changes: dict[str, Any] = {}
        if body.get("topic"):
            if not is_valid_topic(str(body["topic"]).lower()):
                return _rest_error("woocommerce_rest_shop_webhook_invalid_topic", "Webhook topic must be valid.", 400)
            changes["topic"] = body["topic"] if is_valid_topic(body["topic"]) else ""
        if body.get("delivery_url"):
            if not is_valid_url(str(body["delivery_url"])):
                return _rest_error(
                    "woocommerce_rest_shop_webhook_invalid_delivery_url",
                    "Webhook delivery URL must be a valid URL starting with http:// or https://.",
                    400,
                )
            changes["delivery_url"] = body["delivery_url"]
        for key in ("secret", "status", "name"):
            if body.get(key):
                changes[key] = body[key]
        url_changed = "delivery_url" in changes and changes["delivery_url"] != hook["delivery_url"]
        hook.update(changes)
        self._save(hook, url_changed=url_changed)
        return json_response(self._webhook_json(hook))

    def delete_webhook_api(self, request: Request, webhook_id: int) -> Response:
        # WooCommerce: Version1 controller delete_item(): webhooks cannot be trashed, only deleted with force.
        if request.args.get("force", "false").lower() not in ("true", "1"):
            return _rest_error("woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.", 501)
        hook = self._find_webhook(webhook_id)
        if hook is None:
            return _rest_error("woocommerce_rest_shop_webhook_invalid_id", "Invalid ID.", 404)
        self.webhooks.remove(hook)
        return json_response(self._webhook_json(hook))

    # ------------------------------------------------------------ control endpoints
    def sim_set_status(self, request: Request, order_id: int) -> Response:
        order = self.orders.get(order_id)
        if order is None:
            return self._not_found("shop_order")
        body = request.get_json(force=True)
        self._apply_order_change(order, {"status": body["status"]})
        deliveries = self.deliver(order, "order.updated") if body.get("deliver", True) else []
        return json_response({"order": order, "deliveries": deliveries})
