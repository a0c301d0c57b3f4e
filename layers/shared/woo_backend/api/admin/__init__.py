"""The admin API (``/admin/v1/``) and console (``/admin/``): one Powertools ``Router`` per area, included by
``functions/admin/app.py``; what every area shares is here (who is acting, list answers, page parameters)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel, Field

from woo_backend.errors import ValidationFailed

ADMIN_USER_HEADER = "X-Admin-User"
DEFAULT_ADMIN_USER = "admin"
_PRINTABLE = re.compile(r"^[\x20-\x7e]{1,80}$")

Limit = Annotated[int, Query(ge=1, le=100, description="page size")]
Cursor = Annotated[str | None, Query(max_length=512, description="next_cursor of the previous page")]


def new_router() -> APIGatewayHttpRouter:
    """An area's router (``current_event`` typed as the HTTP API's event)."""
    return APIGatewayHttpRouter()  # type: ignore[no-untyped-call]  # Powertools' __init__ is not annotated


class Page[T](BaseModel):
    """One page of a list, newest first; ``next_cursor`` is null on the last page."""

    items: list[T]
    next_cursor: str | None = Field(default=None, description="pass as cursor for the next page")


def admin_user(headers: Mapping[str, str]) -> str:
    """Who is acting, from ``X-Admin-User`` (free text, recorded in the audit trail; 1-80 printable ASCII)."""
    value = next((v for k, v in headers.items() if k.lower() == ADMIN_USER_HEADER.lower()), None)
    if value is None or value.strip() == "":
        return DEFAULT_ADMIN_USER
    if not _PRINTABLE.fullmatch(value.strip()):
        raise ValidationFailed(f"{ADMIN_USER_HEADER}: 1 to 80 printable ASCII characters")
    return value.strip()
