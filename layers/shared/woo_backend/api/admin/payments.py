"""The admin API's payments routes (issue 14; being built)."""

from __future__ import annotations

from woo_backend.api.admin import new_router

router = new_router()
