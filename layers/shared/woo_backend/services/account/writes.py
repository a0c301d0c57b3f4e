"""The write actions: each change is sent once planned from the customer's own object, and confirmed before
the customer hears "done". Each returns the object as WooCommerce saved it (unshaped)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from woo_backend.domain.account.customer import customer_changes
from woo_backend.domain.account.errors import DateRefused, InvalidTransition, TooManyMails, UnknownCustomer
from woo_backend.domain.account.exchange import interval_change
from woo_backend.domain.account.mail import merchant_mail
from woo_backend.domain.account.meta import confirm_fields, confirm_meta, meta_entries
from woo_backend.domain.account.orders import with_subscriptions
from woo_backend.domain.account.params import (
    SendMailParams,
    SetNewIntervalParams,
    SetNextDeliveryDateParams,
    SetOrderInfoParams,
    SetSubscriptionDeliveryParams,
    SetSubscriptionInfoParams,
    SetSubscriptionStatusParams,
    SetUserInfoParams,
)
from woo_backend.domain.account.results import OrderWithSubscriptions
from woo_backend.domain.account.shipping import choose_option, confirm_delivery, delivery_change
from woo_backend.domain.account.subscriptions import (
    cancel_needs_orders,
    confirm_next_delivery,
    confirm_status,
    next_delivery,
    next_delivery_change,
    refusal_message,
    status_change,
)
from woo_backend.errors import DomainError, UpstreamNotFound, UpstreamRejected, UpstreamUnavailable
from woo_backend.observability import logger
from woo_backend.services.account.ports import Json
from woo_backend.services.account.reads import delivery_options_of, products_of
from woo_backend.services.account.registry import action

if TYPE_CHECKING:
    from woo_backend.services.account.service import AccountService


# Every write is confirmed before the customer hears "done": from WooCommerce's answer when it carries the
# changed fields (it answers the object as saved), by reading it back otherwise.
@action("set_user_info", SetUserInfoParams, "Update account data (email, password, names) and meta.", writes=True)
def set_user_info(service: AccountService, uid: int, params: SetUserInfoParams) -> Json:
    changes = customer_changes(params)
    try:
        answer = service.shop.write_object("PUT", f"/customers/{uid}", changes)
    except UpstreamNotFound:
        raise UnknownCustomer(f"no customer {uid}") from None
    confirm_fields(answer, changes, ("email", "first_name", "last_name"))
    confirm_meta(answer, changes.get("meta_data", []))
    return answer


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
        return subscription
    target = str(change["transition_status"])
    sent_at = service.clock()
    try:
        # Sent once: a refused transition answers 500, and sending it again only adds refusal notes.
        answer = service.shop.write_object("PUT", path, change, repeatable=False)
    except UpstreamUnavailable as exc:
        answer = _after_failed_transition(service, path, target, sent_at, exc)
    confirm_status(answer, target)
    confirm_meta(answer, change.get("meta_data", []))
    return answer


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
        raise DateRefused("WooCommerce refused this date for the subscription's schedule") from None
    # Read back: a shop that ignored the key (older WooCommerce Subscriptions, or *_gmt keys) still answers 200.
    stored = service.shop.get_object(path)
    confirm_next_delivery(stored, moment)
    return stored


def _change_subscription(
    service: AccountService,
    uid: int,
    subscription_id: int,
    plan: Callable[[Json], Json],
    confirm: Callable[[Json, Json], None],
) -> Json:
    """The path of a plain subscription write: read the customer's subscription, plan the change from it, send
    it, confirm it from WooCommerce's answer (the object as saved) and return that answer. Nothing to send:
    the subscription as read."""
    subscription = service.subscription(uid, subscription_id)
    change = plan(subscription)
    if not change:
        return subscription
    answer = service.shop.write_object("PUT", _subscription_path(subscription_id), change)
    confirm(answer, change)
    return answer


@action("set_new_interval", SetNewIntervalParams, "Switch the delivery interval (4_week, 2_month...).", writes=True)
def set_new_interval(service: AccountService, uid: int, params: SetNewIntervalParams) -> Json:
    def plan(subscription: Json) -> Json:
        return interval_change(subscription, products_of(service, subscription), params.new_interval)

    def confirm(answer: Json, change: Json) -> None:
        confirm_fields(answer, change, ("billing_interval", "billing_period"))

    return _change_subscription(service, uid, params.subscription_id, plan, confirm)


@action("set_order_info", SetOrderInfoParams, "Update the order's meta with key: value pairs.", writes=True)
def set_order_info(service: AccountService, uid: int, params: SetOrderInfoParams) -> OrderWithSubscriptions:
    service.order(uid, params.order_id)
    entries = meta_entries(params.info)
    order = service.shop.write_object("PUT", f"/orders/{params.order_id}", {"meta_data": entries})
    confirm_meta(order, entries)
    return with_subscriptions(order, service.subscriptions_of(uid))


@action(
    "set_subscription_info",
    SetSubscriptionInfoParams,
    "Update the subscription's meta with key: value pairs.",
    writes=True,
)
def set_subscription_info(service: AccountService, uid: int, params: SetSubscriptionInfoParams) -> Json:
    entries = meta_entries(params.info)
    return _change_subscription(
        service,
        uid,
        params.subscription_id,
        lambda _: {"meta_data": entries},
        lambda answer, _: confirm_meta(answer, entries),
    )


@action(
    "set_subscription_delivery",
    SetSubscriptionDeliveryParams,
    "Switch the delivery method (a method_id from get_subscription_delivery): the shipping line takes that "
    "method's price in the zone of the subscription's address, and WooCommerce recalculates the totals.",
    writes=True,
)
def set_subscription_delivery(service: AccountService, uid: int, params: SetSubscriptionDeliveryParams) -> Json:
    def plan(subscription: Json) -> Json:
        return delivery_change(
            subscription, choose_option(delivery_options_of(service, subscription), params.method_id)
        )

    return _change_subscription(service, uid, params.subscription_id, plan, confirm_delivery)


# ------------------------------------------------------------------ mail to the merchant
@action("send_mail", SendMailParams, "Mail the shop's admin (from = the reply address).", writes=True)
def send_mail(service: AccountService, uid: int, params: SendMailParams) -> str:
    """The message id of the mail sent."""
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
    return message_id
