"""Where the admin's writes are recorded, as the admin services see it (``store.audit.AuditTrail``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol


class AuditLog(Protocol):
    def record(
        self,
        who: str,
        action: str,
        target: str,
        now: datetime,
        *,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        note: str | None = None,
    ) -> object: ...
