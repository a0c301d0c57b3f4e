"""Every action's parameters as pydantic models: strict about what they are, silent about the auth fields
around them. Form bodies carry numbers as text, so whole numbers are read from text too."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
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

INTERVAL_PATTERN = re.compile(r"^([1-9][0-9]?)_(day|week|month|year)$")
META_KEY_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
MAX_META_ENTRIES = 50
MAX_META_VALUE_LENGTH = 2000


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


# The models with an email field are built at their first use (defer_build): building one imports pydantic's
# email validator (email-validator, with dnspython and idna), which only set_user_info and send_mail need.
class UserData(Params):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True, defer_build=True)

    user_email: EmailStr | None = None
    account_email: EmailStr | None = None
    user_password: StrictStr | None = Field(default=None, min_length=8, max_length=128, repr=False)
    display_name: StrictStr | None = Field(default=None, min_length=1, max_length=100)
    first_name: StrictStr | None = Field(default=None, max_length=100)
    last_name: StrictStr | None = Field(default=None, max_length=100)


class SetUserInfoParams(Params):
    model_config = ConfigDict(defer_build=True)

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
    model_config = ConfigDict(defer_build=True)

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
