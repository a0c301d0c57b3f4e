"""Admin function: the shop admin's console (``/admin/``) and its API (``/admin/v1/``, admin bearer)."""

from __future__ import annotations

from woo_backend.api import create_resolver, http_entrypoint
from woo_backend.api.admin import audit, console, credits, health, payments
from woo_backend.auth import require_bearer
from woo_backend.bootstrap import admin as bootstrap

bootstrap.api()  # every area's service, built at cold start
app = create_resolver(guards=[("/admin/v1/", lambda headers: require_bearer(headers, bootstrap.settings().api_key))])
app.configure_openapi(title="woo-backend admin", version="1.0.0")
for area in (payments, credits, health, audit, console):
    app.include_router(area.router)

lambda_handler = http_entrypoint(app)
