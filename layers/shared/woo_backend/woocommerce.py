"""WooCommerce REST API (``wc/v3``) client and webhook verification.

Money fields arrive as strings with two decimals and are parsed to ``Decimal``. Models keep unknown
fields (``extra="allow"``) so callers that pass data through (the account API) lose nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import httpx
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from woo_backend.http import DEFAULT_TIMEOUT, RetryPolicy, UpstreamClient
from woo_backend.settings import WooCommerceSettings

API_PREFIX = "/wp-json/wc/v3"
MAX_PER_PAGE = 100


class WooModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class MetaData(WooModel):
    id: int | None = None
    key: str
    value: Any = None


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
    line_items: list[LineItem] = Field(default_factory=list)
    meta_data: list[MetaData] = Field(default_factory=list)

    def meta(self, key: str) -> Any:
        return next((m.value for m in self.meta_data if m.key == key), None)


class Product(WooModel):
    id: int
    name: str = ""
    type: str = "simple"
    price: str = ""
    meta_data: list[MetaData] = Field(default_factory=list)

    def meta(self, key: str) -> Any:
        return next((m.value for m in self.meta_data if m.key == key), None)


class Coupon(WooModel):
    id: int
    code: str
    amount: Decimal = Decimal("0")
    discount_type: str = "percent"
    status: str = "publish"


_orders = TypeAdapter(list[Order])
_products = TypeAdapter(list[Product])
_objects = TypeAdapter(list[dict[str, Any]])


class WooCommerceClient(UpstreamClient):
    name = "woocommerce"

    def __init__(
        self,
        settings: WooCommerceSettings,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(
            settings.url + API_PREFIX,
            auth=httpx.BasicAuth(settings.consumer_key.get_secret_value(), settings.consumer_secret.get_secret_value()),
            timeout=timeout,
            retry=retry,
            transport=transport,
        )

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

    def write_object(self, method: str, path: str, data: Mapping[str, Any]) -> dict[str, Any]:
        response = self.request(method, path, json=dict(data))
        return self.parse_as(response, TypeAdapter(dict[str, Any]))

    # -------------------------------------------------------------- orders
    def get_order(self, order_id: int) -> Order:
        return self.parse(self.request("GET", f"/orders/{order_id}"), Order)

    def orders_modified_after(self, modified_after_gmt: str) -> Iterator[Order]:
        params = {"modified_after": modified_after_gmt, "dates_are_gmt": "true", "orderby": "modified", "order": "asc"}
        for raw in self.paginate("/orders", params):
            yield Order.model_validate(raw)

    def update_order(self, order_id: int, data: Mapping[str, Any]) -> Order:
        # PUT sets absolute values, so a retry after a lost answer changes nothing more.
        return self.parse(self.request("PUT", f"/orders/{order_id}", json=dict(data)), Order)

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
        return self.parse(self.request("PUT", f"/coupons/{coupon_id}", json=dict(data)), Coupon)

    def find_coupon(self, code: str) -> Coupon | None:
        response = self.request("GET", "/coupons", params={"code": code})
        items = self.parse_as(response, TypeAdapter(list[Coupon]))
        return items[0] if items else None


# ------------------------------------------------------------------ webhooks
def webhook_signature(body: bytes, secret: str) -> str:
    """``X-WC-Webhook-Signature``: base64 HMAC-SHA256 of the raw body; WooCommerce entity-decodes the secret."""
    key = html.unescape(secret).encode()
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()


def verify_webhook_signature(body: bytes, signature: str | None, secret: str) -> bool:
    if not signature:
        return False
    return hmac.compare_digest(webhook_signature(body, secret).encode(), signature.strip().encode())


def is_webhook_ping(headers: Mapping[str, str], body: bytes) -> bool:
    """The creation ping: a form body ``webhook_id=N``, no topic header, no signature."""
    lowered = {k.lower(): v for k, v in headers.items()}
    if "x-wc-webhook-topic" in lowered or len(body) > 64:
        return False
    try:
        fields = parse_qs(body.decode("ascii"), strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return False
    return list(fields) == ["webhook_id"] and fields["webhook_id"][0].isdigit()
