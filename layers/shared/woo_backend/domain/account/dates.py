"""Reading WooCommerce's GMT dates (as UNIX timestamps or moments), and the format date writes send.

Answers show dates as timestamps at the edge (``woo_backend.api.account_shape``); WooCommerce's REST date
format is ``woo_backend.clock.woo_date``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

MYSQL_DATE = "%Y-%m-%d %H:%M:%S"


def timestamp(value: Any) -> int | None:
    """A WooCommerce GMT date (``2026-11-23T10:00:00`` or ``2026-11-23 10:00:00``) as a UNIX timestamp."""
    if not value or not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace(" ", "T").removesuffix("Z"))
    except ValueError:
        return None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


def moment_of(value: Any) -> datetime | None:
    """A WooCommerce GMT date (``T`` or space separated) as an aware datetime; empty -> None."""
    stamp = timestamp(value)
    return datetime.fromtimestamp(stamp, UTC) if stamp is not None else None


def mysql_date(moment: datetime) -> str:
    """The format ``WC_Subscription::update_dates()`` accepts (``wcs_is_datetime_mysql_format()``), in GMT."""
    return moment.astimezone(UTC).strftime(MYSQL_DATE)
