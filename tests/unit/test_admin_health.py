"""The admin health rules (``domain.health``) and the page's assembly (``services.admin_health``) over plain fakes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from local import template
from woo_backend.domain.health import (
    HealthFacts,
    SyncFact,
    SyncRun,
    WebhookFact,
    attention,
    error_words,
    sync_attention,
    sync_key,
)
from woo_backend.errors import UpstreamUnavailable
from woo_backend.services.admin_health import SYNC_PERIODS, AdminHealth, SyncSpec, webhook_states
from woo_backend.services.webhooks import wanted_webhooks
from woo_backend.woocommerce import Webhook

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
FIVE = timedelta(minutes=5)


def at(minutes_ago: float) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).isoformat()


def ok_run(minutes_ago: float) -> SyncRun:
    return SyncRun(at=at(minutes_ago), outcome="ok", counts={"granted": 1}, last_ok_at=at(minutes_ago))


def failed_run(minutes_ago: float, *, last_ok: float | None, failures: int = 1, since: float | None = None) -> SyncRun:
    return SyncRun(
        at=at(minutes_ago),
        outcome="failed",
        error="upstream_unavailable: woocommerce: answered 500",
        last_ok_at=at(last_ok) if last_ok is not None else None,
        failures=failures,
        failing_since=at(since if since is not None else minutes_ago),
    )


# ------------------------------------------------------------------ names and error words
def test_sync_names_are_the_template_service_names() -> None:
    assert [sync_key(n) for n in ("CreditsSync", "BalanceSync", "PromoSync")] == list(SYNC_PERIODS)


def test_sync_periods_agree_with_the_template_schedules() -> None:
    periods = {
        sync_key(s.function.removesuffix("Function")): timedelta(seconds=s.interval_seconds or 0)
        for s in template.schedules()
    }
    assert periods == SYNC_PERIODS


def test_error_words_keep_our_message_and_only_the_type_of_others() -> None:
    assert error_words(UpstreamUnavailable("topomer", "answered 500")) == "upstream_unavailable: topomer: answered 500"
    assert error_words(RuntimeError("https://shop/?consumer_secret=cs_live")) == "RuntimeError"
    assert len(error_words(UpstreamUnavailable("topomer", "x" * 1000))) == 300


# ------------------------------------------------------------------ sync rules
def test_a_recent_ok_run_needs_nothing() -> None:
    assert sync_attention(SyncFact("credits-sync", FIVE, ok_run(4)), NOW) is None


def test_a_sync_never_recorded_needs_nothing() -> None:
    assert sync_attention(SyncFact("credits-sync", FIVE, None), NOW) is None


def test_one_failed_run_is_failing_with_its_error() -> None:
    item = sync_attention(SyncFact("promo-sync", FIVE, failed_run(1, last_ok=6)), NOW)
    assert item is not None
    assert item.kind == "sync_failing"
    assert item.count == 1
    assert "promo-sync's last run failed" in item.message
    assert "answered 500" in item.message


def test_no_success_for_three_periods_is_stale() -> None:
    item = sync_attention(SyncFact("balance-sync", FIVE, failed_run(1, last_ok=16, failures=3)), NOW)
    assert item is not None
    assert item.kind == "sync_stale"
    assert item.count == 3
    assert "has not succeeded for 16 minutes" in item.message
    assert "3 failed runs in a row" in item.message


def test_never_succeeded_counts_from_the_first_failure() -> None:
    recent = sync_attention(SyncFact("x", FIVE, failed_run(1, last_ok=None, since=10)), NOW)
    old = sync_attention(SyncFact("x", FIVE, failed_run(1, last_ok=None, failures=5, since=20)), NOW)
    assert recent is not None
    assert recent.kind == "sync_failing"
    assert old is not None
    assert old.kind == "sync_stale"


def test_a_sync_that_stopped_running_is_stale() -> None:
    item = sync_attention(SyncFact("credits-sync", FIVE, ok_run(16)), NOW)
    assert item is not None
    assert item.kind == "sync_stale"
    assert "has not run for 16 minutes" in item.message


def test_exactly_three_periods_is_not_yet_stale() -> None:
    assert sync_attention(SyncFact("credits-sync", FIVE, ok_run(15)), NOW) is None


# ------------------------------------------------------------------ the whole list
def test_nothing_wrong_means_no_attention() -> None:
    facts = HealthFacts(
        now=NOW,
        needs_attention=0,
        webhooks=[WebhookFact("a", "active")],
        syncs=[SyncFact("credits-sync", FIVE, ok_run(1))],
        drift_24h=0,
        promo_pending=0,
    )
    assert attention(facts) == []


def test_attention_is_most_urgent_first() -> None:
    facts = HealthFacts(
        now=NOW,
        needs_attention=2,
        webhooks=[WebhookFact("credits created", "disabled"), WebhookFact("balance updated", "missing")],
        upstreams_down=[("topomer", "upstream_unavailable: topomer: answered 500")],
        syncs=[
            SyncFact("promo-sync", FIVE, failed_run(1, last_ok=6)),
            SyncFact("credits-sync", FIVE, ok_run(30)),
        ],
        drift_24h=3,
        promo_pending=1,
    )
    items = attention(facts)
    assert [i.kind for i in items] == [
        "payments_needing_attention",
        "webhook_disabled",
        "webhook_disabled",
        "upstream_down",
        "sync_stale",
        "sync_failing",
        "drift",
        "promo_pending",
    ]
    assert [i.count for i in items] == [2, 1, 1, 1, 1, 1, 3, 1]
    assert items[0].message.startswith("2 payments need a person")
    assert "credits created: disabled" in items[1].message
    assert "make setup-webhooks" in items[2].message
    assert items[3].message.startswith("Topomer does not answer")
    assert items[-1].message.startswith("1 promo code is not yet")


def test_unreadable_counts_raise_no_item() -> None:
    assert attention(HealthFacts(now=NOW, needs_attention=None, drift_24h=None, promo_pending=None)) == []


# ------------------------------------------------------------------ webhooks
def hook(hook_id: int, topic: str, url: str, status: str) -> Webhook:
    return Webhook(id=hook_id, name=f"hook {hook_id}", status=status, topic=topic, delivery_url=url)


def test_webhook_states_show_each_wanted_one_as_the_shop_has_it() -> None:
    wanted = wanted_webhooks("https://api.example.com", ["/credits/webhooks/order"])
    existing = [
        hook(1, "order.created", "https://api.example.com/credits/webhooks/order/", "active"),
        hook(2, "order.created", "https://elsewhere.example.com/credits/webhooks/order", "disabled"),
        hook(3, "order.created", "https://api.example.com/credits/webhooks/order", "paused"),
    ]
    states = webhook_states(wanted, existing)
    assert [(s.id, s.topic, s.status, s.healthy) for s in states] == [
        (1, "order.created", "active", True),
        (3, "order.created", "paused", False),
        (None, "order.updated", "missing", False),
    ]
    assert states[2].name == "woo-backend /credits/webhooks/order order.updated"


# ------------------------------------------------------------------ the assembly
class Runs:
    def last_runs(self) -> dict[str, SyncRun]:
        return {"credits-sync": ok_run(2)}


class Cursors:
    def get(self, name: str) -> str | None:
        return {"ORDERS": "2026-11-26T11:58:00"}.get(name)


class Counts:
    def open_payments(self, status: str) -> int:
        return {"needs_attention": 1, "capture_pending": 2}.get(status, 0)

    def drift_since(self, since: str) -> int:
        assert since == (NOW - timedelta(hours=24)).isoformat(timespec="microseconds")
        return 0

    def promo_pending(self) -> int:
        raise RuntimeError("table gone")


class Shop:
    def __init__(self, hooks: list[Webhook]) -> None:
        self.hooks = hooks

    def list_webhooks(self) -> list[Webhook]:
        return self.hooks


class DownShop:
    def list_webhooks(self) -> list[Webhook]:
        raise UpstreamUnavailable("woocommerce", "answered 500")


def service(shop: object, topomer_probe: object, deadline: float = 2.0) -> AdminHealth:
    syncs = [
        SyncSpec("credits-sync", FIVE, Cursors(), ("ORDERS",)),
        SyncSpec("balance-sync", FIVE, Cursors(), ("ORDERS", "RECONCILE")),
        SyncSpec("promo-sync", FIVE),
    ]
    wanted = wanted_webhooks("https://api.example.com", ["/balance/webhooks/order"])
    return AdminHealth(Runs(), syncs, Counts(), shop, wanted, topomer_probe, lambda: NOW, deadline)  # type: ignore[arg-type]


def test_health_reports_every_part_and_each_failure_alone() -> None:
    hooks = [hook(7, "order.created", "https://api.example.com/balance/webhooks/order", "disabled")]
    answer = service(Shop(hooks), lambda: []).check()
    assert [(s.name, s.last_run is not None, s.cursor, s.cursors) for s in answer.syncs] == [
        ("credits-sync", True, "2026-11-26T11:58:00", {"ORDERS": "2026-11-26T11:58:00"}),
        ("balance-sync", False, "2026-11-26T11:58:00", {"ORDERS": "2026-11-26T11:58:00", "RECONCILE": None}),
        ("promo-sync", False, None, {}),
    ]
    assert answer.payments == {"needs_attention": 1, "capture_pending": 2, "authorized": 0}
    assert answer.promo_pending is None
    assert answer.drift_24h == 0
    assert [(e.part, e.error) for e in answer.errors] == [("promo_pending", "RuntimeError")]
    assert [(u.name, u.reachable, u.error) for u in answer.upstreams] == [
        ("woocommerce", True, None),
        ("topomer", True, None),
    ]
    assert [(w.status, w.healthy) for w in answer.webhooks] == [("disabled", False), ("missing", False)]
    assert [a.kind for a in answer.attention] == ["payments_needing_attention", "webhook_disabled", "webhook_disabled"]


def test_an_upstream_down_is_unreachable_with_its_error_and_no_webhooks_listed() -> None:
    def refused() -> None:
        raise UpstreamUnavailable("topomer", "connection failed (ConnectError)")

    answer = service(DownShop(), refused).check()
    assert [(u.name, u.reachable, u.error) for u in answer.upstreams] == [
        ("woocommerce", False, "upstream_unavailable: woocommerce: answered 500"),
        ("topomer", False, "upstream_unavailable: topomer: connection failed (ConnectError)"),
    ]
    assert answer.webhooks == []
    assert "webhooks" in [e.part for e in answer.errors]
    assert [a.kind for a in answer.attention].count("upstream_down") == 2


def test_a_probe_past_the_deadline_is_unreachable_and_the_rest_still_answers() -> None:
    release = threading.Event()
    health = service(Shop([]), lambda: release.wait(5), deadline=0.2)
    try:
        answer = health.check()
    finally:
        release.set()
    topomer = answer.upstreams[1]
    assert (topomer.reachable, topomer.latency_ms, topomer.error) == (False, 200, "no answer within 0.2 s")
    assert answer.upstreams[0].reachable
    assert answer.payments["needs_attention"] == 1


def test_healthy_webhooks_raise_nothing() -> None:
    hooks = [
        hook(i, topic, "https://api.example.com/balance/webhooks/order", "active")
        for i, topic in enumerate(("order.created", "order.updated"))
    ]
    answer = service(Shop(hooks), lambda: []).check()
    assert all(w.healthy for w in answer.webhooks)
    assert [a.kind for a in answer.attention] == ["payments_needing_attention"]
