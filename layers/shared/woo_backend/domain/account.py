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


# ------------------------------------------------------------------ subscriptions
SUBSCRIPTION_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    # requested -> (statuses it may come from, the WooCommerce status sent as ``transition_status``)
    "active": (frozenset({"on-hold", "pending-cancel"}), "active"),
    "on-hold": (frozenset({"active"}), "on-hold"),
    "cancel": (frozenset({"active", "on-hold"}), "cancelled"),
}
ALREADY = {"active": {"active"}, "on-hold": {"on-hold"}, "cancel": {"pending-cancel", "cancelled"}}
CHANGEABLE = frozenset({"active", "on-hold"})


def status_change(subscription: Mapping[str, Any], params: SetSubscriptionStatusParams) -> dict[str, Any] | None:
    """The WooCommerce update for a status request; None when the subscription is already there.

    A customer cancel goes through ``transition_status`` so the store applies its own rule (an active
    subscription becomes ``pending-cancel`` until the paid period ends).
    """
    current = str(subscription.get("status"))
    if current in ALREADY[params.new_status]:
        return None
    allowed, woo_status = SUBSCRIPTION_TRANSITIONS[params.new_status]
    if current not in allowed:
        raise InvalidTransition(f"a subscription that is {current} cannot be set to {params.new_status}")
    change: dict[str, Any] = {"transition_status": woo_status}
    if params.reason:
        key = "cancel_reason" if params.new_status == "cancel" else "status_reason"
        change["meta_data"] = [{"key": key, "value": params.reason}]
    return change


def require_changeable(subscription: Mapping[str, Any]) -> None:
    if subscription.get("status") not in CHANGEABLE:
        raise InvalidTransition(f"a subscription that is {subscription.get('status')} cannot be changed")


def next_delivery(subscription: Mapping[str, Any], new_day: date, now: datetime) -> datetime:
    """The new next payment moment: ``new_day`` at the current one's time of day, never in the past."""
    require_changeable(subscription)
    if new_day < now.date():
        raise InvalidRequest("new_date must be today or later", code="validation_error")
    current = timestamp(subscription.get("next_payment_date_gmt"))
    at = datetime.fromtimestamp(current, UTC).time() if current else time(9, 0)
    moment = datetime.combine(new_day, at, tzinfo=UTC)
    # Today at a time already gone: the store needs a future moment, so the next hour.
    return moment if moment > now else (now + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)


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


def delivery_methods(methods: Iterable[Mapping[str, Any]], currency: str) -> list[dict[str, Any]]:
    shaped = []
    for method in methods:
        price = Decimal(str(method.get("cost") or "0"))
        shaped.append(
            {
                "method_id": method["id"],
                "title": method.get("title", ""),
                "price": f"{price:.2f}",
                "price_html": price_html(price, currency),
            }
        )
    return shaped


def delivery_change(
    subscription: Mapping[str, Any], methods: Sequence[Mapping[str, Any]], method_id: str
) -> dict[str, Any]:
    """The ``shipping_lines`` update that moves the subscription to ``method_id`` (the store recomputes totals)."""
    require_changeable(subscription)
    method = next((m for m in methods if m["id"] == method_id), None)
    if method is None:
        raise InvalidRequest(f"no delivery method {method_id}", code="bad_method")
    line: dict[str, Any] = {
        "method_id": method["id"],
        "method_title": method.get("title", ""),
        "total": method.get("cost") or "0.00",
    }
    current = list(subscription.get("shipping_lines") or [])
    if current and current[0].get("id"):
        line["id"] = current[0]["id"]
    return {"shipping_lines": [line]}


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
