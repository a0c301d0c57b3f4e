"""Time as this service writes it: one clock, one ISO format per purpose, WooCommerce's date format.

No AWS, no HTTP: the domain may import it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

# WooCommerce's REST dates (``date_modified_gmt``, ``modified_after``, ``*_date_gmt``): ``Y-m-d\TH:i:s``,
# without a zone. Sent in UTC, so a shop in any time zone reads the same instant.
WOO_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"

# What services take to tell the time (``utcnow`` in production; tests drive their own).
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """A stored instant: microseconds, so records written in one second still sort in write order."""
    return moment.isoformat(timespec="microseconds")


def iso_seconds(moment: datetime) -> str:
    """An instant shown to people and clients (``created_at``, ``expires_at``): whole seconds."""
    return moment.isoformat(timespec="seconds")


def woo_date(moment: datetime) -> str:
    """``moment`` as WooCommerce's GMT date string; a naive moment is taken as UTC."""
    utc = moment.astimezone(UTC) if moment.tzinfo is not None else moment
    return utc.strftime(WOO_DATE_FORMAT)
