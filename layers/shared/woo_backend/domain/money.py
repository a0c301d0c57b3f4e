"""Money and counts as clients send them: the one parser every amount, total, percentage and credit count
goes through. Exact (``Decimal`` or ``int``), never float; each caller names its field, its bound, whether a
JSON integer is accepted (only where the README documents it) and the error class (with its code) a refusal
raises.

The whole grammar of an amount is ``AMOUNT_PATTERN``: ASCII digits, an optional dot and one or two decimals.
Nothing is trimmed or normalised first: " 5.00", "5.00\\n", "+5", ".5", "5.", "10.000", "1e2", "1_000",
"Infinity" and other scripts' digits ("\\uff15", "\\u0665") are refused, not read. A shop or an app sending those has
a bug that we would otherwise hide (and Python's ``Decimal()``/``int()`` take most of them).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TypeGuard

from woo_backend.errors import InvalidRequest

CENT = Decimal("0.01")
# ``[0-9]`` (not ``\d``, which matches every script's digits); always used with ``fullmatch`` (``$`` would let
# a trailing newline through).
AMOUNT_PATTERN = r"[0-9]+(\.[0-9]{1,2})?"
COUNT_PATTERN = r"[0-9]+"
AMOUNT = re.compile(AMOUNT_PATTERN)
COUNT = re.compile(COUNT_PATTERN)
# Only to say why a string is refused: a sign, or a third decimal, gets a message of its own.
_NEGATIVE = re.compile(r"-[0-9]+(\.[0-9]+)?")
_TOO_PRECISE = re.compile(r"[0-9]+\.[0-9]{3,}")


class InvalidAmount(InvalidRequest):
    code = "invalid_amount"


def _is_int(raw: object) -> TypeGuard[int]:
    return isinstance(raw, int) and not isinstance(raw, bool)  # JSON true is not 1


def _sign_rule(field: str, allow_zero: bool) -> str:
    return f"{field} must be {'zero or more' if allow_zero else 'greater than zero'}"


def _why_refused(raw: object, field: str, allow_zero: bool, allow_int: bool) -> str:
    if isinstance(raw, str) and _NEGATIVE.fullmatch(raw):
        return _sign_rule(field, allow_zero)
    if isinstance(raw, str) and _TOO_PRECISE.fullmatch(raw):
        return f"{field} has more than two decimals"
    whole = " or a whole JSON number" if allow_int else ""
    return f'{field} must be a decimal string such as "12.50"{whole} (ASCII digits, at most two decimals)'


def parse_decimal(
    raw: object,
    *,
    field: str,
    maximum: Decimal,
    allow_zero: bool = False,
    allow_int: bool = False,
    error: type[InvalidRequest] = InvalidAmount,
) -> Decimal:
    """``raw`` as a ``Decimal`` with two places: a string of ``AMOUNT_PATTERN`` (or, with ``allow_int``, a
    JSON integer), in (0, maximum] (or [0, maximum] with ``allow_zero``)."""
    if not ((allow_int and _is_int(raw)) or (isinstance(raw, str) and AMOUNT.fullmatch(raw))):
        raise error(_why_refused(raw, field, allow_zero, allow_int))
    value = Decimal(raw)  # an int or an AMOUNT string, as just checked
    if value < 0 or (value == 0 and not allow_zero):
        raise error(_sign_rule(field, allow_zero))
    if value > maximum:
        raise error(f"{field} is above {maximum}")
    return value.quantize(CENT)


def parse_count(raw: object, *, field: str, maximum: int, error: type[InvalidRequest] = InvalidAmount) -> int:
    """A positive whole number, as a JSON integer or a string of ASCII digits (nothing around them)."""
    if not (_is_int(raw) or (isinstance(raw, str) and COUNT.fullmatch(raw))):
        raise error(f"{field} must be a positive whole number")
    # Decimal, not int(): a string of 5,000 digits is then refused as too large, not a ValueError (int()'s
    # limit on digits).
    number = Decimal(raw)  # an int or a COUNT string, as just checked
    if number <= 0:
        raise error(f"{field} must be at least 1")
    if number > maximum:
        raise error(f"{field} must be at most {maximum}")
    return int(number)


def money(value: Decimal) -> str:
    """An amount as answers show it: always two places ("12.50")."""
    return str(value.quantize(CENT))
