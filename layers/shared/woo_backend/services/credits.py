"""Credits use cases: read, consume, list, and apply an order (webhook or sync) to the ledger.

The service keeps, per container, the last state it saw of each account. A consume sends one
transaction conditioned on that state's version, so it writes the exact balance in one round trip;
when the state moved, DynamoDB hands back the current one with the refusal and the consume retries.
The cache is never trusted for money: the condition is.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from datetime import datetime

from woo_backend.backoff import sleep_backoff
from woo_backend.clock import Clock, utcnow, woo_date
from woo_backend.domain.credits import (
    ConsumeAmount,
    ConsumeResult,
    CreditAccount,
    IdempotencyKeyReused,
    LedgerEntry,
    OrderAction,
    Replayed,
    StaleAccount,
    UnknownOrder,
    credits_for_order,
    order_action,
    parse_credits_meta,
    plan_consume,
    request_fingerprint,
    should_autocomplete,
)
from woo_backend.errors import Busy, DomainError
from woo_backend.observability import logger, mask_key, metrics
from woo_backend.services.credits_ports import CreditsLedger, OrderSource
from woo_backend.services.order_poll import poll_orders
from woo_backend.woocommerce import Order

MAX_CONSUME_ATTEMPTS = 40
CONTENTION_BACKOFF_BASE = 0.002
CONTENTION_BACKOFF_CAP = 0.1
STATE_CACHE_SIZE = 4096
PRODUCT_CACHE_SECONDS = 60.0


def new_transaction_id() -> str:
    return f"tx_{secrets.token_hex(12)}"


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
        self._states: OrderedDict[str, CreditAccount] = OrderedDict()
        self._product_credits: dict[int, tuple[int, float]] = {}
        self._lock = threading.Lock()

    # -------------------------------------------------------------- state cache
    def _remember(self, account: CreditAccount | None, order_key: str) -> None:
        with self._lock:
            if account is None:
                self._states.pop(order_key, None)
                return
            self._states[order_key] = account
            self._states.move_to_end(order_key)
            while len(self._states) > STATE_CACHE_SIZE:
                self._states.popitem(last=False)

    def _remembered(self, order_key: str) -> CreditAccount | None:
        with self._lock:
            return self._states.get(order_key)

    # -------------------------------------------------------------- reads
    def account(self, order_key: str) -> CreditAccount:
        account = self.store.get_account(order_key)
        self._remember(account, order_key)
        if account is None:
            raise UnknownOrder("no order has this key")
        return account

    def transactions(self, order_key: str, limit: int, cursor: str | None) -> tuple[list[LedgerEntry], str | None]:
        entries, next_cursor = self.store.ledger(order_key, limit, cursor)
        if not entries and cursor is None:
            self.account(order_key)  # an order with no entry yet, or no order at all (404)
        return entries, next_cursor

    # -------------------------------------------------------------- consume
    def consume(self, order_key: str, amount: ConsumeAmount, idempotency_key: str | None = None) -> ConsumeResult:
        fingerprint = request_fingerprint(amount)
        state = self._remembered(order_key)
        fresh = state is None
        if state is None:
            state = self.store.get_account(order_key)
        for attempt in range(MAX_CONSUME_ATTEMPTS):
            try:
                wanted = plan_consume(state, amount)
            except DomainError:
                if not fresh:  # decided on a remembered state: look again before refusing
                    state, fresh = self.store.get_account(order_key), True
                    self._remember(state, order_key)
                    continue
                replay = self._replay(order_key, idempotency_key, fingerprint)
                if replay is not None:  # the first request with this key succeeded: its answer stands
                    return replay
                raise
            assert state is not None
            if wanted == 0:  # "max" of an empty order takes nothing and writes nothing
                replay = self._replay(order_key, idempotency_key, fingerprint)
                return replay or ConsumeResult(order_id=state.order_id, consumed=0, balance=0, transaction_id="")
            try:
                result = self.store.consume(
                    state, wanted, new_transaction_id(), self.clock(), idempotency_key, fingerprint
                )
            except Replayed as replay:
                return self._checked_replay(replay, fingerprint)
            except StaleAccount as stale:
                state, fresh = stale.current, True
                self._remember(state, order_key)
                # Full-jitter backoff spreads the contenders out so each retry is likely to win.
                sleep_backoff(attempt, CONTENTION_BACKOFF_BASE, CONTENTION_BACKOFF_CAP)
                continue
            self._remember(
                state.model_copy(
                    update={
                        "balance": result.balance,
                        "consumed": state.consumed + wanted,
                        "version": state.version + 1,
                    }
                ),
                order_key,
            )
            metrics.add_metric(name="CreditsConsumed", unit="Count", value=wanted)
            return result
        logger.warning("consume gave up under contention", extra={"order": mask_key(order_key)})
        raise Busy("the order is being changed by many requests at once; retry shortly")

    def _replay(self, order_key: str, key: str | None, fingerprint: str) -> ConsumeResult | None:
        if key is None:
            return None
        replay = self.store.idempotency_record(order_key, key)
        return self._checked_replay(replay, fingerprint) if replay else None

    @staticmethod
    def _checked_replay(replay: Replayed, fingerprint: str) -> ConsumeResult:
        if replay.fingerprint != fingerprint:
            raise IdempotencyKeyReused("this Idempotency-Key was used with another request body")
        return replay.result

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
        for _ in range(MAX_CONSUME_ATTEMPTS):
            if state is None or state.granted_at is None:
                self.store.track_status(order.order_key, order.id, order.status, modified, close=True, now=now)
                return "closed"
            if state.closed_at is not None:
                return "already_revoked"
            try:
                self.store.revoke(state, order.status, modified, new_transaction_id(), now)
            except StaleAccount as stale:
                state = stale.current
                continue
            self._remember(None, order.order_key)
            metrics.add_metric(name="CreditsRevoked", unit="Count", value=state.balance)
            return "revoked"
        raise Busy("the order is being changed by many requests at once")

    def sync_orders(self) -> dict[str, int]:
        """Apply every order modified since the last run (with an overlap): catches missed webhooks."""
        assert self.orders is not None
        return poll_orders(self.orders, self.store.cursors, self.apply_order, self.clock())
