"""``GET /admin/v1/health``: what the shop admin looks at first (``services.admin_health``), attention items first."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from woo_backend.api.admin import new_router
from woo_backend.api.openapi import ADMIN, errors, ok, security
from woo_backend.bootstrap import admin as bootstrap
from woo_backend.domain.health import AttentionKind, SyncRun
from woo_backend.services.admin_health import Health

router = new_router()


class LastRun(BaseModel):
    at: str = Field(description="when the run started (ISO 8601)")
    outcome: Literal["ok", "failed"]
    counts: dict[str, int] = Field(description="how many items ended each way (empty for a failed run)")
    error: str | None = Field(description="what failed, in words (never a secret)")
    duration_ms: int
    last_ok_at: str | None = Field(description="the last run that succeeded")
    failures: int = Field(description="failed runs in a row, this one included")

    @classmethod
    def of(cls, run: SyncRun) -> LastRun:
        return cls(
            at=run.at,
            outcome=run.outcome,
            counts=run.counts,
            error=run.error,
            duration_ms=run.duration_ms,
            last_ok_at=run.last_ok_at,
            failures=run.failures,
        )


class SyncHealth(BaseModel):
    name: str = Field(description="credits-sync, balance-sync or promo-sync")
    last_run: LastRun | None = Field(description="null: no run recorded yet")
    cursor: str | None = Field(description="how far its order poll got (WooCommerce's date_modified_gmt)")
    cursors: dict[str, str | None] = Field(description="every cursor the sync keeps, by name")


class WebhookHealth(BaseModel):
    id: int | None = Field(description="the shop's webhook id; null when missing")
    name: str
    topic: str
    delivery_url: str
    status: str = Field(description="active, paused, disabled (WooCommerce's) or missing")
    healthy: bool


class UpstreamHealth(BaseModel):
    name: Literal["woocommerce", "topomer"]
    reachable: bool
    latency_ms: int
    error: str | None


class AttentionItem(BaseModel):
    kind: AttentionKind
    message: str = Field(description="what is wrong and what to do, in plain words")
    count: int


class PartError(BaseModel):
    part: str = Field(description="the part that could not be read (runs, drift, payments.<status>, ...)")
    error: str


class HealthAnswer(BaseModel):
    checked_at: str
    attention: list[AttentionItem] = Field(description="what needs a person, most urgent first")
    syncs: list[SyncHealth]
    webhooks: list[WebhookHealth]
    upstreams: list[UpstreamHealth]
    payments: dict[str, int | None] = Field(
        description="open payments by status (needs_attention, capture_pending, authorized); null: not readable"
    )
    promo_pending: int | None = Field(description="promo codes with a side not yet synced")
    drift_24h: int | None = Field(description="balance drifts recorded in the last 24 hours")
    errors: list[PartError] = Field(description="parts that could not be read; the rest is still shown")

    @classmethod
    def of(cls, health: Health) -> HealthAnswer:
        return cls(
            checked_at=health.checked_at,
            attention=[AttentionItem(kind=a.kind, message=a.message, count=a.count) for a in health.attention],
            syncs=[
                SyncHealth(
                    name=s.name,
                    last_run=LastRun.of(s.last_run) if s.last_run else None,
                    cursor=s.cursor,
                    cursors=s.cursors,
                )
                for s in health.syncs
            ],
            webhooks=[
                WebhookHealth(
                    id=w.id,
                    name=w.name,
                    topic=w.topic,
                    delivery_url=w.delivery_url,
                    status=w.status,
                    healthy=w.healthy,
                )
                for w in health.webhooks
            ],
            upstreams=[
                UpstreamHealth(name=u.name, reachable=u.reachable, latency_ms=u.latency_ms, error=u.error)
                for u in health.upstreams
            ],
            payments=health.payments,
            promo_pending=health.promo_pending,
            drift_24h=health.drift_24h,
            errors=[PartError(part=e.part, error=e.error) for e in health.errors],
        )


@router.get(
    "/admin/v1/health",
    security=security(ADMIN),
    responses={**ok("each sync, the shop's webhooks, the upstreams, open counts; attention first"), **errors(401)},
)
def health() -> HealthAnswer:
    return HealthAnswer.of(bootstrap.health().check())
