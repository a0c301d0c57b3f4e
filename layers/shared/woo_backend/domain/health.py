"""The admin console's health rules: what in the service's state needs a person, in plain words, most urgent first.

Pure: the facts come in (counts, each sync's last run, webhook and upstream states), the attention items go out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, Literal

Outcome = Literal["ok", "failed"]
OK: Final = "ok"
FAILED: Final = "failed"
# A sync is stale when it has not succeeded (or not run at all) for this many of its periods.
STALE_PERIODS = 3
DRIFT_WINDOW = timedelta(hours=24)
ERROR_TEXT_LIMIT = 300
UPSTREAM_NAMES = {"woocommerce": "WooCommerce", "topomer": "Topomer"}

AttentionKind = Literal[
    "payments_needing_attention",
    "webhook_disabled",
    "upstream_down",
    "sync_stale",
    "sync_failing",
    "drift",
    "promo_pending",
]


@dataclass(frozen=True)
class SyncRun:
    """One scheduled sync's last run (``store.runs``), with what the stale rule needs of the runs before it."""

    at: str
    outcome: Outcome
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    duration_ms: int = 0
    last_ok_at: str | None = None  # the last run that succeeded (this one, when it did)
    failures: int = 0  # failed runs in a row, this one included
    failing_since: str | None = None  # the first failed run of the current streak


@dataclass(frozen=True)
class SyncFact:
    name: str
    period: timedelta
    last_run: SyncRun | None


@dataclass(frozen=True)
class WebhookFact:
    name: str
    status: str  # active, paused, disabled (WooCommerce's words) or missing


@dataclass(frozen=True)
class HealthFacts:
    """What the rules look at; ``None`` for a count that could not be read (its part reports the error)."""

    now: datetime
    needs_attention: int | None = None
    webhooks: list[WebhookFact] = field(default_factory=list)
    upstreams_down: list[tuple[str, str]] = field(default_factory=list)  # (name, error words)
    syncs: list[SyncFact] = field(default_factory=list)
    drift_24h: int | None = None
    promo_pending: int | None = None


@dataclass(frozen=True)
class Attention:
    kind: AttentionKind
    message: str
    count: int


def sync_key(name: str) -> str:
    """The name a sync's runs are kept and shown under: ``CreditsSync`` -> ``credits-sync``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def error_words(exc: BaseException) -> str:
    """What a failed run's record says of its error: the service's own message for its errors, else only the
    exception's type (a library's message may carry a URL or a payload)."""
    code, message = getattr(exc, "code", None), getattr(exc, "message", None)
    text = f"{code}: {message}" if isinstance(code, str) and isinstance(message, str) else type(exc).__name__
    return text[:ERROR_TEXT_LIMIT]


def _parse(at: str) -> datetime:
    return datetime.fromisoformat(at)


def _minutes(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes >= 120:
        return f"{minutes // 60} hours"
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def sync_attention(sync: SyncFact, now: datetime) -> Attention | None:
    """Stale: no run, or no success, for ``STALE_PERIODS`` periods; failing: the last run failed. A sync never
    recorded says nothing (just deployed, or run where runs are not recorded)."""
    run = sync.last_run
    if run is None:
        return None
    limit = sync.period * STALE_PERIODS
    every = _minutes(sync.period)
    if now - _parse(run.at) > limit:
        return Attention(
            "sync_stale",
            f"{sync.name} has not run for {_minutes(now - _parse(run.at))} (it runs every {every}): "
            "check its schedule and its logs.",
            1,
        )
    if run.outcome != FAILED:
        return None
    since = run.last_ok_at or run.failing_since
    last_error = f" Last error: {run.error}." if run.error else ""
    if since is not None and now - _parse(since) > limit:
        return Attention(
            "sync_stale",
            f"{sync.name} has not succeeded for {_minutes(now - _parse(since))} "
            f"({_plural(run.failures, 'failed run', 'failed runs')} in a row).{last_error} Check its logs.",
            max(run.failures, 1),
        )
    return Attention(
        "sync_failing",
        f"{sync.name}'s last run failed.{last_error} The next run (within {every}) tries again.",
        max(run.failures, 1),
    )


def attention(facts: HealthFacts) -> list[Attention]:
    """Every item that needs a person, most urgent first: money waiting on a person, then what stops the
    service hearing of orders (webhooks, upstreams, syncs), then what is worth a look (drift, promo codes)."""
    items: list[Attention] = []
    if facts.needs_attention:
        items.append(
            Attention(
                "payments_needing_attention",
                f"{_plural(facts.needs_attention, 'payment needs', 'payments need')} a person: open Payments "
                "(needs attention), retry once the cause is fixed, or resolve one settled by hand.",
                facts.needs_attention,
            )
        )
    off = [w for w in facts.webhooks if w.status not in ("active", "missing")]
    missing = [w for w in facts.webhooks if w.status == "missing"]
    if off:
        items.append(
            Attention(
                "webhook_disabled",
                f"{_plural(len(off), 'shop webhook is', 'shop webhooks are')} off ("
                + ", ".join(f"{w.name}: {w.status}" for w in off)
                + "): the next sync turns them back on; if they stay off, check that the shop reaches this service.",
                len(off),
            )
        )
    if missing:
        items.append(
            Attention(
                "webhook_disabled",
                f"{_plural(len(missing), 'shop webhook is', 'shop webhooks are')} missing ("
                + ", ".join(w.name for w in missing)
                + "): create them with `make setup-webhooks`. Until then the syncs catch orders up every few minutes.",
                len(missing),
            )
        )
    for name, error in facts.upstreams_down:
        items.append(
            Attention(
                "upstream_down",
                f"{UPSTREAM_NAMES.get(name, name)} does not answer ({error}). "
                "Work that needs it waits and is retried by the syncs.",
                1,
            )
        )
    found = [a for a in (sync_attention(s, facts.now) for s in facts.syncs) if a is not None]
    items.extend(sorted(found, key=lambda a: a.kind != "sync_stale"))
    if facts.drift_24h:
        items.append(
            Attention(
                "drift",
                f"{_plural(facts.drift_24h, 'balance', 'balances')} in Topomer differed from the expected one in "
                "the last 24 hours: see Drift (someone else moved the money, or a capture went wrong).",
                facts.drift_24h,
            )
        )
    if facts.promo_pending:
        items.append(
            Attention(
                "promo_pending",
                f"{_plural(facts.promo_pending, 'promo code is', 'promo codes are')} not yet on both WooCommerce "
                "and Topomer: the promo sync retries every few minutes; see each code's sync state.",
                facts.promo_pending,
            )
        )
    return items
