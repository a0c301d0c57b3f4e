"""Subscription rules: which status a customer may ask for (and what a cancel leads to, as the shop's own
cancel decides), whether it can be changed at all, and moving its next delivery date."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from woo_backend.clock import woo_date
from woo_backend.domain.account.dates import moment_of, mysql_date, timestamp
from woo_backend.domain.account.errors import BadDate, ChangeNotApplied, InvalidTransition
from woo_backend.domain.account.params import SetSubscriptionStatusParams
from woo_backend.errors import ValidationFailed

# ------------------------------------------------------------------ status
# What a customer may ask for, from which statuses. The shop has the last word (WC_Subscription::can_be_updated_to()
# also weighs the payment gateway's features and whether the products are still sold, which the REST API does
# not show): a transition it refuses is answered 409 too, with its own words.
CUSTOMER_TRANSITIONS: dict[str, frozenset[str]] = {
    "active": frozenset({"on-hold", "pending-cancel"}),
    "on-hold": frozenset({"active"}),
    "cancel": frozenset({"active", "on-hold"}),
}
# Asked again for where it already is: nothing to send. A second "cancel" of a pending-cancel subscription is a
# retry (a double click), not a request to end the paid period now as cancel_order() would.
ALREADY = {"active": {"active"}, "on-hold": {"on-hold"}, "cancel": {"pending-cancel", "cancelled"}}
CHANGEABLE = frozenset({"active", "on-hold"})
# class-wc-subscription.php, update_status(): the note written when a transition is refused (or throws).
REFUSAL_NOTE = "Unable to change subscription status to"


def end_of_prepaid_term(subscription: Mapping[str, Any], now: datetime) -> datetime:
    """``WC_Subscription::calculate_date( 'end_of_prepaid_term' )``: a future next payment, else a future end
    date when a next payment exists but is past, else now (no prepaid time)."""
    next_payment = moment_of(subscription.get("next_payment_date_gmt"))
    end = moment_of(subscription.get("end_date_gmt"))
    now = now.replace(microsecond=0)
    if next_payment is not None and next_payment >= now:
        return next_payment
    if next_payment is None or end is None or end <= now:
        return now
    return end


def _order_needs_payment(order: Mapping[str, Any]) -> bool:
    # WooCommerce: WC_Order::needs_payment(): a pending or failed order with a total above zero.
    try:
        total = Decimal(str(order.get("total") or "0"))
    except ArithmeticError:
        total = Decimal("0")
    return order.get("status") in ("pending", "failed") and total > 0


def needs_payment(subscription: Mapping[str, Any], related_orders: Sequence[Mapping[str, Any]]) -> bool:
    """``WC_Subscription::needs_payment()`` from the REST data: the subscription itself, its parent order, and
    its last renewal order that is not an early renewal (``GET /subscriptions/{id}/orders`` gives both, each
    with its ``order_type``)."""
    if _order_needs_payment(subscription):
        return True
    parent = next((o for o in related_orders if o.get("order_type") == "parent_order"), None)
    if parent is not None and (_order_needs_payment(parent) or parent.get("status") in ("on-hold", "cancelled")):
        return True
    renewals = [
        o
        for o in related_orders
        if o.get("order_type") == "renewal_order"
        and not any(m.get("key") == "_subscription_renewal_early" for m in o.get("meta_data", []))
    ]
    if not renewals:
        return False
    last = max(renewals, key=lambda o: (timestamp(o.get("date_created_gmt")) or 0, int(o.get("id") or 0)))
    return _order_needs_payment(last) or last.get("status") in ("on-hold", "failed", "cancelled")


def cancel_needs_orders(subscription: Mapping[str, Any]) -> bool:
    """Whether deciding a cancel needs the related orders: only an on-hold subscription's does."""
    return subscription.get("status") == "on-hold"


def cancel_status(
    subscription: Mapping[str, Any], now: datetime, related_orders: Sequence[Mapping[str, Any]] = ()
) -> str:
    """The status a customer's cancel leads to, as ``WC_Subscription::cancel_order()`` (the shop's own My Account
    "Cancel") decides: ``pending-cancel`` while prepaid time is left for an active subscription, or an on-hold
    one that needs no payment; ``cancelled`` otherwise."""
    status = subscription.get("status")
    prepaid = end_of_prepaid_term(subscription, now) > now.replace(microsecond=0)
    if prepaid and (status == "active" or (status == "on-hold" and not needs_payment(subscription, related_orders))):
        return "pending-cancel"
    return "cancelled"


