"""In-memory Topomer and WooCommerce for service tests, written once, failing on demand.

Failures are set per method name: ``fail[method] = n`` makes the next ``n`` calls fail before anything
changes; ``lost[method] = n`` makes them fail after the change was made (the answer was lost on the way
back). A lost Topomer order report, a POST the client does not repeat, is ``UpstreamOutcomeUnknown``;
everything else is ``UpstreamUnavailable``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from woo_backend.domain.balance import CAPTURE_STEPS, Payment, PaymentStatus, Step
from woo_backend.errors import UpstreamNotFound, UpstreamUnavailable
from woo_backend.http import UpstreamOutcomeUnknown
from woo_backend.topomer import PriceInterval, ShopperBalance, TopomerOrder, TopomerPromo, TopomerUser
from woo_backend.woocommerce import Coupon, Order, OrderNote, Product, Webhook

TOKEN = "tok-alice"
PRICE_INTERVALS = [
    PriceInterval.model_validate({"min": "50", "max": "100", "pourcentage": "5"}),
    PriceInterval.model_validate({"min": "100", "max": None, "pourcentage": "10"}),
]


class Failures:
    """The ``fail`` / ``lost`` tables both fakes share."""

    upstream = ""

    def __init__(self) -> None:
        self.fail: dict[str, int] = {}
        self.lost: dict[str, int] = {}

    def _maybe_fail(self, method: str, applied: bool) -> None:
        table = self.lost if applied else self.fail
        if table.get(method, 0) > 0:
            table[method] -= 1
            if applied and method == "record_order":
                raise UpstreamOutcomeUnknown(self.upstream, f"{method}: no answer")
            raise UpstreamUnavailable(self.upstream, f"{method} failed")


class FakeTopomer(Failures):
    """Topomer's behaviour: absolute balances, order reports, price intervals and promos.

    ``ignored[method] = n`` answers "taken" without applying anything: only reading back can tell. Order
    reports are not deduplicated: every report taken is kept, with its ``Idempotency-Key``. ``intervals``
    may be an exception, raised on every read; ``while_creating`` runs inside ``create_promo`` (a race).
    """

    upstream = "topomer"

    def __init__(self) -> None:
        super().__init__()
        self.balances = {TOKEN: Decimal("150.00"), "tok-bob": Decimal("20.00")}
        self.ids = {TOKEN: 101, "tok-bob": 102}
        self.expired: set[str] = set()
        self.reports: list[tuple[TopomerOrder, str]] = []
        self.writes: list[Decimal] = []
        self.ignored: dict[str, int] = {}
        self.intervals: list[PriceInterval] | Exception = PRICE_INTERVALS
        self.interval_calls = 0
        self.promos: dict[str, dict[str, Any]] = {}
        self.creates_sent: list[str] = []
        self.while_creating: Callable[[], None] | None = None

    @property
    def orders(self) -> dict[int, TopomerOrder]:
        return {order.order_id: order for order, _ in self.reports}

    def _ignores(self, method: str) -> bool:
        if self.ignored.get(method, 0) > 0:
            self.ignored[method] -= 1
            return True
        return False

    # ------------------------------------------------------------------ balances and order reports
    def get_user_by_token(self, token: str) -> TopomerUser:
        self._maybe_fail("get_user_by_token", False)
        if token not in self.balances:
            raise UpstreamNotFound("topomer", "unknown token", status=404)
        # Only what the service reads: no token echoed, no email.
        return TopomerUser.model_validate(
            {"id": self.ids[token], "solde": self.balances[token], "expired": token in self.expired, "email": None}
        )

    def update_balance(self, token: str, user_id: int | str, new_balance: Decimal) -> None:
        self._maybe_fail("update_balance", False)
        if self._ignores("update_balance"):
            return
        self.balances[token] = new_balance
        self.writes.append(new_balance)
        self._maybe_fail("update_balance", True)

    def expire_token(self, token: str) -> None:
        self._maybe_fail("expire_token", False)
        if self._ignores("expire_token"):
            return
        self.expired.add(token)
        self._maybe_fail("expire_token", True)

    def record_order(self, order: TopomerOrder, idempotency_key: str) -> None:
        self._maybe_fail("record_order", False)
        self.reports.append((order, idempotency_key))
        self._maybe_fail("record_order", True)

    def shopper_balance(self, shopper_id: str, shopper_token: str) -> ShopperBalance:
        raise UpstreamNotFound("topomer", "unknown shopper", status=404)

    # ------------------------------------------------------------------ price intervals and promos
    def price_intervals(self) -> list[PriceInterval]:
        self.interval_calls += 1
        if isinstance(self.intervals, Exception):
            raise self.intervals
        return self.intervals

    def create_promo(self, code: str, percentage: Decimal, promo_type: str) -> TopomerPromo:
        self.creates_sent.append(code)
        if self.while_creating is not None:
            self.while_creating()
        self._maybe_fail("create_promo", False)
        promo = self.promos.setdefault(code, {"id": len(self.promos) + 1, "percentage": percentage})
        return TopomerPromo(id=promo["id"])

    def update_promo(self, promo_id: int | str, fields: dict[str, Any]) -> None:
        promo = next(p for p in self.promos.values() if str(p["id"]) == str(promo_id))
        promo.update(fields)


class FakeShop(Failures):
    """WooCommerce's orders and notes, products, coupons and webhooks, answering as WooCommerce does.

    Notes and coupons are never deduplicated (as in WooCommerce). A webhook is always created active; a PUT
    sets what it asks unless ``refuse_status`` (a shop that keeps a webhook disabled).
    """

    upstream = "woocommerce"

    def __init__(self, webhooks: Iterable[Webhook] = (), *, refuse_status: bool = False) -> None:
        super().__init__()
        self.orders: dict[int, Order] = {}
        self.notes: dict[int, list[OrderNote]] = {}
        self.updates: list[tuple[int, dict[str, Any]]] = []
        self.products = [Product(id=10, meta_data=[{"key": "_credits", "value": "100"}])]
        self.product_calls = 0
        self.coupons: dict[int, dict[str, Any]] = {}
        self.coupon_ids = itertools.count(1)
        self.found: list[str] = []
        self.webhooks = list(webhooks)
        self.webhook_secrets: dict[int, str] = {}
        self.webhook_writes: list[tuple[str, int, dict[str, Any]]] = []
        self.refuse_status = refuse_status

    # ------------------------------------------------------------------ orders and notes
    def pending(self, order_id: int, total: str, currency: str = "EUR") -> Order:
        """A Topomer order waiting for its payment (kept as it is if the shop has it already)."""
        order = Order(id=order_id, status="pending", payment_method="topomer", currency=currency, total=Decimal(total))
        return self.orders.setdefault(order_id, order)

    def get_order(self, order_id: int) -> Order:
        self._maybe_fail("get_order", False)
        if order_id not in self.orders:
            raise UpstreamNotFound("woocommerce", "no order", status=404)
        return self.orders[order_id]

    def update_order(self, order_id: int, data: Mapping[str, Any]) -> Order:
        self._maybe_fail("update_order", False)
        if order_id not in self.orders:
            raise UpstreamNotFound("woocommerce", "no order", status=404)
        self.updates.append((order_id, dict(data)))
        self.orders[order_id] = self.orders[order_id].model_copy(update=dict(data))
        self._maybe_fail("update_order", True)
        return self.orders[order_id]

    def order_notes(self, order_id: int) -> list[OrderNote]:
        self._maybe_fail("order_notes", False)
        return list(reversed(self.notes.get(order_id, [])))

    def add_order_note(self, order_id: int, note: str) -> OrderNote:
        self._maybe_fail("add_order_note", False)
        entry = OrderNote(id=len(self.notes.get(order_id, [])) + 1, note=note)
        self.notes.setdefault(order_id, []).append(entry)
        self._maybe_fail("add_order_note", True)
        return entry

    def orders_modified_after(self, modified_after_gmt: str) -> Iterable[Order]:
        return sorted(self.orders.values(), key=lambda o: o.date_modified_gmt or "")

    # ------------------------------------------------------------------ products
    def get_products(self, product_ids: list[int]) -> list[Product]:
        self.product_calls += 1
        return [p for p in self.products if p.id in product_ids]

    # ------------------------------------------------------------------ coupons
    def create_coupon(self, data: dict[str, Any]) -> Coupon:
        self._maybe_fail("create_coupon", False)
        coupon_id = next(self.coupon_ids)
        self.coupons[coupon_id] = dict(data)
        self._maybe_fail("create_coupon", True)
        return Coupon(id=coupon_id, code=data["code"])

    def update_coupon(self, coupon_id: int, data: dict[str, Any]) -> Coupon:
        self.coupons[coupon_id].update(data)
        return Coupon(id=coupon_id, code=self.coupons[coupon_id]["code"])

    def find_coupon(self, code: str) -> Coupon | None:
        self.found.append(code)
        found = next((i for i, c in self.coupons.items() if c["code"] == code), None)
        return Coupon(id=found, code=code) if found else None

    # ------------------------------------------------------------------ webhooks
    def list_webhooks(self) -> list[Webhook]:
        return [hook.model_copy() for hook in self.webhooks]

    def create_webhook(self, *, name: str, topic: str, delivery_url: str, secret: str) -> Webhook:
        hook = Webhook(id=len(self.webhooks) + 1, name=name, status="active", topic=topic, delivery_url=delivery_url)
        self.webhooks.append(hook)
        self.webhook_secrets[hook.id] = secret
        self.webhook_writes.append(("POST", hook.id, {"topic": topic}))
        return hook.model_copy()

    def update_webhook(self, webhook_id: int, data: Mapping[str, Any]) -> Webhook:
        hook = next(h for h in self.webhooks if h.id == webhook_id)
        self.webhook_writes.append(("PUT", webhook_id, dict(data)))
        if "secret" in data:
            self.webhook_secrets[webhook_id] = data["secret"]
        if "status" in data and not self.refuse_status:
            hook.status = data["status"]
        return hook.model_copy()


class Clock:
    """A clock a test moves by hand (``clock.now += timedelta(...)``)."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def sample_payment(**changes: object) -> Payment:
    """An authorized payment of 30.00 for order 49 by user 101, with ``changes`` applied."""
    base = Payment(
        payment_id="pay_" + "0" * 24,
        order_id=49,
        user_id="101",
        amount=Decimal("30.00"),
        status=PaymentStatus.AUTHORIZED,
        token="tpm_secret",
        token_hash="h",
        created_at="2026-11-23T10:00:00.000000+00:00",
        hold_expires_at="2026-11-23T11:00:00.000000+00:00",
        steps={name: Step() for name in CAPTURE_STEPS},
    )
    return base.model_copy(update=changes)
