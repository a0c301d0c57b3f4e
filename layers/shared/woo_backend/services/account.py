"""Account use cases: one registry of actions (name, parameters, description, function) that both
dispatches requests and describes the API.

Every object a request names is read from WooCommerce and checked against the customer before
anything is answered or changed. Reads fetch a page in one request (``per_page`` = page size), never
page by page.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pydantic import ValidationError

from woo_backend.domain.account import (
    DeliveryOption,
    InvalidTransition,
    ListParams,
    MerchantMail,
    NoParams,
    Params,
    SendMailParams,
    SetNewIntervalParams,
    SetNextDeliveryDateParams,
    SetOrderInfoParams,
    SetSubscriptionDeliveryParams,
    SetSubscriptionInfoParams,
    SetSubscriptionStatusParams,
    SetUserInfoParams,
    ShippingZone,
    SubscriptionParams,
    TooManyMails,
    UnknownObject,
    cancel_needs_orders,
    choose_option,
    confirm_delivery,
    confirm_fields,
    confirm_meta,
    confirm_next_delivery,
    confirm_status,
    customer_changes,
    delivery_change,
    delivery_methods,
    delivery_options,
    exchange_intervals,
    exchange_products,
    interval_change,
    matching_zone,
    merchant_mail,
    meta_entries,
    next_delivery,
    next_delivery_change,
    owned,
    refusal_message,
    shape_customer,
    shape_order,
    shape_subscription,
    shipping_destination,
    status_change,
)
from woo_backend.errors import (
    DomainError,
    InvalidRequest,
    UpstreamNotFound,
    UpstreamRejected,
    UpstreamUnavailable,
    describe_validation_errors,
)
from woo_backend.observability import logger, metrics

Json = dict[str, Any]
SHIPPING_CACHE_SECONDS = 300.0


class AccountShop(Protocol):
    """What the account API needs of WooCommerce (``wc/v3``)."""

    def list_page(self, path: str, params: Mapping[str, Any] | None = None) -> tuple[list[Json], int, int]: ...

    def get_object(self, path: str, params: Mapping[str, Any] | None = None) -> Json: ...

    def write_object(
        self, method: str, path: str, data: Mapping[str, Any], *, repeatable: bool | None = None
    ) -> Json: ...


class Mailer(Protocol):
    def send(self, mail: MerchantMail) -> str: ...


class MailQuota(Protocol):
    def take(self, uid: int, window: datetime, limit: int) -> bool: ...

    def give_back(self, uid: int, window: datetime) -> None: ...


@dataclass(frozen=True)
class Action:
    name: str
    params: type[Params]
    description: str
    run: Callable[[AccountService, int, Any], Any]
    writes: bool = False


EMPTY: Json = {"result": False}
ACTIONS: dict[str, Action] = {}


def action(name: str, params: type[Params], description: str, *, writes: bool = False) -> Callable[..., Any]:
    def register(fn: Callable[[AccountService, int, Any], Any]) -> Callable[[AccountService, int, Any], Any]:
        ACTIONS[name] = Action(name, params, description, fn, writes)
        return fn

    return register


def describe_params(params: type[Params]) -> list[Json]:
    """Each parameter's name, whether it is required, its JSON schema type and constraints."""
    schema = params.model_json_schema(by_alias=True)  # the names requests use (``from``, not ``sender``)
    required = set(schema.get("required", []))
    described = []
    for name, spec in schema.get("properties", {}).items():
        entry = {"name": name, "required": name in required}
        entry.update({k: v for k, v in spec.items() if k not in ("title",)})
        described.append(entry)
    return described


