"""balance function: HTTP routes (filled in by its issue)."""

from __future__ import annotations

from woo_backend.api import create_resolver, http_entrypoint

app = create_resolver()
lambda_handler = http_entrypoint(app)
