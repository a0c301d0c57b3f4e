"""The shop's webhooks that point at this service: created by setup, watched by the scheduled syncs.

WooCommerce (includes/class-wc-webhook.php, ``WC_Webhook::failed_delivery()``) sets a webhook to
``disabled`` when a delivery fails while its count of consecutive failures is already above
``woocommerce_max_webhook_delivery_failures`` (5): the seventh failure in a row. Nothing turns it back on,
and a turned-on webhook keeps its failure count (only a successful delivery resets it), so while our
endpoint still fails the next failure disables it again. The syncs poll orders anyway, so no order is
lost; what this module adds is that a disabled (or paused) webhook is turned back on at the next sync
run and reported, and a missing one is reported (creating it is ``setup_webhooks``'s job: it needs the
webhook secret, which the syncs do not hold).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from woo_backend.woocommerce import Webhook

# The topics the order webhook route handles (``api/webhooks.py`` reads them from here) and the shop is asked to send.
WEBHOOK_TOPICS = ("order.created", "order.updated")
# The routes that receive them (template.yaml: CreditsFunction and BalanceFunction, OrderWebhook).
CREDITS_WEBHOOK_PATH = "/credits/webhooks/order"
BALANCE_WEBHOOK_PATH = "/balance/webhooks/order"
WEBHOOK_PATHS = (CREDITS_WEBHOOK_PATH, BALANCE_WEBHOOK_PATH)

ACTIVE = "active"


class WebhookClient(Protocol):
    def list_webhooks(self) -> list[Webhook]: ...

    def create_webhook(self, *, name: str, topic: str, delivery_url: str, secret: str) -> Webhook: ...

    def update_webhook(self, webhook_id: int, data: Mapping[str, Any]) -> Webhook: ...


@dataclass(frozen=True)
class WantedWebhook:
    """One webhook this service needs: a topic delivered to one of its URLs."""

    topic: str
    delivery_url: str

    @property
    def name(self) -> str:
        path = self.delivery_url.split("://", 1)[-1].partition("/")[2]
        return f"woo-backend /{path} {self.topic}"

    def matches(self, hook: Webhook) -> bool:
        # WooCommerce stores the URL through esc_url_raw(); a trailing slash is the only difference we allow.
        return hook.topic == self.topic and hook.delivery_url.rstrip("/") == self.delivery_url.rstrip("/")


def wanted_webhooks(base_url: str, paths: Iterable[str] = WEBHOOK_PATHS) -> list[WantedWebhook]:
    """Every (topic, delivery URL) pair for ``paths`` under the service's public ``base_url``."""
    base = base_url.rstrip("/")
    return [WantedWebhook(topic, base + path) for path in paths for topic in WEBHOOK_TOPICS]


# ------------------------------------------------------------------ watching (the scheduled syncs)
@dataclass(frozen=True)
class Reactivated:
    webhook_id: int
    topic: str
    delivery_url: str
    previous_status: str


@dataclass
class WebhookReport:
    healthy: int = 0
    reactivated: list[Reactivated] = field(default_factory=list)
    missing: list[WantedWebhook] = field(default_factory=list)
    # Turned on, but WooCommerce's answer did not say active (a plugin filtering the status, say).
    still_off: list[Reactivated] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "healthy": self.healthy,
            "reactivated": len(self.reactivated),
            "missing": len(self.missing),
            "still_off": len(self.still_off),
        }


class WebhookWatch:
    """Checks the shop's webhooks for some of this service's URLs and turns off ones back on."""

    def __init__(self, client: WebhookClient, wanted: Sequence[WantedWebhook]) -> None:
        self.client = client
        self.wanted = tuple(wanted)

    def check(self) -> WebhookReport:
        report = WebhookReport()
        existing = self.client.list_webhooks()
        for want in self.wanted:
            found = [hook for hook in existing if want.matches(hook)]
            if not found:
                report.missing.append(want)
            for hook in found:
                if hook.status == ACTIVE:
                    report.healthy += 1
                    continue
                # PUT sets an absolute value: two syncs doing it at once is harmless.
                answer = self.client.update_webhook(hook.id, {"status": ACTIVE})
                event = Reactivated(hook.id, hook.topic, hook.delivery_url, hook.status)
                (report.reactivated if answer.status == ACTIVE else report.still_off).append(event)
        return report


# ------------------------------------------------------------------ setting up (local.setup_webhooks)
@dataclass(frozen=True)
class SetupAction:
    action: str  # "created" or "updated"
    webhook_id: int
    topic: str
    delivery_url: str
    previous_status: str | None
    status: str


def ensure_webhooks(client: WebhookClient, wanted: Sequence[WantedWebhook], secret: str) -> list[SetupAction]:
    """Create what is missing; set the secret, name and ``active`` on what exists. Never duplicates.

    The secret cannot be read back (WooCommerce never shows it), so an existing webhook is always given
    ours: running this again after changing WOOCOMMERCE_WEBHOOK_SECRET is how the secret is rotated.
    A create whose answer was lost is found by the next run's listing, not created twice.
    """
    actions: list[SetupAction] = []
    existing = client.list_webhooks()
    for want in wanted:
        found = [hook for hook in existing if want.matches(hook)]
        if not found:
            created = client.create_webhook(
                name=want.name, topic=want.topic, delivery_url=want.delivery_url, secret=secret
            )
            actions.append(SetupAction("created", created.id, want.topic, want.delivery_url, None, created.status))
        for hook in found:
            updated = client.update_webhook(hook.id, {"name": want.name, "secret": secret, "status": ACTIVE})
            actions.append(SetupAction("updated", hook.id, want.topic, hook.delivery_url, hook.status, updated.status))
    return actions