class AccountService:
    def __init__(
        self,
        shop: AccountShop,
        mailer: Mailer,
        quota: MailQuota,
        mail_limit_per_hour: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.shop = shop
        self.mailer = mailer
        self.quota = quota
        self.mail_limit_per_hour = mail_limit_per_hour
        self.clock = clock
        self._zones: tuple[list[ShippingZone], float] | None = None

    # -------------------------------------------------------------- dispatch
    def dispatch(self, uid: int, name: str, fields: Mapping[str, Any]) -> Any:
        found = ACTIONS.get(name)
        if found is None:
            raise InvalidRequest(f"unknown action {name[:40]!r}; see the describe action", code="unknown_action")
        try:
            params = found.params.model_validate(dict(fields))
        except ValidationError as exc:
            raise InvalidRequest(describe_validation_errors(exc.errors()), code="validation_error") from None
        logger.append_keys(action=name)
        answer = found.run(self, uid, params)
        if found.writes:
            metrics.add_metric(name=f"Account_{name}", unit="Count", value=1)
        return answer

    # -------------------------------------------------------------- reading WooCommerce, owned objects only
    def _get(self, path: str, kind: str) -> Json:
        try:
            return self.shop.get_object(path)
        except UpstreamNotFound:
            raise UnknownObject(f"no {kind} {path.rsplit('/', 1)[-1]}", code=f"unknown_{kind}") from None

    def subscription(self, uid: int, subscription_id: int) -> Json:
        return dict(owned(self._get(f"/subscriptions/{subscription_id}", "subscription"), uid, "subscription"))

    def order(self, uid: int, order_id: int) -> Json:
        return dict(owned(self._get(f"/orders/{order_id}", "order"), uid, "order"))

    def _list(self, path: str, uid: int, params: ListParams) -> tuple[list[Json], int]:
        query = {
            "customer": uid,
            "offset": params.offset,
            "per_page": params.pagesize,
            "orderby": params.orderby,
            "order": params.order,
        }
        items, total, _ = self.shop.list_page(path, query)
        return [i for i in items if int(i.get("customer_id") or 0) == uid], total

    def _subscriptions_of(self, uid: int) -> list[Json]:
        """The customer's subscriptions in one request, to attach to the orders that started or renewed them."""
        items, _, _ = self.shop.list_page("/subscriptions", {"customer": uid, "per_page": 100})
        return [s for s in items if int(s.get("customer_id") or 0) == uid]

    def _page(self, key: str, items: list[Json], total: int, params: ListParams) -> Json:
        if not items:
            return EMPTY
        return {key: items, "total": total, "offset": params.offset, "pagesize": params.pagesize}


# ------------------------------------------------------------------ reads
@action("get_orders", ListParams, "The customer's orders, with items, order and item meta, and their subscriptions.")
def get_orders(service: AccountService, uid: int, params: ListParams) -> Json:
    if params.single is not None:
        order = service.order(uid, params.single)
        return shape_order(order, service._subscriptions_of(uid))
    orders, total = service._list("/orders", uid, params)
    subscriptions = service._subscriptions_of(uid) if orders else []
    return service._page("orders", [shape_order(o, subscriptions) for o in orders], total, params)


@action("get_subscriptions", ListParams, "The customer's subscriptions, paged and ordered as get_orders.")
def get_subscriptions(service: AccountService, uid: int, params: ListParams) -> Json:
    if params.single is not None:
        return shape_subscription(service.subscription(uid, params.single))
    items, total = service._list("/subscriptions", uid, params)
    return service._page("subscriptions", [shape_subscription(s) for s in items], total, params)


@action("get_user_info", NoParams, "The customer's account with all their meta.")
def get_user_info(service: AccountService, uid: int, params: NoParams) -> Json:
    return shape_customer(service._get(f"/customers/{uid}", "customer"))


def _products_of(service: AccountService, subscription: Json) -> list[Json]:
    ids = sorted({int(i["product_id"]) for i in subscription.get("line_items", [])})
    if not ids:
        return []
    items, _, _ = service.shop.list_page("/products", {"include": ",".join(map(str, ids)), "per_page": 100})
    return items


@action("get_exchange_products", SubscriptionParams, "Subscription products the subscription can swap in.")
def get_exchange_products(service: AccountService, uid: int, params: SubscriptionParams) -> Any:
    subscription = service.subscription(uid, params.subscription_id)
    held = sorted({int(i["product_id"]) for i in subscription.get("line_items", [])})
    query: Json = {"type": "subscription", "status": "publish", "per_page": 100}
    if held:
        query["exclude"] = ",".join(map(str, held))
    products, _, _ = service.shop.list_page("/products", query)
    return exchange_products(subscription, products) or EMPTY


@action("get_exchange_intervals", SubscriptionParams, "Intervals (like 4_week) the subscription can switch to.")
def get_exchange_intervals(service: AccountService, uid: int, params: SubscriptionParams) -> Any:
    subscription = service.subscription(uid, params.subscription_id)
    return exchange_intervals(subscription, _products_of(service, subscription)) or EMPTY


def _shipping_zones(service: AccountService) -> list[ShippingZone]:
    """The shop's shipping zones with their locations and method instances (where the prices are), kept a few
    minutes per container: they change with the shop's settings, not with each request."""
    now = time.monotonic()
    cached = service._zones
    if cached is None or cached[1] <= now:
        listed, _, _ = service.shop.list_page("/shipping/zones")
        zones = []
        for raw in listed:
            zone_id = int(raw["id"])
            # Zone 0 ("the rest of the world") has no locations: WooCommerce cannot store any for it.
            locations = [] if zone_id == 0 else service.shop.list_page(f"/shipping/zones/{zone_id}/locations")[0]
            methods, _, _ = service.shop.list_page(f"/shipping/zones/{zone_id}/methods")
            zones.append(
                ShippingZone(
                    id=zone_id, order=int(raw.get("order") or 0), locations=tuple(locations), methods=tuple(methods)
                )
            )
        cached = service._zones = (zones, now + SHIPPING_CACHE_SECONDS)
    return cached[0]


def _delivery_options(service: AccountService, subscription: Json) -> list[DeliveryOption]:
    zone = matching_zone(_shipping_zones(service), *shipping_destination(subscription))
    return delivery_options(zone, subscription) if zone is not None else []


@action(
    "get_subscription_delivery",
    SubscriptionParams,
    "Delivery methods for the subscription's shipping address, priced by the shop's matching shipping zone.",
)
def get_subscription_delivery(service: AccountService, uid: int, params: SubscriptionParams) -> Any:
    subscription = service.subscription(uid, params.subscription_id)
    options = _delivery_options(service, subscription)
    return delivery_methods(options, str(subscription.get("currency", ""))) or EMPTY


# ------------------------------------------------------------------ writes
# Every write is confirmed before the customer hears "done": from WooCommerce's answer when it carries the
# changed fields (it answers the object as saved), by reading it back otherwise.
@action("set_user_info", SetUserInfoParams, "Update account data (email, password, names) and meta.", writes=True)
def set_user_info(service: AccountService, uid: int, params: SetUserInfoParams) -> Json:
    changes = customer_changes(params)
    try:
        answer = service.shop.write_object("PUT", f"/customers/{uid}", changes)
    except UpstreamNotFound:
        raise UnknownObject(f"no customer {uid}", code="unknown_customer") from None
    confirm_fields(answer, changes, ("email", "first_name", "last_name"))
    confirm_meta(answer, changes.get("meta_data", []))
    return shape_customer(answer)


def _subscription_path(subscription_id: int) -> str:
    return f"/subscriptions/{subscription_id}"


@action(
    "set_subscription_status",
    SetSubscriptionStatusParams,
    "Set the status: active, on-hold or cancel (reason kept in the subscription meta). A cancel keeps the paid "
    "period (pending-cancel) when the shop's own cancel would.",
    writes=True,
)
def set_subscription_status(service: AccountService, uid: int, params: SetSubscriptionStatusParams) -> Json:
    subscription = service.subscription(uid, params.subscription_id)
    path = _subscription_path(params.subscription_id)
    related: list[Json] = []
    if params.new_status == "cancel" and cancel_needs_orders(subscription):
        related, _, _ = service.shop.list_page(f"{path}/orders", {"per_page": 100})
    change = status_change(subscription, params, service.clock(), related)
    if change is None:
        return shape_subscription(subscription)
    target = str(change["transition_status"])
    sent_at = service.clock()
    try:
        # Sent once: a refused transition answers 500, and sending it again only adds refusal notes.
        answer = service.shop.write_object("PUT", path, change, repeatable=False)
    except UpstreamUnavailable as exc:
        answer = _after_failed_transition(service, path, target, sent_at, exc)
    confirm_status(answer, target)
    confirm_meta(answer, change.get("meta_data", []))
    return shape_subscription(answer)


def _after_failed_transition(
    service: AccountService, path: str, target: str, sent_at: datetime, failure: UpstreamUnavailable
) -> Json:
    """A status write that failed: the subscription read back says whether it landed (a lost answer); if not,
    the refusal note ``WC_Subscription::update_status()`` writes before throwing says why (WordPress answers
    an uncaught exception with a generic 500 that does not)."""
    current = service.shop.get_object(path)
    if current.get("status") == target:
        return current
    notes, _, _ = service.shop.list_page(f"{path}/notes")
    message = refusal_message(notes, since=sent_at - timedelta(seconds=5))
    # A 500 is WordPress's fatal error handler answering the exception nobody caught; a 502/504 from a proxy,
    # or no answer at all, says nothing about a refusal.
    if message is None and failure.status == 500:
        message = f"WooCommerce refused to change the subscription to {target}"
    if message is None:
        raise failure
    logger.info("subscription status change refused by WooCommerce", extra={"target_status": target})
    raise InvalidTransition(f"WooCommerce: {message}" if message.startswith("Unable") else message)


@action(
    "set_next_delivery_date", SetNextDeliveryDateParams, "Move the next delivery to new_date (YYYY-MM-DD).", writes=True
)
def set_next_delivery_date(service: AccountService, uid: int, params: SetNextDeliveryDateParams) -> Json:
    subscription = service.subscription(uid, params.subscription_id)
    moment = next_delivery(subscription, params.new_date, service.clock())
    path = _subscription_path(params.subscription_id)
    try:
        service.shop.write_object("PUT", path, next_delivery_change(moment))
    except UpstreamRejected as exc:
        if exc.status != 400:
            raise
        # update_dates() refused the date (WooCommerce Subscriptions answers 400 woocommerce_rest_invalid_payment_data).
        raise InvalidTransition(
            "WooCommerce refused this date for the subscription's schedule", code="date_refused"
        ) from None
    # Read back: a shop that ignored the key (older WooCommerce Subscriptions, or *_gmt keys) still answers 200.
    stored = service.shop.get_object(path)
    confirm_next_delivery(stored, moment)
    return shape_subscription(stored)


def _change_subscription(
    service: AccountService, uid: int, subscription_id: int, plan: Callable[[Json], Json | None]
) -> tuple[Json, Json | None]:
    """Read the customer's subscription, plan the change from it, and send it. Returns WooCommerce's answer
    and the change sent (None: nothing to send, the subscription as read)."""
    subscription = service.subscription(uid, subscription_id)
    change = plan(subscription)
    if not change:
        return subscription, None
    return service.shop.write_object("PUT", _subscription_path(subscription_id), change), change


@action("set_new_interval", SetNewIntervalParams, "Switch the delivery interval (4_week, 2_month...).", writes=True)
def set_new_interval(service: AccountService, uid: int, params: SetNewIntervalParams) -> Json:
    def plan(subscription: Json) -> Json:
        return interval_change(subscription, _products_of(service, subscription), params.new_interval)

    answer, change = _change_subscription(service, uid, params.subscription_id, plan)
    if change:
        confirm_fields(answer, change, ("billing_interval", "billing_period"))
    return shape_subscription(answer)


@action("set_order_info", SetOrderInfoParams, "Update the order's meta with key: value pairs.", writes=True)
def set_order_info(service: AccountService, uid: int, params: SetOrderInfoParams) -> Json:
    service.order(uid, params.order_id)
    entries = meta_entries(params.info)
    order = service.shop.write_object("PUT", f"/orders/{params.order_id}", {"meta_data": entries})
    confirm_meta(order, entries)
    return shape_order(order, service._subscriptions_of(uid))


@action(
    "set_subscription_info",
    SetSubscriptionInfoParams,
    "Update the subscription's meta with key: value pairs.",
    writes=True,
)
def set_subscription_info(service: AccountService, uid: int, params: SetSubscriptionInfoParams) -> Json:
    entries = meta_entries(params.info)
    answer, _ = _change_subscription(service, uid, params.subscription_id, lambda _: {"meta_data": entries})
    confirm_meta(answer, entries)
    return shape_subscription(answer)


@action(
    "set_subscription_delivery",
    SetSubscriptionDeliveryParams,
    "Switch the delivery method (a method_id from get_subscription_delivery): the shipping line takes that "
    "method's price in the zone of the subscription's address, and WooCommerce recalculates the totals.",
    writes=True,
)
def set_subscription_delivery(service: AccountService, uid: int, params: SetSubscriptionDeliveryParams) -> Json:
    chosen: list[DeliveryOption] = []

    def plan(subscription: Json) -> Json:
        option = choose_option(_delivery_options(service, subscription), params.method_id)
        chosen.append(option)
        return delivery_change(subscription, option)

    answer, change = _change_subscription(service, uid, params.subscription_id, plan)
    if change:
        confirm_delivery(answer, chosen[0])
    return shape_subscription(answer)


# ------------------------------------------------------------------ more
@action("send_mail", SendMailParams, "Mail the shop's admin (from = the reply address).", writes=True)
def send_mail(service: AccountService, uid: int, params: SendMailParams) -> Json:
    now = service.clock()
    if not service.quota.take(uid, now, service.mail_limit_per_hour):
        raise TooManyMails(f"at most {service.mail_limit_per_hour} messages an hour; try again later")
    customer = service.shop.get_object(f"/customers/{uid}")
    try:
        message_id = service.mailer.send(merchant_mail(params, uid, customer.get("email")))
    except DomainError:
        service.quota.give_back(uid, now)  # not sent: it does not count
        raise
    logger.info("merchant mail sent", extra={"message_id": message_id})
    return {"result": True}


@action("describe", NoParams, "Every action with its parameters.")
def describe(service: AccountService, uid: int, params: NoParams) -> Json:
    return {
        "actions": [
            {"action": a.name, "description": a.description, "writes": a.writes, "params": describe_params(a.params)}
            for a in ACTIONS.values()
        ]
    }
