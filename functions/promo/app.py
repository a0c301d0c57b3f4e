"""Promo function: price intervals, automatic codes by cart total, and the admin's codes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, ConfigDict, EmailStr, Field, StrictBool, StrictInt, StrictStr

from woo_backend.api import create_resolver, http_entrypoint, json_response
from woo_backend.auth import require_bearer
from woo_backend.domain.promo import (
    PromoCode,
    PromoType,
    check_expiry,
    check_percentage,
    normalize_code,
    parse_total,
)
from woo_backend.services.promo import PromoService
from woo_backend.settings import AdminSettings

service = PromoService.from_env()
admin = AdminSettings.from_env()
app = create_resolver(guards=[("/promo/v1/codes", lambda headers: require_bearer(headers, admin.api_key))])

CodePath = Annotated[str, Path(min_length=1, max_length=64)]


class AutoQuoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cart_id: StrictStr = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
    cart_total: StrictStr | StrictInt
    currency: StrictStr = Field(pattern=r"^[A-Z]{3}$")
    email: EmailStr | None = None


class CodeCreateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: StrictStr = Field(max_length=64)
    percentage: StrictStr | StrictInt
    type: Literal["manual", "auto"] = "manual"
    active: StrictBool = True
    expires_at: datetime | None = None
    usage_limit: StrictInt | None = Field(default=None, ge=1)


class CodePatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    percentage: StrictStr | StrictInt | None = None
    active: StrictBool | None = None
    expires_at: datetime | None = None
    usage_limit: StrictInt | None = Field(default=None, ge=1)


def _now() -> datetime:
    return service.clock()


# ------------------------------------------------------------------ intervals and automatic codes
@app.get("/promo/v1/intervals")
def intervals() -> Response[str]:
    found, stale = service.intervals()
    return json_response(200, {"intervals": [i.public() for i in found], "stale": stale})


@app.post("/promo/v1/auto")
def auto_quote(request: AutoQuoteRequest) -> Response[str]:
    total = parse_total(request.cart_total)
    answer, created = service.quote(request.cart_id, total, str(request.email) if request.email else None)
    return json_response(201 if created else 200, answer)


# ------------------------------------------------------------------ admin codes
@app.post("/promo/v1/codes")
def create_code(request: CodeCreateRequest) -> Response[str]:
    now = _now()
    stamp = now.isoformat(timespec="seconds")
    code = PromoCode(
        code=normalize_code(request.code),
        type=PromoType(request.type),
        percentage=check_percentage(request.percentage),
        active=request.active,
        expires_at=check_expiry(request.expires_at, now).isoformat(timespec="seconds") if request.expires_at else None,
        usage_limit=request.usage_limit,
        created_at=stamp,
        updated_at=stamp,
    )
    return json_response(201, service.create(code).public())


@app.get("/promo/v1/codes")
def list_codes(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    promo_type: Annotated[Literal["manual", "auto"] | None, Query(alias="type")] = None,
    active: Annotated[bool | None, Query()] = None,
) -> Response[str]:
    codes, next_cursor = service.list(limit, cursor, promo_type, active)
    return json_response(200, {"items": [c.public() for c in codes], "next_cursor": next_cursor})


@app.get("/promo/v1/codes/<code>")
def get_code(code: CodePath) -> Response[str]:
    return json_response(200, service.get(normalize_code(code)).public())


@app.patch("/promo/v1/codes/<code>")
def patch_code(code: CodePath, request: CodePatchRequest) -> Response[str]:
    fields: dict[str, Any] = {}
    if request.percentage is not None:
        fields["percentage"] = check_percentage(request.percentage)
    if request.active is not None:
        fields["active"] = request.active
    if request.expires_at is not None:
        fields["expires_at"] = check_expiry(request.expires_at, _now()).isoformat(timespec="seconds")
    if request.usage_limit is not None:
        fields["usage_limit"] = request.usage_limit
    return json_response(200, service.update(normalize_code(code), fields).public())


@app.delete("/promo/v1/codes/<code>")
def delete_code(code: CodePath) -> Response[str]:
    """Deactivates: the record stays (and the coupon is drafted and expired in WooCommerce)."""
    return json_response(200, service.update(normalize_code(code), {"active": False}).public())


lambda_handler = http_entrypoint(app)
