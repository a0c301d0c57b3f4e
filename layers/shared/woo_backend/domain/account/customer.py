"""The customer: ownership of every object a request names, and the update ``set_user_info`` sends."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from woo_backend.domain.account.errors import NotYours
from woo_backend.domain.account.meta import meta_entries
from woo_backend.domain.account.params import SetUserInfoParams
from woo_backend.errors import ValidationFailed


def owned(obj: Mapping[str, Any], uid: int, kind: str) -> Mapping[str, Any]:
    """``obj`` when it belongs to customer ``uid``; 403 otherwise."""
    if int(obj.get("customer_id") or 0) != uid:
        raise NotYours(f"this {kind} belongs to another customer")
    return obj


def customer_changes(params: SetUserInfoParams) -> dict[str, Any]:
    """The WooCommerce customer update for ``set_user_info`` (``wc/v3/customers`` field names)."""
    if params.meta is None and params.data is None:
        raise ValidationFailed("give meta, data or both")
    changes: dict[str, Any] = {}
    meta = dict(params.meta or {})
    data = params.data
    if data is not None:
        if data.user_email and data.account_email and data.user_email != data.account_email:
            raise ValidationFailed("user_email and account_email differ")
        email = data.user_email or data.account_email
        if email:
            changes["email"] = str(email)
        if data.user_password:
            changes["password"] = data.user_password
        for name in ("first_name", "last_name"):
            if getattr(data, name) is not None:
                changes[name] = getattr(data, name)
        if data.display_name is not None:
            # WooCommerce's customer resource has no display name: it is kept as customer meta.
            meta["display_name"] = data.display_name
        if not changes and not meta:
            raise ValidationFailed("data has nothing to change")
    if meta:
        changes["meta_data"] = meta_entries(meta)
    return changes