def status_change(
    subscription: Mapping[str, Any],
    params: SetSubscriptionStatusParams,
    now: datetime,
    related_orders: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any] | None:
    """The WooCommerce update for a status request; None when the subscription is already there.

    The status goes as ``transition_status``: WooCommerce Subscriptions' REST controller
    (``prepare_object_for_database()``) hands it to ``WC_Subscription::update_status()``, which checks
    ``can_be_updated_to()`` and applies the transition's own dates (a pending cancellation keeps the paid period
    as its end date; a reactivation restores the next payment). ``status`` would only call ``set_status()``:
    any status, no check, no date. ``update_status()`` takes the value as given, so the cancel target is
    decided here the way ``cancel_order()`` decides it.
    """
    current = str(subscription.get("status"))
    if current in ALREADY[params.new_status]:
        return None
    if current not in CUSTOMER_TRANSITIONS[params.new_status]:
        raise InvalidTransition(f"a subscription that is {current} cannot be set to {params.new_status}")
    if params.new_status == "active":
        end = moment_of(subscription.get("end_date_gmt"))
        if end is not None and end <= now:
            raise InvalidTransition("this subscription has ended and cannot be reactivated")
        target = "active"
    elif params.new_status == "on-hold":
        target = "on-hold"
    else:
        target = cancel_status(subscription, now, related_orders)
    change: dict[str, Any] = {"transition_status": target}
    if params.reason:
        key = "cancel_reason" if params.new_status == "cancel" else "status_reason"
        change["meta_data"] = [{"key": key, "value": params.reason}]
    return change


def refusal_message(notes: Iterable[Mapping[str, Any]], since: datetime) -> str | None:
    """The note ``WC_Subscription::update_status()`` writes before it throws on a refused transition (the HTTP
    answer is WordPress's generic 500 and does not carry it), when one was written since ``since``."""
    floor = int(since.timestamp())
    for note in notes:
        text = str(note.get("note") or "")
        written = timestamp(note.get("date_created_gmt")) or 0
        if text.startswith(REFUSAL_NOTE) and written >= floor:
            return text
    return None


def require_changeable(subscription: Mapping[str, Any]) -> None:
    if subscription.get("status") not in CHANGEABLE:
        raise InvalidTransition(f"a subscription that is {subscription.get('status')} cannot be changed")


def confirm_status(answer: Mapping[str, Any], status: str) -> None:
    if answer.get("status") != status:
        raise ChangeNotApplied(f"WooCommerce kept the subscription {answer.get('status')} instead of {status}")


# ------------------------------------------------------------------ next delivery date
def next_delivery(subscription: Mapping[str, Any], new_day: date, now: datetime) -> datetime:
    """The new next payment moment: ``new_day`` at the current one's time of day, never in the past, and in the
    order ``prepare_dates_for_update()`` demands (after the start and the trial end, before the end)."""
    require_changeable(subscription)
    if new_day < now.date():
        raise ValidationFailed("new_date must be today or later")
    current = timestamp(subscription.get("next_payment_date_gmt"))
    at = datetime.fromtimestamp(current, UTC).time() if current else time(9, 0)
    moment = datetime.combine(new_day, at, tzinfo=UTC)
    # Today at a time already gone: the store needs a future moment, so the next hour.
    if moment <= now:
        moment = (now + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    end = moment_of(subscription.get("end_date_gmt"))
    if end is not None and moment >= end:
        raise BadDate(f"new_date must be before the subscription ends ({end.date().isoformat()})")
    start = moment_of(subscription.get("start_date_gmt"))
    trial_end = moment_of(subscription.get("trial_end_date_gmt"))
    # prepare_dates_for_update(): after the start; not in a minute before the trial end's.
    for name, earlier, too_early in (
        ("start", start, start is not None and moment <= start),
        (
            "trial_end",
            trial_end,
            trial_end is not None and int(moment.timestamp()) // 60 < int(trial_end.timestamp()) // 60,
        ),
    ):
        if too_early and earlier is not None:
            raise BadDate(f"new_date must be after {earlier.date().isoformat()} ({name})")
    return moment


def next_delivery_change(moment: datetime) -> dict[str, Any]:
    """``next_payment_date`` is the writable key (``*_date_gmt`` keys are answers only: a write ignores them)."""
    return {"next_payment_date": mysql_date(moment)}


def confirm_next_delivery(answer: Mapping[str, Any], moment: datetime) -> None:
    stored = answer.get("next_payment_date_gmt")
    if timestamp(stored) != int(moment.timestamp()):
        raise ChangeNotApplied(
            f"WooCommerce kept the next payment date at {stored or 'none'} instead of {woo_date(moment)}"
        )
