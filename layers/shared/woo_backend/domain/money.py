"""Money and counts as clients send them: the one parser every amount, total, percentage and credit count
goes through. Exact (``Decimal`` or ``int``), never float; each caller names its field, its bound and the
error class (with its code) a refusal raises.

Plain decimal notation only (``DECIMAL_NOTATION``): "1e2", "Infinity" or "NaN" are not amounts a shop or an
app sends.
"""

from __future__ import annotations

import re
from decimal import Decimal

from woo_backend.errors import InvalidRequest

CENT = Decimal("0.01")
# ASCII digits with an optional sign and fraction. Python's Decimal() alone also takes "1e2", "+5", ".5",
# "1_000" and other scripts' digits (full-width, Arabic-Indic), none of which a shop or an app sends. (The sign is read
# so that "-5" is told it must be positive rather than that it is not a number.)
DECIMAL_NOTATION = re.compile(r"-?[0-9]+(\.[0-9]+)?")


class InvalidAmount(InvalidRequest):
    code = "invalid_amount"


def parse_decimal(
    raw: object,
    *,
    field: str,
    maximum: Decimal,
    allow_zero: bool = False,
    error: type[InvalidRequest] = InvalidAmount,
) -> Decimal:
    """``raw`` (a decimal string or a JSON integer, never a float or a bool) as a ``Decimal`` with two places."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | Decimal):
        raise error(f'{field} must be a decimal string such as "12.50"')
    text = str(raw).strip()
    if not DECIMAL_NOTATION.fullmatch(text):
        raise error(f'{field} must be a decimal string such as "12.50"')
    value = Decimal(text)
    if value < 0 or (value == 0 and not allow_zero):
        raise error(f"{field} must be {'zero or more' if allow_zero else 'greater than zero'}")
    if value != value.quantize(CENT):
        raise error(f"{field} has more than two decimals")
    if value > maximum:
        raise error(f"{field} is above {maximum}")
    return value.quantize(CENT)


def parse_count(raw: object, *, field: str, maximum: int, error: type[InvalidRequest] = InvalidAmount) -> int:
    """A positive whole number, as a JSON integer or a string of ASCII digits."""
    if isinstance(raw, str):
        text = raw.strip()
        if not text.isdigit() or not text.isascii():
            raise error(f"{field} must be a positive whole number")
        value = int(text)
    elif isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    else:
        raise error(f"{field} must be a positive whole number")
    if value <= 0:
        raise error(f"{field} must be at least 1")
    if value > maximum:
        raise error(f"{field} must be at most {maximum}")
    return value


def money(value: Decimal) -> str:
    """An amount as answers show it: always two places ("12.50")."""
    return str(value.quantize(CENT))
