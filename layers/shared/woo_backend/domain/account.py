"""Account API rules (the Reactive Account replacement): action parameters, ownership, subscription
changes, the shape of every answer (dates as UNIX timestamps), and the merchant mail.

Plain functions over pydantic models and WooCommerce's JSON: no AWS, no HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from html import escape
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    field_validator,
)

from woo_backend.errors import Conflict, DomainError, ErrorKind, Forbidden, InvalidRequest, NotFound

# Intervals a subscription can switch to when its products say nothing narrower.
DEFAULT_EXCHANGE_INTERVALS = ("1_week", "2_week", "3_week", "4_week", "1_month", "2_month", "3_month")
# Product meta listing the intervals a product may be delivered at, e.g. "2_week,4_week,1_month".
EXCHANGE_INTERVALS_META = "_exchange_intervals"
INTERVAL_PATTERN = re.compile(r"^([1-9][0-9]?)_(day|week|month|year)$")
META_KEY_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
MAX_META_ENTRIES = 50
MAX_META_VALUE_LENGTH = 2000
WOO_DATE = "%Y-%m-%dT%H:%M:%S"
MYSQL_DATE = "%Y-%m-%d %H:%M:%S"


# ------------------------------------------------------------------ errors
class NotYours(Forbidden):
    code = "forbidden"


class UnknownObject(NotFound):
    code = "not_found"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class TooManyMails(DomainError):
    kind = ErrorKind.RATE_LIMITED
    code = "too_many_mails"


# ------------------------------------------------------------------ parameters of the actions
class Params(BaseModel):
    """Every action's parameters: strict about what they are, silent about the auth fields around them."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, frozen=True)


def _whole(value: Any) -> Any:
    """Form bodies carry numbers as text: "12" is 12, "12.5" or "abc" stay invalid."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


Id = Annotated[StrictInt, Field(ge=1, le=2**53)]


class ListParams(Params):
    offset: StrictInt = Field(default=0, ge=0, le=100_000)
    pagesize: StrictInt = Field(default=10, ge=1, le=100)
    orderby: Literal["date", "id", "modified"] = "date"
    order: Literal["asc", "desc"] = "desc"
    single: Id | None = None

    _numbers = field_validator("offset", "pagesize", "single", mode="before")(_whole)

    @field_validator("orderby", "order", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value


class SubscriptionParams(Params):
    subscription_id: Id

    _numbers = field_validator("subscription_id", mode="before")(_whole)


class OrderParams(Params):
    order_id: Id

    _numbers = field_validator("order_id", mode="before")(_whole)


MetaValue = StrictStr | StrictInt | StrictFloat | StrictBool | None


def _check_meta(meta: Mapping[str, Any]) -> dict[str, Any]:
    """Customer-editable meta: named keys (never WordPress' protected ``_`` keys), scalar values."""
    if not meta:
        raise ValueError("give at least one key: value pair")
    if len(meta) > MAX_META_ENTRIES:
        raise ValueError(f"at most {MAX_META_ENTRIES} keys at once")
    for key, value in meta.items():
        if not META_KEY_PATTERN.match(key):
            raise ValueError(f"key {key[:70]!r} must be 1-64 letters, digits, _ or -, starting with a letter")
        if isinstance(value, str) and len(value) > MAX_META_VALUE_LENGTH:
            raise ValueError(f"value of {key} is longer than {MAX_META_VALUE_LENGTH} characters")
    return dict(meta)


class UserData(Params):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    user_email: EmailStr | None = None
    account_email: EmailStr | None = None
    user_password: StrictStr | None = Field(default=None, min_length=8, max_length=128, repr=False)
    display_name: StrictStr | None = Field(default=None, min_length=1, max_length=100)
    first_name: StrictStr | None = Field(default=None, max_length=100)
    last_name: StrictStr | None = Field(default=None, max_length=100)


class SetUserInfoParams(Params):
    meta: dict[str, MetaValue] | None = None
    data: UserData | None = None

    _meta = field_validator("meta")(lambda v: None if v is None else _check_meta(v))


class SetSubscriptionStatusParams(SubscriptionParams):
    new_status: Literal["active", "on-hold", "cancel"]
    reason: StrictStr | None = Field(
        default=None, max_length=500, validation_alias=AliasChoices("reason", "cancel_reason")
    )


class SetNextDeliveryDateParams(SubscriptionParams):
    new_date: date

    @field_validator("new_date", mode="before")
    @classmethod
    def _iso_day(cls, value: Any) -> Any:
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            raise ValueError("new_date must be a day as YYYY-MM-DD")
        return value


class SetNewIntervalParams(SubscriptionParams):
    new_interval: StrictStr

    @field_validator("new_interval")
    @classmethod
    def _interval(cls, value: str) -> str:
        if not INTERVAL_PATTERN.match(value):
            raise ValueError("new_interval must look like 4_week or 2_month")
        return value


class SetOrderInfoParams(OrderParams):
    info: dict[str, MetaValue] = Field(validation_alias=AliasChoices("info", "meta"))

    _info = field_validator("info")(_check_meta)


class SetSubscriptionInfoParams(SubscriptionParams):
    info: dict[str, MetaValue] = Field(validation_alias=AliasChoices("info", "meta"))

    _info = field_validator("info")(_check_meta)


class SetSubscriptionDeliveryParams(SubscriptionParams):
    method_id: StrictStr = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_:-]+$")


