"""Opaque page cursors: the last key of a page, as URL-safe base64 of a small JSON map.

A cursor is checked only for shape here; each store then checks that the key it names is one of its own
(a prefix, a length), so a forged cursor cannot read outside the listed records.
"""

from __future__ import annotations

import base64
import binascii
import json

from woo_backend.errors import InvalidRequest

MAX_CURSOR_FIELD = 200


class InvalidCursor(InvalidRequest):
    code = "invalid_cursor"

    def __init__(self, message: str = "cursor is not one this API returned") -> None:
        super().__init__(message)


def encode_cursor(values: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, fields: tuple[str, ...]) -> dict[str, str]:
    """The ``fields`` of a cursor this API returned, each a string of at most 200 characters."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        values = {name: raw[name] for name in fields}
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise InvalidCursor() from exc
    if not all(isinstance(v, str) and len(v) <= MAX_CURSOR_FIELD for v in values.values()):
        raise InvalidCursor()
    return values
