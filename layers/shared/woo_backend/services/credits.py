"""Credits use cases: read, consume, list, and apply an order (webhook or sync) to the ledger.

A consume is one conditional write of the order's state that DynamoDB applies to the balance as it is
(``store.credits`` says why that serializes parallel consumes of one order instead of failing them): there
is no state read before it, no version to go stale, so no retry and no 503 ``busy`` under contention. A
refusal comes back with the state the write found, and ``domain.credits.plan_consume`` names its reason.
"""

from __future__ import annotations

import secrets
import threading
import time
from datetime import datetime

from woo_backend.clock import Clock, utcnow, woo_date
from woo_backend.domain.credits import (
    ConsumeAmount,
    ConsumeRefused,
    ConsumeResult,
    CreditAccount,
    IdempotencyKeyReused,
    LedgerEntry,
    OrderAction,
    Replayed,
    UnknownOrder,
    credits_for_order,
    order_action,
    parse_credits_meta,
    plan_consume,
    request_fingerprint,
    should_autocomplete,
)
from woo_backend.errors import Busy
from woo_backend.observability import logger, metrics
from woo_backend.services.credits_ports import CreditsLedger, OrderSource
from woo_backend.services.order_poll import poll_orders
from woo_backend.woocommerce import Order

PRODUCT_CACHE_SECONDS = 60.0


def new_transaction_id() -> str:
    return f"tx_{secrets.token_hex(12)}"


def checked_replay(replay: Replayed, fingerprint: str) -> ConsumeResult:
    """The first answer to a key, if this request is the same (its fingerprint); else 422 (consume or adjustment)."""
    if replay.fingerprint != fingerprint:
        raise IdempotencyKeyReused("this Idempotency-Key was used with another request body")
    if replay.result is None:
        raise IdempotencyKeyReused("this Idempotency-Key was used before; its answer has expired")
    return replay.result


class CreditsService:
    def __init__(
        self,
        store: CreditsLedger,
        orders: OrderSource | None,
        meta_key: str = "_credits",
        clock: Clock = utcnow,
    ) -> None:
        self.store = store
        self.orders = orders
        self.meta_key = meta_key
        self.clock = clock
        self._product_credits: dict[int, tuple[int, float]] = {}
        self._lock = threading.Lock()

    # -------------------------------------------------------------- reads
    def account(self, order_key: str) -> CreditAccount:
        account = self.store.get_account(order_key)
        if account is None:
            raise UnknownOrder("no order has this key")
        return account

    def transactions(self, order_key: str, limit: int, cursor: str | None) -> tuple[list[LedgerEntry], str | None]:
        entries, next_cursor = self.store.ledger(order_key, limit, cursor, self.clock())
        if not entries and cursor is None:
            self.account(order_key)  # an order with no entry yet, or no order at all (404)
        return entries, next_cursor

    # -------------------------------------------------------------- consume
    def consume(self, order_key: str, amount: ConsumeAmount, idempotency_key: str | None = None) -> ConsumeResult:
        fingerprint = request_fingerprint(amount)
        if idempotency_key is not None:
            # A key the account item has let go (a minute after its answer was stored) answers from its record.
            replay = self._replay(order_key, idempotency_key, fingerprint)
            if replay is not None:
                return replay
        for _ in range(3):
            try:
                result = self.store.consume(
                    order_key, amount, new_transaction_id(), self.clock(), idempotency_key, fingerprint
                )
            except Replayed as replay:
                return checked_replay(replay, fingerprint)
            except ConsumeRefused as refused:
                if refused.current is None:
                    raise UnknownOrder("no order has this key") from None
                # Raises the reason (not completed, too few credits) from the state the write found.
                if plan_consume(refused.current, amount) == 0:  # "max" of an empty order: nothing taken or written
                    return ConsumeResult(order_id=refused.current.order_id, consumed=0, balance=0, transaction_id="")
                continue  # the refused state would allow it: only an account changing under a repair; once more
            metrics.add_metric(name="CreditsConsumed", unit="Count", value=result.consumed)
            return result
        raise Busy("the order keeps changing; retry shortly")

    def _replay(self, order_key: str, key: str | None, fingerprint: str) -> ConsumeResult | None:
        if key is None:
            return None
        replay = self.store.idempotency_record(order_key, key)
        return checked_replay(replay, fingerprint) if replay else None

    # -------------------------------------------------------------- orders
    def _credits_per_product(self, product_ids: list[int]) -> dict[int, int]:
        now = time.monotonic()
        with self._lock:
            known = {pid: c for pid, (c, expires) in self._product_credits.items() if expires > now}
        missing = sorted({pid for pid in product_ids if pid not in known})
        if missing:
            assert self.orders is not None
            fetched = {p.id: parse_credits_meta(p.meta(self.meta_key)) for p in self.orders.get_products(missing)}
            with self._lock:
                for pid in missing:  # a product that no longer exists carries no credits
                    self._product_credits[pid] = (fetched.get(pid, 0), now + PRODUCT_CACHE_SECONDS)
                    known[pid] = fetched.get(pid, 0)
        return {pid: known.get(pid, 0) for pid in product_ids}

    def apply_order(self, order: Order) -> str:
        """Bring the ledger in line with what the order says. Idempotent: any number of deliveries."""
        items = [(li.product_id, li.quantity) for li in order.line_items]
        credits_map = self._credits_per_product([pid for pid, _ in items])
        credits = credits_for_order(items, credits_map)
        if credits == 0:
            return "no_credits"
        if should_autocomplete(order.status, order.payment_method, items, credits_map):
            assert self.orders is not None
            order = self.orders.update_order(order.id, {"status": "completed"})
            logger.info("credits order completed on payment", extra={"order_id": order.id})
        now = self.clock()
        modified = order.date_modified_gmt or woo_date(now)
        action = order_action(order.status)
        if action is OrderAction.GRANT:
            granted = self.store.grant(order.order_key, order.id, credits, modified, new_transaction_id(), now)
            if granted:
                metrics.add_metric(name="CreditsGranted", unit="Count", value=credits)
                return "granted"
            self.store.track_status(order.order_key, order.id, order.status, modified, close=False, now=now)
            return "already_granted"
        if action is OrderAction.REVOKE:
            return self._revoke(order, modified, now)
        self.store.track_status(order.order_key, order.id, order.status, modified, close=False, now=now)
        return "tracked"

    def _revoke(self, order: Order, modified: str, now: datetime) -> str:
        state = self.store.get_account(order.order_key)
        if state is None or state.granted_at is None:
            self.store.track_status(order.order_key, order.id, order.status, modified, close=True, now=now)
            return "closed"
        revoked = self.store.revoke(order.order_key, order.status, modified, new_transaction_id(), now)
        if revoked is None:  # closed by another delivery since the read
            return "already_revoked"
        metrics.add_metric(name="CreditsRevoked", unit="Count", value=revoked)
        return "revoked"

    def sync_orders(self) -> dict[str, int]:
        """Apply every order modified since the last run (with an overlap): catches missed webhooks."""
        assert self.orders is not None
        return poll_orders(self.orders, self.store.cursors, self.apply_order, self.clock())
