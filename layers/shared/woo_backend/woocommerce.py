"""WooCommerce REST API (``wc/v3``) client (a delivery's signature is checked in ``webhook_signature``).

Money fields arrive as strings with two decimals and are parsed to ``Decimal``. Models keep unknown
fields (``extra="allow"``) so callers that pass data through (the account API) lose nothing.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Unpack

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from woo_backend.http import ClientOptions, UpstreamClient, segment
from woo_backend.settings import WooCommerceSettings

if TYPE_CHECKING:
    import httpx  # imported at the first request (woo_backend.http)

API_PREFIX = "/wp-json/wc/v3"
MAX_PER_PAGE = 100


class WooModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class MetaData(WooModel):
    id: int | None = None
    key: str
    value: Any = None


def meta_value(meta_data: list[MetaData], key: str) -> Any:
    """The value of the first ``key`` entry (WooCommerce's ``get_meta($key, true)``), or None."""
    return next((m.value for m in meta_data if m.key == key), None)


class LineItem(WooModel):
    id: int
    product_id: int
    variation_id: int = 0
    quantity: int
    name: str = ""
    total: Decimal = Decimal("0")
    meta_data: list[MetaData] = Field(default_factory=list)


class Order(WooModel):
    id: int
    order_key: str = ""
    status: str
    currency: str = ""
    total: Decimal = Decimal("0")
    customer_id: int = 0
    payment_method: str = ""
    date_modified_gmt: str | None = None
    # Set once, when the order first reaches a paid status, and kept (class-wc-order.php, maybe_set_date_paid()).
    date_paid_gmt: str | None = None
    line_items: list[LineItem] = Field(default_factory=list)
    meta_data: list[MetaData] = Field(default_factory=list)

    def meta(self, key: str) -> Any:
        return meta_value(self.meta_data, key)


class Product(WooModel):
    id: int
    name: str = ""
    type: str = "simple"
    price: str = ""
    meta_data: list[MetaData] = Field(default_factory=list)

    def meta(self, key: str) -> Any:
        return meta_value(self.meta_data, key)


class OrderNote(WooModel):
    """An order note (``/orders/{id}/notes``); ``customer_note`` false is a note for the shop only."""

    id: int
    note: str = ""
    customer_note: bool = False


class Coupon(WooModel):
    id: int
    code: str
    amount: Decimal = Decimal("0")
    discount_type: str = "percent"
    status: str = "publish"
    # The same instant twice: ``date_expires`` in the shop's time zone, ``date_expires_gmt`` in GMT.
    date_expires: str | None = None
    date_expires_gmt: str | None = None


class Webhook(WooModel):
    """A shop webhook as ``GET /webhooks`` shows it; ``status`` is active, paused or disabled."""

    id: int
    name: str = ""
    status: str
    topic: str = ""
    delivery_url: str = ""


_orders = TypeAdapter(list[Order])
_products = TypeAdapter(list[Product])
_objects = TypeAdapter(list[dict[str, Any]])


class _ConsumerKeyAuth:
    """Basic auth with the consumer key and secret as the settings hold them at each request: a key rotated in
    SSM is used once Powertools' cache expires, without a new container. A callable (httpx's function auth),
    so this module does not import httpx at cold start."""

    def __init__(self, settings: WooCommerceSettings) -> None:
        self._settings = settings

    def __call__(self, request: httpx.Request) -> httpx.Request:
        key, secret = self._settings.consumer_key.get_secret_value(), self._settings.consumer_secret.get_secret_value()
        credentials = base64.b64encode(f"{key}:{secret}".encode()).decode("ascii")
        request.headers["Authorization"] = f"Basic {credentials}"
        return request


class WooCommerceClient(UpstreamClient):
    name = "woocommerce"

    def __init__(self, settings: WooCommerceSettings, **options: Unpack[ClientOptions]) -> None:
        options.setdefault("timeout", settings.read_timeout_seconds)
        super().__init__(settings.url + API_PREFIX, auth=_ConsumerKeyAuth(settings), **options)

    # -------------------------------------------------------------- generic
    def get_object(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        response = self.request("GET", path, params=params)
        return self.parse_as(response, TypeAdapter(dict[str, Any]))

    def list_page(self, path: str, params: Mapping[str, Any] | None = None) -> tuple[list[dict[str, Any]], int, int]:
        """One page of a collection and the totals from ``X-WP-Total`` / ``X-WP-TotalPages``."""
        response = self.request("GET", path, params=params)
        items = self.parse_as(response, _objects)
        total = int(response.headers.get("X-WP-Total", len(items)))
        pages = int(response.headers.get("X-WP-TotalPages", 1))
        return items, total, pages

    def paginate(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a collection, ``per_page`` 100, following ``X-WP-TotalPages``."""
        page = 1
        while True:
            items, _, pages = self.list_page(path, {**(params or {}), "page": page, "per_page": MAX_PER_PAGE})
            yield from items
            if page >= pages or not items:
                return
            page += 1

    def write_object(
        self, method: str, path: str, data: Mapping[str, Any], *, repeatable: bool | None = None
    ) -> dict[str, Any]:
        """``repeatable=False``: sent once, never again after a 5xx or a lost answer (a status transition
        WooCommerce Subscriptions refuses answers 500; repeating it changes nothing but the notes)."""
        response = self.request(method, path, json=dict(data), repeatable=repeatable)
        return self.parse_as(response, TypeAdapter(dict[str, Any]))

    # -------------------------------------------------------------- orders
    def get_order(self, order_id: int) -> Order:
        return self.parse(self.request("GET", f"/orders/{segment(order_id)}"), Order)

    def orders_modified_after(self, modified_after_gmt: str) -> Iterator[Order]:
        params = {"modified_after": modified_after_gmt, "dates_are_gmt": "true", "orderby": "modified", "order": "asc"}
        for raw in self.paginate("/orders", params):
            yield Order.model_validate(raw)

    def update_order(self, order_id: int, data: Mapping[str, Any]) -> Order:
        # PUT sets absolute values, so a retry after a lost answer changes nothing more.
        return self.parse(self.request("PUT", f"/orders/{segment(order_id)}", json=dict(data)), Order)

    # WooCommerce: includes/rest-api/Controllers/Version3/class-wc-rest-order-notes-controller.php. Notes are
    # never deduplicated (a repeated POST makes a second note) and the list is not paged (all notes, newest first).
    def order_notes(self, order_id: int) -> list[OrderNote]:
        return self.parse_as(self.request("GET", f"/orders/{segment(order_id)}/notes"), TypeAdapter(list[OrderNote]))

    def add_order_note(self, order_id: int, note: str) -> OrderNote:
        """A private note (not sent to the customer); 201 with the note. Not repeated on a lost answer."""
        response = self.request(
            "POST", f"/orders/{segment(order_id)}/notes", json={"note": note, "customer_note": False}
        )
        return self.parse(response, OrderNote)

    # -------------------------------------------------------------- products
    def get_products(self, product_ids: list[int]) -> list[Product]:
        """The given products in one request (``include=``); unknown ids are simply absent."""
        if not product_ids:
            return []
        ids = sorted(set(product_ids))[:MAX_PER_PAGE]
        response = self.request(
            "GET", "/products", params={"include": ",".join(map(str, ids)), "per_page": MAX_PER_PAGE}
        )
        return self.parse_as(response, _products)

    # -------------------------------------------------------------- coupons
    def create_coupon(self, data: Mapping[str, Any]) -> Coupon:
        return self.parse(self.request("POST", "/coupons", json=dict(data)), Coupon)

    def update_coupon(self, coupon_id: int, data: Mapping[str, Any]) -> Coupon:
        return self.parse(self.request("PUT", f"/coupons/{segment(coupon_id)}", json=dict(data)), Coupon)

    def find_coupon(self, code: str) -> Coupon | None:
        """The (oldest) coupon with ``code``, a draft included, not a trashed one; ``None`` if there is none.

        ``GET /coupons?code=`` cannot do it: it finds only a *published* coupon, whatever ``status`` says
        (``wc_get_coupon_id_by_code()``, class-wc-coupon-data-store-cpt.php ``get_ids_by_code()``). So this
        searches (``search`` is WP_Query's ``s``: LIKE on the code) in every status (``status=any``, honoured
        by the v3 coupons controller's ``prepare_objects_query()`` since WooCommerce 6.2) and keeps the exact
        matches. A leading "-" would make the term an exclusion (WP_Query::parse_search()), so it is left out
        of the search term; a code of hyphens only is looked for among all coupons.
        """
        wanted = code.lower()  # WooCommerce stores codes lower-cased (wc_format_coupon_code())
        term = code.lstrip("-")
        found = [
            Coupon.model_validate(raw)
            for raw in self.paginate("/coupons", {"status": "any", **({"search": term} if term else {})})
            if str(raw.get("code", "")).lower() == wanted
        ]
        return min(found, key=lambda coupon: coupon.id, default=None)

    # -------------------------------------------------------------- webhooks
    # WooCommerce: includes/rest-api/Controllers/Version3/class-wc-rest-webhooks-controller.php (its V1/V2
    # parents do the work). ``secret`` is write-only: no answer ever carries it.
    def list_webhooks(self) -> list[Webhook]:
        """Every webhook of the shop, whatever its status (``status=all``)."""
        return [Webhook.model_validate(raw) for raw in self.paginate("/webhooks", {"status": "all"})]

    def create_webhook(self, *, name: str, topic: str, delivery_url: str, secret: str) -> Webhook:
        """Created ``active`` whatever is asked; WooCommerce pings ``delivery_url`` before it answers.

        Not repeated on a lost answer (POST): look the webhook up again instead (``setup_webhooks`` does).
        """
        body = {"name": name, "topic": topic, "delivery_url": delivery_url, "secret": secret}
        return self.parse(self.request("POST", "/webhooks", json=body), Webhook)

    def update_webhook(self, webhook_id: int, data: Mapping[str, Any]) -> Webhook:
        """``PUT`` sets absolute values (``{"status": "active"}``), so repeating it changes nothing more."""
        return self.parse(self.request("PUT", f"/webhooks/{segment(webhook_id)}", json=dict(data)), Webhook)