class SendMailParams(Params):
    sender: EmailStr = Field(validation_alias=AliasChoices("from", "sender"))
    topic: StrictStr = Field(min_length=1, max_length=200)
    content: StrictStr = Field(min_length=1, max_length=20_000)

    @field_validator("topic")
    @classmethod
    def _one_line(cls, value: str) -> str:
        # A subject is one header line: a line break would let a sender forge other headers.
        return " ".join(value.split())


class NoParams(Params):
    pass


# ------------------------------------------------------------------ ownership
def owned(obj: Mapping[str, Any], uid: int, kind: str) -> Mapping[str, Any]:
    """``obj`` when it belongs to customer ``uid``; 403 otherwise."""
    if int(obj.get("customer_id") or 0) != uid:
        raise NotYours(f"this {kind} belongs to another customer")
    return obj


# ------------------------------------------------------------------ dates
def timestamp(value: Any) -> int | None:
    """A WooCommerce GMT date (``2026-11-23T10:00:00`` or ``2026-11-23 10:00:00``) as a UNIX timestamp."""
    if not value or not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace(" ", "T").removesuffix("Z"))
    except ValueError:
        return None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


def with_timestamps(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Every date as a UNIX timestamp under its plain name (``date_created_gmt`` -> ``date_created``).

    The local-time copies WooCommerce sends next to the GMT ones are dropped: a timestamp has no zone.
    """
    shaped: dict[str, Any] = {}
    gmt_names = {key.removesuffix("_gmt") for key in obj if key.endswith("_gmt")}
    for key, value in obj.items():
        if key.endswith("_gmt"):
            shaped[key.removesuffix("_gmt")] = timestamp(value)
        elif key in gmt_names:
            continue
        elif key.startswith("date_") or key.endswith("_date"):
            shaped[key] = timestamp(value)
        else:
            shaped[key] = value
    return shaped


def woo_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(WOO_DATE)


# ------------------------------------------------------------------ shapes of the answers
def shape_meta(meta: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """WooCommerce's ``[{"id","key","value"}]`` as ``{key: value}``; protected ``_`` keys stay private."""
    return {m["key"]: m.get("value") for m in meta if not str(m.get("key", "")).startswith("_")}


def _shape_items(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{**item, "meta_data": shape_meta(item.get("meta_data", []))} for item in items]


def shape_subscription(subscription: Mapping[str, Any]) -> dict[str, Any]:
    shaped = with_timestamps(subscription)
    shaped["line_items"] = _shape_items(subscription.get("line_items", []))
    shaped["meta_data"] = shape_meta(subscription.get("meta_data", []))
    shaped["interval"] = f"{subscription.get('billing_interval')}_{subscription.get('billing_period')}"
    return shaped


def shape_order(order: Mapping[str, Any], subscriptions: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """An order with its items, order and item meta as maps, and the subscriptions it started, renewed,
    resubscribed or switched."""
    shaped = with_timestamps(order)
    shaped.pop("order_key", None)  # a bearer secret (the credits API takes it): the account app never needs it
    shaped["line_items"] = _shape_items(order.get("line_items", []))
    shaped["meta_data"] = shape_meta(order.get("meta_data", []))
    related = related_subscription_ids(order)
    shaped["subscriptions"] = [
        shape_subscription(s) for s in subscriptions if s.get("parent_id") == order.get("id") or s.get("id") in related
    ]
    return shaped


# WooCommerce Subscriptions marks a renewal, resubscribe or switch order with the subscription's id.
RELATED_SUBSCRIPTION_META = ("_subscription_renewal", "_subscription_resubscribe", "_subscription_switch")


def related_subscription_ids(order: Mapping[str, Any]) -> set[int]:
    ids: set[int] = set()
    for entry in order.get("meta_data", []):
        if entry.get("key") in RELATED_SUBSCRIPTION_META:
            values = entry.get("value")
            for value in values if isinstance(values, list) else [values]:
                if str(value).strip().isdigit():
                    ids.add(int(str(value).strip()))
    return ids


def shape_customer(customer: Mapping[str, Any]) -> dict[str, Any]:
    shaped = with_timestamps(customer)
    shaped["meta_data"] = shape_meta(customer.get("meta_data", []))
    return shaped


# ------------------------------------------------------------------ user info
def customer_changes(params: SetUserInfoParams) -> dict[str, Any]:
    """The WooCommerce customer update for ``set_user_info`` (``wc/v3/customers`` field names)."""
    if params.meta is None and params.data is None:
        raise InvalidRequest("give meta, data or both", code="validation_error")
    changes: dict[str, Any] = {}
    meta = dict(params.meta or {})
    data = params.data
    if data is not None:
        if data.user_email and data.account_email and data.user_email != data.account_email:
            raise InvalidRequest("user_email and account_email differ", code="validation_error")
        email = data.user_email or data.account_email
        if email:
            changes["email"] = str(email)
        if data.user_password:
            changes["password"] = data.user_password
        for name in ("first_name", "last_name"):
            if getattr(data, name) is not None:
                changes[name] = getattr(data, name)
        if data.display_name is not None:
            # WooCommerce's customer resource has no display name: it is kept as customer meta.
            meta["display_name"] = data.display_name
        if not changes and not meta:
            raise InvalidRequest("data has nothing to change", code="validation_error")
    if meta:
        changes["meta_data"] = meta_entries(meta)
    return changes


def meta_entries(meta: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"key": key, "value": value} for key, value in meta.items()]


# ------------------------------------------------------------------ subscriptions: status
# WooCommerce Subscriptions, includes/core/wcs-functions.php: wcs_get_subscription_ended_statuses().
ENDED_STATUSES = frozenset({"cancelled", "trash", "expired", "switched", "pending-cancel"})
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


class ChangeNotApplied(DomainError):
    """WooCommerce answered a write but its state does not show the change."""

    kind = ErrorKind.BAD_GATEWAY
    code = "change_not_applied"


def moment_of(value: Any) -> datetime | None:
    """A WooCommerce GMT date (``T`` or space separated) as an aware datetime; empty -> None."""
    stamp = timestamp(value)
    return datetime.fromtimestamp(stamp, UTC) if stamp is not None else None


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


# ------------------------------------------------------------------ subscriptions: dates
def mysql_date(moment: datetime) -> str:
    """The format ``WC_Subscription::update_dates()`` accepts (``wcs_is_datetime_mysql_format()``), in GMT."""
    return moment.astimezone(UTC).strftime(MYSQL_DATE)


def next_delivery(subscription: Mapping[str, Any], new_day: date, now: datetime) -> datetime:
    """The new next payment moment: ``new_day`` at the current one's time of day, never in the past, and in the
    order ``prepare_dates_for_update()`` demands (after the start and the trial end, before the end)."""
    require_changeable(subscription)
    if new_day < now.date():
        raise InvalidRequest("new_date must be today or later", code="validation_error")
    current = timestamp(subscription.get("next_payment_date_gmt"))
    at = datetime.fromtimestamp(current, UTC).time() if current else time(9, 0)
    moment = datetime.combine(new_day, at, tzinfo=UTC)
    # Today at a time already gone: the store needs a future moment, so the next hour.
    if moment <= now:
        moment = (now + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    end = moment_of(subscription.get("end_date_gmt"))
    if end is not None and moment >= end:
        raise InvalidRequest(
            f"new_date must be before the subscription ends ({end.date().isoformat()})", code="bad_date"
        )
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
            raise InvalidRequest(f"new_date must be after {earlier.date().isoformat()} ({name})", code="bad_date")
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


def current_interval(subscription: Mapping[str, Any]) -> str:
    return f"{subscription.get('billing_interval')}_{subscription.get('billing_period')}"


def exchange_intervals(subscription: Mapping[str, Any], products: Sequence[Mapping[str, Any]]) -> list[str]:
    """Intervals the subscription can switch to, the current one excluded.

    Each product in the subscription may narrow the choice with its ``_exchange_intervals`` meta; the
    answer is what every one of them allows, in the default order.
    """
    allowed = list(DEFAULT_EXCHANGE_INTERVALS)
    item_ids = {int(i["product_id"]) for i in subscription.get("line_items", [])}
    for product in products:
        if int(product["id"]) not in item_ids:
            continue
        raw = next(
            (m.get("value") for m in product.get("meta_data", []) if m.get("key") == EXCHANGE_INTERVALS_META), ""
        )
        if raw:
            narrower = {part.strip() for part in str(raw).split(",") if INTERVAL_PATTERN.match(part.strip())}
            allowed = [i for i in allowed if i in narrower] + sorted(narrower - set(DEFAULT_EXCHANGE_INTERVALS))
    current = current_interval(subscription)
    return [i for i in dict.fromkeys(allowed) if i != current]


def interval_change(
    subscription: Mapping[str, Any], products: Sequence[Mapping[str, Any]], new_interval: str
) -> dict[str, Any]:
    require_changeable(subscription)
    if new_interval == current_interval(subscription):
        return {}
    if new_interval not in exchange_intervals(subscription, products):
        raise InvalidRequest(f"{new_interval} is not an interval this subscription can switch to", code="bad_interval")
    count, period = new_interval.split("_")
    return {"billing_interval": count, "billing_period": period}


def exchange_products(subscription: Mapping[str, Any], products: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Subscription products on sale that the subscription does not hold yet."""
    held = {int(i["product_id"]) for i in subscription.get("line_items", [])}
    return [
        {
            "id": p["id"],
            "name": p.get("name", ""),
            "price": p.get("price", ""),
            "type": p.get("type", ""),
            "meta_data": shape_meta(p.get("meta_data", [])),
        }
        for p in products
        if int(p["id"]) not in held
        and p.get("status", "publish") == "publish"
        and p.get("type") in ("subscription", "variable-subscription")
    ]


def price_html(price: Decimal, currency: str) -> str:
    """The price as WooCommerce's ``wc_price`` renders it (symbol after the amount for EUR)."""
    symbols = {"EUR": ("", "&euro;"), "USD": ("&#36;", ""), "GBP": ("&pound;", "")}
    before, after = symbols.get(currency, ("", escape(currency)))
    amount = f"{before}{price:.2f}" + (f"&nbsp;{after}" if after else "")
    return f'<span class="woocommerce-Price-amount amount"><bdi>{amount}</bdi></span>'


# ------------------------------------------------------------------ delivery: shipping zones
# WooCommerce: i18n/continents.php (the continent codes a zone location of type "continent" holds).
CONTINENTS: dict[str, str] = {
    country: continent
    for continent, countries in {
        "AF": "AO BF BI BJ BW CD CF CG CI CM CV DJ DZ EG EH ER ET GA GH GM GN GQ GW KE KM LR LS LY MA MG ML MR MU MW "
        "MZ NA NE NG RE RW SC SD SH SL SN SO SS ST SZ TD TG TN TZ UG YT ZA ZM ZW",
        "AN": "AQ BV GS HM TF",
        "AS": "AE AF AM AZ BD BH BN BT CC CN CX CY GE HK ID IL IN IO IQ IR JO JP KG KH KP KR KW KZ LA LB LK MM MN MO "
        "MV MY NP OM PH PK PS QA SA SG SY TH TJ TL TM TW UZ VN YE",
        "EU": "AD AL AT AX BA BE BG BY CH CZ DE DK EE ES FI FO FR GB GG GI GR HR HU IE IM IS IT JE LI LT LU LV MC MD "
        "ME MK MT NL NO PL PT RO RS RU SE SI SJ SK SM XK TR UA VA",
        "NA": "AG AI AW BB BL BM BQ BS BZ CA CR CU CW DM DO GD GL GP GT HN HT JM KN KY LC MF MQ MS MX NI PA PM PR SV "
        "SX TC TT US VC VG VI",
        "OC": "AS AU CK FJ FM GU KI MH MP NC NF NR NU NZ PF PG PN PW SB TK TO TV UM VU WF WS",
        "SA": "AR BO BR CL CO EC FK GF GY PE PY SR UY VE",
    }.items()
    for country in countries.split()
}
PLAIN_COST = re.compile(r"^\d+(\.\d+)?$")


class ShippingZone(BaseModel):
    """One zone as ``GET /shipping/zones``, ``.../{id}/locations`` and ``.../{id}/methods`` give it."""

    model_config = ConfigDict(frozen=True)

    id: int
    order: int = 0
    locations: tuple[dict[str, Any], ...] = ()
    methods: tuple[dict[str, Any], ...] = ()


class DeliveryOption(BaseModel):
    """A priced method instance of a zone: ``rate_id`` is WooCommerce's own rate id, ``<method_id>:<instance_id>``."""

    model_config = ConfigDict(frozen=True)

    rate_id: str
    method_id: str
    instance_id: int
    title: str
    price: Decimal


def shipping_destination(subscription: Mapping[str, Any]) -> tuple[str, str, str]:
    """Country, state and postcode the subscription ships to (its shipping address; the billing one when the
    shipping address has no country, as the shop's checkout does when shipping to the billing address)."""
    address = subscription.get("shipping") or {}
    if not str(address.get("country") or "").strip():
        address = subscription.get("billing") or {}
    return (
        str(address.get("country") or "").strip().upper(),
        str(address.get("state") or "").strip().upper(),
        str(address.get("postcode") or ""),
    )


def normalize_postcode(postcode: str) -> str:
    """WooCommerce: includes/wc-formatting-functions.php, wc_normalize_postcode(): no spaces or dashes, upper case."""
    return re.sub(r"[\s\-]", "", postcode.strip().upper())


def postcode_matches(postcode: str, rule: str) -> bool:
    """WooCommerce: includes/wc-core-functions.php, wc_postcode_location_matcher() / wc_get_wildcard_postcodes():
    an exact code, a ``prefix*`` wildcard, or a numeric ``min...max`` range. (Country-specific formatting of
    wc_format_postcode() and ranges of letters are not modelled: the codes compare normalized.)"""
    code = normalize_postcode(postcode)
    if "..." in rule:
        low, _, high = (part.strip() for part in rule.partition("..."))
        if code.isdigit() and low.isdigit() and high.isdigit():
            return int(low) <= int(code) <= int(high)
        return False
    wanted = re.sub(r"\s", "", rule.strip().upper())
    candidates = {code, f"{code}*"} | {f"{code[:i]}*" for i in range(len(code))}
    return wanted in candidates


def matching_zone(zones: Sequence[ShippingZone], country: str, state: str, postcode: str) -> ShippingZone | None:
    """WooCommerce: includes/data-stores/class-wc-shipping-zone-data-store.php, get_zone_id_from_package() (what
    WC_Shipping_Zones::get_zone_matching_package() runs): a zone matches when one of its region locations
    (country, ``COUNTRY:STATE``, continent) does, or it has none; a zone with postcode rules must also match one.
    The lowest ``order`` wins, then the lowest id; nothing matched: zone 0, "the rest of the world"."""
    continent = CONTINENTS.get(country, "")
    candidates = []
    for zone in zones:
        if zone.id == 0:
            continue
        regions = [loc for loc in zone.locations if loc.get("type") != "postcode"]
        postcodes = [loc for loc in zone.locations if loc.get("type") == "postcode"]
        region_ok = not regions or any(
            (loc.get("type") == "country" and loc.get("code") == country)
            or (loc.get("type") == "state" and loc.get("code") == f"{country}:{state}")
            or (loc.get("type") == "continent" and loc.get("code") == continent)
            for loc in regions
        )
        postcode_ok = not postcodes or any(postcode_matches(postcode, str(loc.get("code", ""))) for loc in postcodes)
        if region_ok and postcode_ok:
            candidates.append(zone)
    if candidates:
        return min(candidates, key=lambda z: (z.order, z.id))
    return next((z for z in zones if z.id == 0), None)


def _setting(method: Mapping[str, Any], key: str) -> str:
    value = (method.get("settings") or {}).get(key) or {}
    return str(value.get("value") if isinstance(value, Mapping) else value or "").strip()


def items_amount(subscription: Mapping[str, Any], *, before_discounts: bool) -> Decimal:
    key = "subtotal" if before_discounts else "total"
    amount = Decimal("0")
    for item in subscription.get("line_items", []):
        try:
            amount += Decimal(str(item.get(key) if item.get(key) not in (None, "") else item.get("total") or "0"))
        except ArithmeticError:
            continue
    return amount.quantize(Decimal("0.01"))


def delivery_options(zone: ShippingZone, subscription: Mapping[str, Any]) -> list[DeliveryOption]:
    """The zone's enabled method instances with the price this subscription would pay, in the zone's order.

    - ``flat_rate`` / ``local_pickup``: ``settings.cost`` when it is a plain amount (empty: free). A cost formula
      (``[qty]``, ``[fee]``...) is left out: it depends on a cart this service does not rebuild.
    - ``free_shipping`` (``WC_Shipping_Free_Shipping::is_available()``): no requirement, or ``min_amount`` /
      ``either`` met by the subscription's items (after discounts, before them when ``ignore_discounts`` is
      ``yes``; excluding tax); ``coupon`` / ``both`` need a coupon a renewal cannot carry: left out.
    - Other method types (plugins) price themselves at checkout only: left out.
    """
    options = []
    ordered = sorted(zone.methods, key=lambda m: (int(m.get("order") or 0), int(m.get("instance_id") or 0)))
    for method in ordered:
        if method.get("enabled") is not True:
            continue
        kind, instance = str(method.get("method_id", "")), int(method.get("instance_id") or 0)
        title = str(method.get("title") or _setting(method, "title") or method.get("method_title") or kind)
        if kind in ("flat_rate", "local_pickup"):
            cost = _setting(method, "cost") or "0"
            if not PLAIN_COST.match(cost):
                continue
            price = Decimal(cost)
        elif kind == "free_shipping":
            requires = _setting(method, "requires")
            if requires in ("min_amount", "either"):
                minimum = _setting(method, "min_amount") or "0"
                if not PLAIN_COST.match(minimum):
                    continue
                before = _setting(method, "ignore_discounts") == "yes"
                if items_amount(subscription, before_discounts=before) < Decimal(minimum):
                    continue
            elif requires:
                continue
            price = Decimal("0")
        else:
            continue
        options.append(
            DeliveryOption(rate_id=f"{kind}:{instance}", method_id=kind, instance_id=instance, title=title, price=price)
        )
    return options


def delivery_methods(options: Iterable[DeliveryOption], currency: str) -> list[dict[str, Any]]:
    return [
        {
            "method_id": option.rate_id,
            "title": option.title,
            "price": f"{option.price:.2f}",
            "price_html": price_html(option.price, currency),
        }
        for option in options
    ]


def choose_option(options: Sequence[DeliveryOption], method_id: str) -> DeliveryOption:
    """``method_id`` is a rate id (``flat_rate:3``); a bare type (``flat_rate``) is accepted when the zone offers
    exactly one instance of it."""
    found = [o for o in options if o.rate_id == method_id]
    if not found and ":" not in method_id:
        found = [o for o in options if o.method_id == method_id]
        if len(found) > 1:
            raise InvalidRequest(
                f"{method_id} has several rates here; give one of {', '.join(o.rate_id for o in found)}",
                code="bad_method",
            )
    if not found:
        raise InvalidRequest(f"no delivery method {method_id} for this address", code="bad_method")
    return found[0]


def delivery_change(subscription: Mapping[str, Any], option: DeliveryOption) -> dict[str, Any]:
    """The ``shipping_lines`` update that puts the subscription on ``option`` at its price.

    WooCommerce's REST controller (``set_item()`` / ``prepare_shipping_lines()``) sets a line's ``method_id``,
    ``instance_id``, ``method_title`` and ``total`` as given, on the line whose ``id`` is sent (a line without
    ``id`` is added, not swapped), and removes a line sent with a null ``method_id``; ``save_object()`` then
    recalculates the totals. Renewals copy these lines, so this price is what each delivery costs.
    """
    require_changeable(subscription)
    line: dict[str, Any] = {
        "method_id": option.method_id,
        "instance_id": str(option.instance_id),
        "method_title": option.title,
        "total": f"{option.price:.2f}",
    }
    current = [sl for sl in subscription.get("shipping_lines") or [] if sl.get("id")]
    if current:
        line["id"] = current[0]["id"]
    return {"shipping_lines": [line, *({"id": extra["id"], "method_id": None} for extra in current[1:])]}


def confirm_delivery(answer: Mapping[str, Any], option: DeliveryOption) -> None:
    lines = list(answer.get("shipping_lines") or [])
    ok = (
        len(lines) == 1
        and lines[0].get("method_id") == option.method_id
        and str(lines[0].get("instance_id")) == str(option.instance_id)
        and _same_amount(lines[0].get("total"), option.price)
    )
    if not ok:
        raise ChangeNotApplied("WooCommerce did not set the subscription's shipping line to the chosen method")


def _same_amount(value: Any, amount: Decimal) -> bool:
    try:
        return Decimal(str(value)) == amount
    except ArithmeticError:
        return False


# ------------------------------------------------------------------ confirming writes from WooCommerce's answer
def confirm_status(answer: Mapping[str, Any], status: str) -> None:
    if answer.get("status") != status:
        raise ChangeNotApplied(f"WooCommerce kept the subscription {answer.get('status')} instead of {status}")


def same_meta_value(stored: Any, sent: Any) -> bool:
    """WordPress keeps meta as text: ``true`` reads back ``"1"``, ``false`` and ``null`` ``""``, ``3`` ``"3"``."""
    if isinstance(sent, bool):
        return stored in (sent, int(sent), "1" if sent else "", "true" if sent else "false", "0" if not sent else "1")
    if sent is None:
        return stored in (None, "")
    return str(stored) == str(sent)


def confirm_meta(answer: Mapping[str, Any], entries: Iterable[Mapping[str, Any]]) -> None:
    stored = {m.get("key"): m.get("value") for m in answer.get("meta_data", [])}
    missing = [e["key"] for e in entries if e["key"] not in stored or not same_meta_value(stored[e["key"]], e["value"])]
    if missing:
        raise ChangeNotApplied(f"WooCommerce did not store {', '.join(sorted(missing))}")


def confirm_fields(answer: Mapping[str, Any], change: Mapping[str, Any], fields: Iterable[str]) -> None:
    differ = [f for f in fields if f in change and str(answer.get(f, "")).lower() != str(change[f]).lower()]
    if differ:
        raise ChangeNotApplied(f"WooCommerce did not change {', '.join(differ)}")


# ------------------------------------------------------------------ mail to the merchant
class MerchantMail(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject: str
    text: str
    reply_to: str


def merchant_mail(params: SendMailParams, uid: int, customer_email: str | None) -> MerchantMail:
    """The customer's message as the merchant receives it: who wrote, and their words as plain text
    (HTML from a customer is not rendered in the merchant's mail client)."""
    who = f"Customer #{uid}" + (f" <{customer_email}>" if customer_email else "")
    text = f"{who} wrote from the account page (reply goes to {params.sender}):\n\n{params.content}\n"
    return MerchantMail(subject=f"[Account] {params.topic}", text=text, reply_to=str(params.sender))


def mail_window(now: datetime) -> tuple[str, int]:
    """The hour a mail counts against (``2026112310``) and when its counter may be forgotten."""
    start = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return start.strftime("%Y%m%d%H"), int((start + timedelta(hours=2)).timestamp())
