"""The account API's answers as models, for the OpenAPI document (``responses=`` on the route) and the tests
that hold every presenter to its model. The bytes are ``account_shape``'s (Reactive Account's key order and
WooCommerce's own fields, which these models leave open with ``extra="allow"``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Failure(BaseModel):
    """Every refusal: ``code`` is machine-readable, ``error`` says why."""

    result: Literal[False]
    error: str
    code: str


class NoResult(BaseModel):
    """Nothing to show: an empty page, no product to swap in, no interval or delivery method to switch to."""

    result: Literal[False]


class Done(BaseModel):
    result: Literal[True]


class WooObject(BaseModel):
    """A WooCommerce object (``wc/v3``) with every date as a UNIX timestamp under its plain name
    (``date_created``, ``next_payment_date``; local-time copies dropped) and meta as ``{key: value}`` without
    protected ``_`` keys. Other fields are WooCommerce's, as it sends them."""

    model_config = ConfigDict(extra="allow")

    id: int
    meta_data: dict[str, Any]


class LineItem(BaseModel):
    model_config = ConfigDict(extra="allow")

    product_id: int
    meta_data: dict[str, Any]


class Subscription(WooObject):
    status: str
    billing_period: str | None = None
    billing_interval: str | int | None = None
    line_items: list[LineItem]
    interval: str = Field(description="billing_interval and billing_period, as 4_week")


class Order(WooObject):
    """An order (never with its ``order_key``) and the subscriptions it started, renewed, resubscribed or
    switched."""

    status: str
    line_items: list[LineItem]
    subscriptions: list[Subscription]


class Customer(WooObject):
    email: str


class Paging(BaseModel):
    total: int = Field(description="the customer's objects in all pages")
    offset: int
    pagesize: int


class OrdersPage(Paging):
    orders: list[Order]


class SubscriptionsPage(Paging):
    subscriptions: list[Subscription]


class ExchangeProduct(BaseModel):
    id: int
    name: str
    price: str
    type: str
    meta_data: dict[str, Any]


class DeliveryMethod(BaseModel):
    method_id: str = Field(description="WooCommerce's rate id, <method>:<instance> (set_subscription_delivery)")
    title: str
    price: str = Field(description="two decimals, in the subscription's currency")
    price_html: str = Field(description="the price as WooCommerce's wc_price() renders it")


class DescribedParam(BaseModel):
    """A parameter: its name, whether it is required, and its JSON schema (type, constraints)."""

    model_config = ConfigDict(extra="allow")

    name: str
    required: bool


class DescribedAction(BaseModel):
    action: str
    description: str
    writes: bool
    params: list[DescribedParam]


class Described(BaseModel):
    actions: list[DescribedAction]
