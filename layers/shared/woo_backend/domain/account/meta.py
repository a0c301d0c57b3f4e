"""Meta and plain fields: how writes send meta, and how a write is confirmed from WooCommerce's answer
(WordPress keeps meta as text)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from woo_backend.domain.account.errors import ChangeNotApplied


def meta_entries(meta: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"key": key, "value": value} for key, value in meta.items()]


def same_meta_value(stored: Any, sent: Any) -> bool:
    """WordPress keeps meta as text: ``true`` reads back ``"1"``, ``false`` and ``null`` ``""``, ``3`` ``"3"``."""
    if isinstance(sent, bool):
        return stored in (sent, int(sent), "1" if sent else "", "true" if sent else "false", "0" if not sent else "1")
    if sent is None:
        return stored in (None, "")
    return str(stored) == str(sent)


def confirm_meta(answer: Mapping[str, Any], entries: Iterable[Mapping[str, Any]]) -> None:
    stored = {m.get("key"): m.get("value") for m in answer.get("meta_data", [])}
    missing = [e["key"] for e in entries if e["key"] not in stored or not same_meta_value(stored[e["key"]], e["value"])]
    if missing:
        raise ChangeNotApplied(f"WooCommerce did not store {', '.join(sorted(missing))}")


def confirm_fields(answer: Mapping[str, Any], change: Mapping[str, Any], fields: Iterable[str]) -> None:
    differ = [f for f in fields if f in change and str(answer.get(f, "")).lower() != str(change[f]).lower()]
    if differ:
        raise ChangeNotApplied(f"WooCommerce did not change {', '.join(differ)}")
