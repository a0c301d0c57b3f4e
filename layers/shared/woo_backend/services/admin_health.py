"""The admin health page: each sync's last run and cursor, the shop's webhooks, the upstreams, the open counts, and
what needs a person (``domain.health``).

Every part is read at once in threads, each within one deadline: the answer comes in about the slowest part's
time (an upstream probe without retries, a DynamoDB query), and a part that fails or is late reports its own error
instead of failing the page.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from woo_backend.clock import Clock, iso, iso_seconds, utcnow
from woo_backend.domain.balance import PaymentStatus
from woo_backend.domain.health import (
    DRIFT_WINDOW,
    Attention,
    HealthFacts,
    SyncFact,
    SyncRun,
    WebhookFact,
    attention,
    error_words,
)
from woo_backend.observability import logger
from woo_backend.services.webhooks import ACTIVE, WantedWebhook
from woo_backend.woocommerce import Webhook

OPEN_STATUSES = (PaymentStatus.NEEDS_ATTENTION, PaymentStatus.CAPTURE_PENDING, PaymentStatus.AUTHORIZED)
MISSING = "missing"
DEADLINE_SECONDS = 2.0
# Each scheduled sync and how often it runs: template.yaml's ScheduleV2 rates (tests/unit/test_admin_health.py
# checks they agree). The stale rule counts in these periods.
SYNC_PERIODS = {
    "credits-sync": timedelta(minutes=5),
    "balance-sync": timedelta(minutes=5),
    "promo-sync": timedelta(minutes=5),
}


class RunHistory(Protocol):
    def last_runs(self) -> dict[str, SyncRun]: ...


class CursorReader(Protocol):
    def get(self, name: str) -> str | None: ...


class Counts(Protocol):
    def open_payments(self, status: str) -> int: ...

    def drift_since(self, since: str) -> int: ...

    def promo_pending(self) -> int: ...


class WebhookLister(Protocol):
    def list_webhooks(self) -> list[Webhook]: ...


@dataclass(frozen=True)
class SyncSpec:
    """A scheduled sync as the page shows it: its name (``domain.health.sync_key``), how often it runs, and the
    cursors it keeps (``store.cursors.SyncCursors`` in its table), the first one being "the" cursor."""

    name: str
    period: timedelta
    cursors: CursorReader | None = None
    cursor_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class SyncState:
    name: str
    last_run: SyncRun | None
    cursor: str | None
    cursors: dict[str, str | None]


@dataclass(frozen=True)
class WebhookState:
    name: str
    topic: str
    delivery_url: str
    status: str
    healthy: bool
    id: int | None = None


@dataclass(frozen=True)
class UpstreamState:
    name: str
    reachable: bool
    latency_ms: int
    error: str | None = None


@dataclass(frozen=True)
class PartError:
    part: str
    error: str


@dataclass(frozen=True)
class Health:
    checked_at: str
    syncs: list[SyncState]
    webhooks: list[WebhookState]
    upstreams: list[UpstreamState]
    payments: dict[str, int | None]
    promo_pending: int | None
    drift_24h: int | None
    attention: list[Attention]
    errors: list[PartError] = field(default_factory=list)


def webhook_states(wanted: Sequence[WantedWebhook], existing: Sequence[Webhook]) -> list[WebhookState]:
    """Each webhook the service wants, as the shop has it (one row per matching webhook), or ``missing``."""
    states: list[WebhookState] = []
    for want in wanted:
        found = [hook for hook in existing if want.matches(hook)]
        if not found:
            states.append(WebhookState(want.name, want.topic, want.delivery_url, MISSING, False))
        for hook in found:
            name = hook.name or want.name
            states.append(
                WebhookState(name, hook.topic, hook.delivery_url, hook.status, hook.status == ACTIVE, hook.id)
            )
    return states


def _probe(call: Callable[[], Any]) -> tuple[Any, int, str | None]:
    """A call's result, how long it took, and its error words (never raised: a failure is the answer)."""
    started = time.monotonic()
    try:
        result, error = call(), None
    except Exception as exc:  # any failure means "unreachable"; its words say which
        result, error = None, error_words(exc)
    return result, int((time.monotonic() - started) * 1000), error


def _read_cursors(reader: CursorReader, cursor_names: Sequence[str]) -> dict[str, str | None]:
    return {name: reader.get(name) for name in cursor_names}


