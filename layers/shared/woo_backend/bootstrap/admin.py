"""Wiring of the admin function: each area's service is built once per container, on its first request (a
page view touches one or two areas; none needs the others' clients)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from woo_backend.settings import AdminSettings
    from woo_backend.store.audit import AuditTrail


@functools.cache
def settings() -> AdminSettings:
    from woo_backend.settings import AdminSettings

    return AdminSettings.from_env()


@functools.cache
def audit() -> AuditTrail:
    from woo_backend.aws import dynamodb_client
    from woo_backend.settings import env
    from woo_backend.store.audit import AuditTrail

    return AuditTrail(env("ADMIN_TABLE"), dynamodb_client())
