"""The promo API's request and response models (``functions/promo/app.py``).

Responses show money and percentages as exact decimal strings ("12.00", "12.5") and instants as ISO 8601
strings, as they are recorded; each model's fields are in the order the answers have always had.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel, ConfigDict, EmailStr, Field, StrictBool, StrictInt, StrictStr

from woo_backend.api.amounts import DecimalString, WholePercentage, WholeTotal
from woo_backend.domain.promo import Interval, PromoCode, Quote, Side

PERCENTAGE = 'in (0, 100]: a decimal string with at most two decimals ("12.5") or a whole JSON number'


# ------------------------------------------------------------------ requests
# A code in a path: what ``domain.promo.normalize_code`` takes (letters, digits and "-"; it upper-cases them).
CodePath = Annotated[str, Path(pattern=r"^[A-Za-z0-9-]{1,64}$")]


class AutoQuoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cart_id: StrictStr = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
    cart_total: DecimalString | WholeTotal = Field(
        description='a decimal string of ASCII digits with at most two decimals ("150.00") or a whole JSON number'
    )
    currency: StrictStr = Field(pattern=r"^[A-Z]{3}$")
    email: EmailStr | None = None


class CodeCreateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: StrictStr = Field(max_length=64)
    percentage: DecimalString | WholePercentage = Field(description=PERCENTAGE)
    type: Literal["manual", "auto"] = "manual"
    active: StrictBool = True
    expires_at: datetime | None = None
    usage_limit: StrictInt | None = Field(default=None, ge=1)


class CodePatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    percentage: DecimalString | WholePercentage | None = Field(default=None, description=PERCENTAGE)
    active: StrictBool | None = None
    expires_at: datetime | None = None
    usage_limit: StrictInt | None = Field(default=None, ge=1)


# ------------------------------------------------------------------ intervals and quotes
class IntervalView(BaseModel):
    min: str = Field(description="Lower bound of the cart total, inclusive", examples=["100.00"])
    max: str | None = Field(description="Upper bound, exclusive; null: no upper bound", examples=["250.00"])
    percentage: str = Field(examples=["10"])

    @classmethod
    def of(cls, interval: Interval) -> IntervalView:
        high = interval.max
        return cls(
            min=str(interval.min), max=str(high) if high is not None else None, percentage=str(interval.percentage)
        )


class IntervalsAnswer(BaseModel):
    intervals: list[IntervalView]
    stale: bool = Field(description="Topomer is unreachable: the last good copy")

    @classmethod
    def of(cls, intervals: list[Interval], stale: bool) -> IntervalsAnswer:
        return cls(intervals=[IntervalView.of(i) for i in intervals], stale=stale)


class EligibleQuote(BaseModel):
    eligible: Literal[True]
    code: str
    percentage: str
    discount: str = Field(description="The discount on the quoted total, to the cent")
    minimum_amount: str = Field(description="The interval's lower bound: the coupon's minimum spend")
    expires_at: str | None
    stale: bool


class IneligibleQuote(BaseModel):
    """No interval holds the total (a code the cart held is retired)."""

    eligible: Literal[False]
    stale: bool


QuoteAnswer = EligibleQuote | IneligibleQuote


def quote_answer(quote: Quote) -> QuoteAnswer:
    code = quote.code
    if code is None:
        return IneligibleQuote(eligible=False, stale=quote.stale)
    return EligibleQuote(
        eligible=True,
        code=code.code,
        percentage=str(code.percentage),
        discount=str(quote.discount),
        minimum_amount=str(code.minimum_amount),
        expires_at=code.expires_at,
        stale=quote.stale,
    )


# ------------------------------------------------------------------ codes
class SideView(BaseModel):
    status: Literal["synced", "pending"]
    id: str | None = Field(description="The WooCommerce coupon id / Topomer promo id, once created")
    attempts: int
    last_error: str | None
    synced_at: str | None


class SyncView(BaseModel):
    woocommerce: SideView
    topomer: SideView


class CodeView(BaseModel):
    code: str
    type: Literal["manual", "auto"]
    percentage: str
    active: bool
    expires_at: str | None
    usage_limit: int | None
    minimum_amount: str | None
    created_at: str
    updated_at: str
    version: int
    sync: SyncView

    @classmethod
    def of(cls, code: PromoCode) -> CodeView:
        def side(which: Side) -> SideView:
            state = code.side(which)
            return SideView(
                status="synced" if state.synced_version >= code.version else "pending",
                id=state.remote_id,
                attempts=state.attempts,
                last_error=state.last_error,
                synced_at=state.synced_at,
            )

        return cls(
            code=code.code,
            type=code.type.value,
            percentage=str(code.percentage),
            active=code.active,
            expires_at=code.expires_at,
            usage_limit=code.usage_limit,
            minimum_amount=str(code.minimum_amount) if code.minimum_amount is not None else None,
            created_at=code.created_at,
            updated_at=code.updated_at,
            version=code.version,
            sync=SyncView(woocommerce=side(Side.WOOCOMMERCE), topomer=side(Side.TOPOMER)),
        )


class CodeList(BaseModel):
    items: list[CodeView]
    next_cursor: str | None = Field(description="Pass as ``cursor`` for the next page; null: the last page")

    @classmethod
    def of(cls, codes: list[PromoCode], next_cursor: str | None) -> CodeList:
        return cls(items=[CodeView.of(c) for c in codes], next_cursor=next_cursor)
