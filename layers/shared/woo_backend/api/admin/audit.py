"""``GET /admin/v1/audit``: every admin write, newest first."""

from __future__ import annotations

from woo_backend.api.admin import Cursor, Limit, Page, new_router
from woo_backend.api.openapi import ADMIN, errors, ok, security
from woo_backend.bootstrap import admin as bootstrap
from woo_backend.store.audit import AuditEntry

router = new_router()
# Built at import: the local runtime swaps modules per container, so a generic built lazily would not resolve.
AuditPage = Page[AuditEntry]


@router.get(
    "/admin/v1/audit",
    security=security(ADMIN),
    responses={**ok("who did what, when, before and after; newest first"), **errors((400, "invalid_cursor"), 401)},
)
def audit(limit: Limit = 20, cursor: Cursor = None) -> AuditPage:
    entries, next_cursor = bootstrap.audit().list(limit, cursor)
    return AuditPage(items=entries, next_cursor=next_cursor)
