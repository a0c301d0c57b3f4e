"""WooCommerce's dates: GMT strings in, UNIX timestamps out (answers), and the formats writes send."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

WOO_DATE = "%Y-%m-%dT%H:%M:%S"
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


def moment_of(value: Any) -> datetime | None:
    """A WooCommerce GMT date (``T`` or space separated) as an aware datetime; empty -> None."""
    stamp = timestamp(value)
    return datetime.fromtimestamp(stamp, UTC) if stamp is not None else None


def mysql_date(moment: datetime) -> str:
    """The format ``WC_Subscription::update_dates()`` accepts (``wcs_is_datetime_mysql_format()``), in GMT."""
    return moment.astimezone(UTC).strftime(MYSQL_DATE)