class AdminHealth:
    def __init__(
        self,
        runs: RunHistory,
        syncs: Sequence[SyncSpec],
        counts: Counts,
        shop: WebhookLister,
        wanted: Sequence[WantedWebhook],
        topomer_probe: Callable[[], object],
        clock: Clock = utcnow,
        deadline_seconds: float = DEADLINE_SECONDS,
    ) -> None:
        self.runs = runs
        self.syncs = tuple(syncs)
        self.counts = counts
        self.shop = shop
        self.wanted = tuple(wanted)
        self.topomer_probe = topomer_probe
        self.clock = clock
        self.deadline_seconds = deadline_seconds

    def _parts(self, since: str) -> dict[str, Callable[[], Any]]:
        parts: dict[str, Callable[[], Any]] = {
            "runs": self.runs.last_runs,
            "woocommerce": lambda: _probe(self.shop.list_webhooks),  # the webhooks list is the shop's probe
            "topomer": lambda: _probe(self.topomer_probe),
            "drift": lambda: self.counts.drift_since(since),
            "promo_pending": self.counts.promo_pending,
        }
        for status in OPEN_STATUSES:
            parts[f"payments.{status.value}"] = functools.partial(self.counts.open_payments, status.value)
        for sync in self.syncs:
            if sync.cursors is not None and sync.cursor_names:
                parts[f"cursor.{sync.name}"] = functools.partial(_read_cursors, sync.cursors, sync.cursor_names)
        return parts

    def _gather(self, parts: Mapping[str, Callable[[], Any]]) -> tuple[dict[str, Any], dict[str, str]]:
        """Each part's result, or its error words; a part not done by the deadline is left running."""
        pool = ThreadPoolExecutor(max_workers=len(parts), thread_name_prefix="health")
        try:
            futures: dict[str, Future[Any]] = {name: pool.submit(call) for name, call in parts.items()}
            wait(futures.values(), timeout=self.deadline_seconds)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        results: dict[str, Any] = {}
        failed: dict[str, str] = {}
        for name, future in futures.items():
            if not future.done():
                failed[name] = f"no answer within {self.deadline_seconds:g} s"
            elif (exc := future.exception()) is not None:
                if not hasattr(exc, "code"):  # not one of ours: worth its traceback in the log
                    logger.warning("health part failed", extra={"part": name}, exc_info=exc)
                failed[name] = error_words(exc)
            else:
                results[name] = future.result()
        return results, failed

    def check(self) -> Health:
        now = self.clock()
        results, failed = self._gather(self._parts(iso(now - DRIFT_WINDOW)))
        runs: dict[str, SyncRun] = results.get("runs", {})
        syncs = []
        for sync in self.syncs:
            cursors: dict[str, str | None] = results.get(f"cursor.{sync.name}", {})
            first = cursors.get(sync.cursor_names[0]) if sync.cursor_names else None
            syncs.append(SyncState(sync.name, runs.get(sync.name), first, cursors))
        upstreams = []
        for name in ("woocommerce", "topomer"):
            if name in results:
                _, latency, error = results[name]
                upstreams.append(UpstreamState(name, error is None, latency, error))
            else:
                upstreams.append(UpstreamState(name, False, int(self.deadline_seconds * 1000), failed.pop(name)))
        listed = results.get("woocommerce", (None, 0, None))[0]
        webhooks = webhook_states(self.wanted, listed) if listed is not None else []
        if listed is None:
            failed["webhooks"] = "the shop's webhooks could not be listed (see woocommerce in upstreams)"
        payments: dict[str, int | None] = {s.value: results.get(f"payments.{s.value}") for s in OPEN_STATUSES}
        facts = HealthFacts(
            now=now,
            needs_attention=payments[PaymentStatus.NEEDS_ATTENTION.value],
            webhooks=[WebhookFact(w.name, w.status) for w in webhooks],
            upstreams_down=[(u.name, u.error or "no answer") for u in upstreams if not u.reachable],
            syncs=[SyncFact(s.name, s.period, runs.get(s.name)) for s in self.syncs],
            drift_24h=results.get("drift"),
            promo_pending=results.get("promo_pending"),
        )
        return Health(
            checked_at=iso_seconds(now),
            syncs=syncs,
            webhooks=webhooks,
            upstreams=upstreams,
            payments=payments,
            promo_pending=facts.promo_pending,
            drift_24h=facts.drift_24h,
            attention=attention(facts),
            errors=[PartError(name, error) for name, error in sorted(failed.items())],
        )
