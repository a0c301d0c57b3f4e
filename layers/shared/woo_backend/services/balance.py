"""Topomer balance payments: authorize (hold), capture (three recorded steps), void, and the sync.

Money safety, in short:
- Holds: an authorization raises the user's held total in the same transaction that records the
  payment, conditioned on the total's version, so two payments can never together hold more than the
  balance Topomer showed.
- Capture: Topomer takes absolute balances, so captures of one user are serialized by a lease in
  DynamoDB; the debit's arithmetic (balance before, balance written) is recorded before the call and
  checked against Topomer's balance on any retry, so the debit lands exactly once.
- Every step is recorded before and after it runs; a failed step is retried by the sync, with backoff,
  and after a bounded number of failures the payment is marked ``needs_attention`` (with a metric).
"""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from woo_backend.domain.balance import (
    CAPTURE_STEPS,
    ORDER_GONE,
    Authorization,
    DebitDecision,
    InsufficientBalance,
    InvalidToken,
    OrderEvent,
    OrderHasPayment,
    OrderNotFound,
    Payment,
    PaymentNotFound,
    PaymentStatus,
    Step,
    StepName,
    StepStatus,
    TokenExpired,
    UserHolds,
    available,
    capture_mismatch,
    check_can_hold,
    check_capturable,
    check_order_payable,
    check_voidable,
    debit_unstarted,
    drift,
    due,
    mismatch_note,
    money,
    next_step,
    note_marker,
    order_event,
    order_needs_hold,
    plan_debit,
    retry_delay,
)
from woo_backend.errors import DomainError, ErrorKind, UpstreamError, UpstreamInvalidResponse, UpstreamNotFound
from woo_backend.http import UpstreamOutcomeUnknown
from woo_backend.observability import logger, metrics
from woo_backend.services.order_poll import poll_orders
from woo_backend.settings import BalanceSettings, TopomerSettings, WooCommerceSettings
from woo_backend.store.balance import (
    DebitInFlight,
    OrderHasPaymentRecord,
    PaymentsStore,
    StaleHolds,
    StatusChanged,
)
from woo_backend.topomer import ShopperBalance, TopomerClient, TopomerOrder, TopomerOrderItem, TopomerUser
from woo_backend.woocommerce import Order, OrderNote, WooCommerceClient

MAX_HOLD_ATTEMPTS = 40
LEASE_TTL = timedelta(seconds=60)  # longer than any capture (the function times out at 15 s)
LEASE_WAIT_SECONDS = 5.0
RECONCILE_CURSOR = "RECONCILE"
RECONCILE_OVERLAP = timedelta(minutes=1)


class TopomerApi(Protocol):
    """What payments need of Topomer."""

    def get_user_by_token(self, token: str) -> TopomerUser: ...

    def update_balance(self, token: str, user_id: int | str, new_balance: Decimal) -> None: ...

    def expire_token(self, token: str) -> None: ...

    def record_order(self, order: TopomerOrder, idempotency_key: str) -> None: ...

    def shopper_balance(self, shopper_id: str, shopper_token: str) -> ShopperBalance: ...


class OrdersApi(Protocol):
    """What payments need of WooCommerce."""

    def get_order(self, order_id: int) -> Order: ...

    def orders_modified_after(self, modified_after_gmt: str) -> Iterable[Order]: ...

    def update_order(self, order_id: int, data: Mapping[str, Any]) -> Order: ...

    def order_notes(self, order_id: int) -> list[OrderNote]: ...

    def add_order_note(self, order_id: int, note: str) -> OrderNote: ...


class DebitBlocked(UpstreamError):
    """Another debit of the same customer must finish first; retried like an upstream failure."""

    kind = ErrorKind.UNAVAILABLE
    code = "debit_blocked"

    def __init__(self, message: str) -> None:
        super().__init__("topomer", message)


class WriteNotLanded(UpstreamError):
    """Topomer took a write (2xx) but reading back shows it not applied (yet); the step is run again later."""

    kind = ErrorKind.UNAVAILABLE
    code = "write_not_landed"

    def __init__(self, message: str) -> None:
        super().__init__("topomer", message)


# The start of a parked order report's ``last_error``: its fate at Topomer is unknown and a person decides.
ORDER_REPORT_UNKNOWN = "order_report_unknown"


class InvalidShopperToken(DomainError):
    kind = InvalidToken.kind
    code = "invalid_shopper_token"


def utcnow() -> datetime:
    return datetime.now(UTC)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def _describe(exc: UpstreamError) -> str:
    return f"{exc.code}: {exc.message}"[:300]


class BalanceService:
    def __init__(
        self,
        store: PaymentsStore,
        topomer: TopomerApi,
        orders: OrdersApi,
        settings: BalanceSettings,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.topomer = topomer
        self.orders = orders
        self.settings = settings
        self.clock = clock

    @classmethod
    def from_env(cls) -> BalanceService:
        """The service a Lambda container builds at cold start: real store and clients, settings from the env."""
        settings = BalanceSettings.from_env()
        return cls(
            PaymentsStore(settings.table),
            TopomerClient(TopomerSettings.from_env()),
            WooCommerceClient(WooCommerceSettings.from_env()),
            settings,
        )

    # -------------------------------------------------------------- reads
    def _user(self, token: str) -> TopomerUser:
        try:
            return self.topomer.get_user_by_token(token)
        except UpstreamNotFound:
            # Unknown (404) or refused (400/401/403 with a fresh access token): the customer's token, never a 502.
            raise InvalidToken("Topomer does not accept this token") from None

    def balance(self, token: str) -> dict[str, object]:
        user = self._user(token)
        if user.expired:
            raise TokenExpired("this Topomer token has expired")
        holds = self.store.get_holds(str(user.id))
        held = holds.held if holds else Decimal(0)
        return {
            "user_id": str(user.id),
            "email": user.email,
            "balance": money(user.balance),
            "available": money(available(user.balance, held)),
            "expired": user.expired,
        }

    def shopper_balance(self, shopper_id: str, shopper_token: str) -> dict[str, str]:
        try:
            balance = self.topomer.shopper_balance(shopper_id, shopper_token)
        except UpstreamNotFound:
            raise InvalidShopperToken("Topomer does not know this shopper and token") from None
        return {"shopper_id": shopper_id, "balance": money(balance.balance)}

    def payment(self, payment_id: str, token: str | None) -> Payment:
        """The payment, if ``token`` is the one that authorized it (``None``: a trusted caller)."""
        payment = self.store.get_payment(payment_id)
        # One answer for "no such payment" and "not yours": the API does not confirm that an id exists.
        if payment is None or (token is not None and not hmac.compare_digest(payment.token_hash, token_hash(token))):
            raise PaymentNotFound("no payment with this id for this token")
        return payment

    # -------------------------------------------------------------- authorize
    def authorize(self, token: str, order_id: int, amount: Decimal) -> Authorization:
        """Hold ``amount`` for the order, which must exist, be unpaid, be in our currency and total ``amount``."""
        user = self._user(token)
        user_id = str(user.id)
        try:
            self._check_order(order_id, amount)
        except UpstreamError:
            raise  # WooCommerce down: 503, nothing held
        except DomainError:
            # Refused on its own; but a retry for an order that has this payment (paid since) gets it.
            existing = self.store.payment_id_for_order(order_id)
            if existing is not None:
                return self._existing_authorization(existing, user, amount)
            raise
        now = self.clock()
        payment = Payment(
            payment_id=f"pay_{secrets.token_hex(12)}",
            order_id=order_id,
            user_id=user_id,
            amount=amount,
            currency=self.settings.currency,
            status=PaymentStatus.AUTHORIZED,
            token=token,
            token_hash=token_hash(token),
            created_at=_iso(now),
            hold_expires_at=_iso(now + timedelta(minutes=float(self.settings.hold_ttl_minutes))),
            steps={name: Step() for name in CAPTURE_STEPS},
        )
        holds: UserHolds | None = self.store.get_holds(user_id)
        for attempt in range(MAX_HOLD_ATTEMPTS):
            held = holds.held if holds else Decimal(0)
            try:
                held_after = check_can_hold(user.balance, user.expired, held, amount)
            except DomainError:
                # Refused on its own; but a retry for an order already paid gets that order's payment.
                existing = self.store.payment_id_for_order(order_id)
                if existing is not None:
                    return self._existing_authorization(existing, user, amount)
                raise
            try:
                self.store.authorize(payment, holds, held_after, user.balance)
            except OrderHasPaymentRecord as linked:
                return self._existing_authorization(linked.payment_id, user, amount)
            except StaleHolds as stale:
                holds = stale.current
                time.sleep(random.uniform(0, min(0.1, 0.002 * 2**attempt)))  # full jitter
                continue
            metrics.add_metric(name="PaymentAuthorized", unit="Count", value=1)
            return Authorization(
                payment_id=payment.payment_id,
                order_id=order_id,
                status=payment.status,
                amount=money(amount),
                available_after=money(available(user.balance, held_after)),
                currency=payment.currency,
            )
        raise InsufficientBalance("the balance is being held by many payments at once; retry shortly")

    def _check_order(self, order_id: int, amount: Decimal) -> None:
        try:
            order = self.orders.get_order(order_id)
        except UpstreamNotFound:
            raise OrderNotFound(f"the shop has no order {order_id}") from None
        check_order_payable(
            order_id=order_id,
            status=order.status,
            date_paid_gmt=order.date_paid_gmt,
            total=order.total,
            order_currency=order.currency,
            amount=amount,
            currency=self.settings.currency,
        )

    def _existing_authorization(self, payment_id: str, user: TopomerUser, amount: Decimal) -> Authorization:
        """A second payment for an order gets the first back, if it is the same payer and amount."""
        payment = self.store.get_payment(payment_id)
        if payment is None or payment.user_id != str(user.id) or payment.amount != amount:
            raise OrderHasPayment("this order already has a different Topomer payment")
        holds = self.store.get_holds(payment.user_id)
        after = available(user.balance, holds.held if holds else Decimal(0))
        return Authorization(
            payment_id=payment.payment_id,
            order_id=payment.order_id,
            status=payment.status,
            amount=money(payment.amount),
            available_after=money(after),
            currency=payment.currency,
            created=False,
        )

    # -------------------------------------------------------------- void
    def void(self, payment_id: str, token: str | None) -> Payment:
        payment = self.payment(payment_id, token)
        check_voidable(payment)
        if payment.status is PaymentStatus.AUTHORIZED and not self.store.release(
            payment, PaymentStatus.VOIDED, self.clock()
        ):
            payment = self.payment(payment_id, None)  # a capture started meanwhile
            check_voidable(payment)
            return payment
        metrics.add_metric(name="PaymentVoided", unit="Count", value=1)
        return self.payment(payment_id, None)

    # -------------------------------------------------------------- capture
    def capture(self, payment_id: str, token: str | None, order: Order | None = None) -> Payment:
        try:
            # Conditioned on the status and the token: the common case needs no read first.
            payment = self.store.set_status(
                payment_id,
                PaymentStatus.CAPTURE_PENDING,
                (PaymentStatus.AUTHORIZED, PaymentStatus.CAPTURE_PENDING),
                self.clock(),
                token_hash=token_hash(token) if token is not None else None,
            )
        except StatusChanged:
            payment = self.payment(payment_id, token)  # unknown, not this token's, or not capturable
            check_capturable(payment)
            return payment
        return self._run_capture(payment, order, wait=LEASE_WAIT_SECONDS)

    def _run_capture(self, payment: Payment, order: Order | None, wait: float) -> Payment:
        """Run the steps not done yet under the user's lease; the payment as it ends up."""
        owner = f"capture-{secrets.token_hex(8)}"
        deadline = time.monotonic() + wait
        delay = 0.02
        while not self.store.acquire_lease(payment.user_id, owner, self.clock(), LEASE_TTL):
            if time.monotonic() >= deadline:
                logger.info("capture waits for another capture of the same user", extra={"payment": payment.payment_id})
                return payment  # still capture_pending: the sync finishes it
            time.sleep(random.uniform(delay / 2, delay))
            delay = min(delay * 2, 0.5)
        try:
            payment = self.payment(payment.payment_id, None)  # as it is now that the lease is ours
            if debit_unstarted(payment):
                # Before any money moves: the order must still be what was authorized.
                order, stopped = self._check_capture_order(payment, order)
                if stopped is not None:
                    return stopped
            return self._run_steps(payment, order)
        finally:
            self.store.release_lease(payment.user_id, owner)

    def _check_capture_order(self, payment: Payment, order: Order | None) -> tuple[Order | None, Payment | None]:
        """The order to capture against (the webhook's body, the polled one, or read now), or the payment
        as it ends up when the capture must not go on (stopped for a person, or waiting for WooCommerce)."""
        if order is None or order.id != payment.order_id:
            try:
                order = self.orders.get_order(payment.order_id)
            except UpstreamNotFound:
                return None, self._stop_capture(payment, ORDER_GONE, hold=False)
            except UpstreamError as exc:
                attempts = payment.step(StepName.DEBIT).attempts + 1
                started = Step(status=StepStatus.RUNNING, attempts=attempts, started_at=_iso(self.clock()))
                return None, self._step_failed(payment, StepName.DEBIT, started, exc)
        reason = capture_mismatch(
            amount=payment.amount,
            currency=payment.currency or self.settings.currency,
            total=order.total,
            order_currency=order.currency,
        )
        if reason is None:
            return order, None
        return order, self._stop_capture(payment, reason, hold=True)

    def _stop_capture(self, payment: Payment, reason: str, *, hold: bool) -> Payment:
        """No money moves: ``needs_attention`` with the reason, then the order is put on hold with a note."""
        try:
            payment = self.store.stop_capture(payment.payment_id, reason, Step() if hold else None, self.clock())
        except StatusChanged:
            return self.payment(payment.payment_id, None)
        metrics.add_metric(name="CaptureNeedsAttention", unit="Count", value=1)
        logger.error(
            "capture stopped: the payment does not match its order",
            extra={"payment": payment.payment_id, "order_id": payment.order_id, "reason": reason},
        )
        return self._hold_order(payment) if hold else payment

    def _hold_order(self, payment: Payment) -> Payment:
        """The ``hold_order`` step: the order on hold and one note for the shop, recorded like a capture step."""
        now = self.clock()
        started = Step(
            status=StepStatus.RUNNING, attempts=payment.step(StepName.HOLD_ORDER).attempts + 1, started_at=_iso(now)
        )
        try:
            payment = self.store.record_step(payment.payment_id, StepName.HOLD_ORDER, started)
            self._put_on_hold_with_note(payment)
            done = started.model_copy(update={"status": StepStatus.DONE, "done_at": _iso(self.clock())})
            return self.store.record_step(payment.payment_id, StepName.HOLD_ORDER, done)
        except StatusChanged:
            return self.payment(payment.payment_id, None)
        except UpstreamError as exc:
            logger.warning(
                "putting the order on hold failed; the sync retries it",
                extra={"payment": payment.payment_id, "order_id": payment.order_id, "code": exc.code},
            )
            delay = retry_delay(started.attempts, self.settings.capture_retry_base_seconds)
            failed = started.model_copy(
                update={
                    "status": StepStatus.RETRY,
                    "last_error": _describe(exc),
                    "next_attempt_at": _iso(self.clock() + delay),
                }
            )
            try:
                return self.store.record_step(payment.payment_id, StepName.HOLD_ORDER, failed)
            except StatusChanged:
                return self.payment(payment.payment_id, None)

    def _put_on_hold_with_note(self, payment: Payment) -> None:
        """Each half is looked up first, so a retry after a lost answer neither undoes nor duplicates anything."""
        try:
            order = self.orders.get_order(payment.order_id)
        except UpstreamNotFound:
            logger.warning("the order to put on hold is gone from the shop", extra={"order_id": payment.order_id})
            return
        if order_needs_hold(order.status):
            held = self.orders.update_order(order.id, {"status": "on-hold"})
            if held.status != "on-hold":
                raise UpstreamInvalidResponse("woocommerce", f"the order is {held.status} after it was put on hold")
        marker = note_marker(payment.payment_id)
        if not any(marker in note.note for note in self.orders.order_notes(order.id)):
            self.orders.add_order_note(order.id, mismatch_note(payment.payment_id, payment.reason or ""))

    def _run_steps(self, payment: Payment, order: Order | None) -> Payment:
        while (name := next_step(payment)) is not None:
            if payment.status not in (PaymentStatus.CAPTURE_PENDING, PaymentStatus.NEEDS_ATTENTION):
                return payment
            step = payment.step(name)
            attempt = step.attempts + 1
            started = Step(status=StepStatus.RUNNING, attempts=attempt, started_at=_iso(self.clock()))
            try:
                if name is StepName.DEBIT:
                    payment = self._debit(payment, started)
                    if payment.step(StepName.DEBIT).status is not StepStatus.DONE:
                        return payment  # drifted: needs a person
                    continue
                if name is StepName.EXPIRE_TOKEN:
                    payment = self._expire_token(payment, started)
                else:
                    payment = self._record_order(payment, order, started)
                    if payment.step(name).status is not StepStatus.DONE:
                        return payment  # parked: its fate at Topomer is unknown, a person decides
            except UpstreamError as exc:
                return self._step_failed(payment, name, started, exc)
            except StatusChanged:
                return self.payment(payment.payment_id, None)
        try:
            payment = self.store.finish_capture(payment.payment_id, self.clock())
        except StatusChanged:
            return self.payment(payment.payment_id, None)
        metrics.add_metric(name="PaymentCaptured", unit="Count", value=1)
        logger.info("payment captured", extra={"payment": payment.payment_id, "order_id": payment.order_id})
        return payment

    def _debit(self, payment: Payment, started: Step) -> Payment:
        for _ in range(2):
            current = self.topomer.get_user_by_token(payment.token).balance
            decision, before, after = plan_debit(payment, current)
            if decision is DebitDecision.DRIFTED:
                return self._debit_drifted(payment, started, before, after)
            try:
                payment = self.store.start_debit(payment, started, before, after)
            except DebitInFlight as other:
                # Finish the other payment's debit first (this run holds the user's lease), then look again.
                blocking = self.store.get_payment(other.payment_id)
                if blocking is None or blocking.payment_id == payment.payment_id:
                    raise
                logger.info("finishing an earlier debit of the same user first", extra={"payment": other.payment_id})
                self._run_steps(blocking, None)
                continue
            # The recorded plan wins over this attempt's: the first attempt's arithmetic is the one applied.
            if payment.balance_before is not None and payment.balance_after is not None:
                before, after = payment.balance_before, payment.balance_after
            if decision is DebitDecision.SEND:
                self.topomer.update_balance(payment.token, payment.user_id, after)
                # A 2xx only says Topomer took the write. Whether it landed is read back and judged by the
                # same arithmetic as a retry: the balance written is done; the balance before is "not
                # applied" (the sync runs the step again, and sees a late landing as done); anything else is
                # a drift for a person.
                landed = self.topomer.get_user_by_token(payment.token).balance
                decision, _, _ = plan_debit(payment, landed)
                if decision is DebitDecision.DRIFTED:
                    return self._debit_drifted(payment, started, before, after)
                if decision is DebitDecision.SEND:
                    raise WriteNotLanded("update-solde was taken but Topomer still shows the balance before")
            done = started.model_copy(update={"status": StepStatus.DONE, "done_at": _iso(self.clock())})
            return self.store.finish_debit(payment, done, after, self.clock())
        raise DebitBlocked("an earlier debit of this customer is not finished yet")

    def _debit_drifted(self, payment: Payment, started: Step, before: Decimal, after: Decimal) -> Payment:
        metrics.add_metric(name="CaptureNeedsAttention", unit="Count", value=1)
        logger.error(
            "debit cannot be decided: Topomer's balance is neither the one before nor the one written",
            extra={"payment": payment.payment_id, "expected_before": str(before), "expected_after": str(after)},
        )
        failed = started.model_copy(
            update={"status": StepStatus.RETRY, "last_error": "balance_drifted: Topomer's balance moved"}
        )
        return self.store.record_step(payment.payment_id, StepName.DEBIT, failed, status=PaymentStatus.NEEDS_ATTENTION)

    def _expire_token(self, payment: Payment, started: Step) -> Payment:
        payment = self.store.record_step(payment.payment_id, StepName.EXPIRE_TOKEN, started)
        self.topomer.expire_token(payment.token)
        # A 2xx only says Topomer took it: the token is expired when get-by-token says so.
        if not self.topomer.get_user_by_token(payment.token).expired:
            raise WriteNotLanded("update-expired was taken but Topomer does not show the token expired")
        done = started.model_copy(update={"status": StepStatus.DONE, "done_at": _iso(self.clock())})
        return self.store.record_step(payment.payment_id, StepName.EXPIRE_TOKEN, done)

    def _record_order(self, payment: Payment, order: Order | None, started: Step) -> Payment:
        """Report the paid order to Topomer exactly once, or park it for a person.

        Topomer has no way to look an order up, and a server may keep every POST it receives (nothing
        written says it deduplicates). So the report is sent again only after a failure that surely did
        not land (connection refused, a 4xx, a 500/503: ``_step_failed`` schedules the retry). When its
        fate is unknown (no answer once sent, a dropped connection, 502/504, or a run that stopped after
        marking the step running) the payment is parked as ``needs_attention`` and never resent on its
        own: a person checks Topomer, then marks the step ``done``, or sets it back to ``pending`` with the
        payment ``capture_pending`` and the sync sends it again. Nothing is lost (the payment stays open,
        counted by ``CaptureNeedsAttention``) and nothing is sent twice behind anyone's back. The
        ``Idempotency-Key`` (from the payment id) lets a server that honours it dedupe; nothing more is
        relied on.
        """
        previous = payment.step(StepName.RECORD_ORDER)
        if previous.status is StepStatus.RUNNING:
            return self._park_order_report(payment, started, "a run stopped after marking it sent")
        if previous.last_error and previous.last_error.startswith(ORDER_REPORT_UNKNOWN):
            return self._park_order_report(payment, started, previous.last_error)  # not cleared by a person
        record = self._order_record(payment, order)
        payment = self.store.record_step(payment.payment_id, StepName.RECORD_ORDER, started)
        try:
            self.topomer.record_order(record, idempotency_key=f"woo-backend-order-{payment.payment_id}")
        except UpstreamOutcomeUnknown as exc:
            return self._park_order_report(payment, started, exc.message)
        done = started.model_copy(update={"status": StepStatus.DONE, "done_at": _iso(self.clock())})
        return self.store.record_step(payment.payment_id, StepName.RECORD_ORDER, done)

    def _park_order_report(self, payment: Payment, started: Step, why: str) -> Payment:
        metrics.add_metric(name="CaptureNeedsAttention", unit="Count", value=1)
        logger.error(
            "order report outcome unknown: parked for a person",
            extra={"payment": payment.payment_id, "order_id": payment.order_id},
        )
        message = why
        if not why.startswith(ORDER_REPORT_UNKNOWN):
            message = (
                f"{ORDER_REPORT_UNKNOWN}: {why}. Check Topomer for order {payment.order_id}, then mark this step"
                " done, or set it pending (payment capture_pending) to send it again"
            )
        parked = started.model_copy(update={"status": StepStatus.RETRY, "last_error": message[:300]})
        try:
            return self.store.record_step(
                payment.payment_id, StepName.RECORD_ORDER, parked, status=PaymentStatus.NEEDS_ATTENTION
            )
        except StatusChanged:
            return self.payment(payment.payment_id, None)

    def _order_record(self, payment: Payment, order: Order | None) -> TopomerOrder:
        if order is None or order.id != payment.order_id:
            try:
                order = self.orders.get_order(payment.order_id)
            except UpstreamNotFound:
                order = None  # an order deleted from the shop: report what the payment knows
        items = [
            TopomerOrderItem(product_id=li.product_id, name=li.name, quantity=li.quantity, total=li.total)
            for li in (order.line_items if order else [])
        ]
        return TopomerOrder(
            order_id=payment.order_id,
            customer={"user_id": payment.user_id, "woocommerce_customer_id": order.customer_id if order else None},
            items=items,
            total=payment.amount,
            payment_method="topomer",
        )

    def _step_failed(self, payment: Payment, name: StepName, started: Step, exc: UpstreamError) -> Payment:
        now = self.clock()
        give_up = started.attempts >= self.settings.capture_max_attempts
        failed = started.model_copy(
            update={
                "status": StepStatus.RETRY,
                "last_error": _describe(exc),
                "next_attempt_at": _iso(now + retry_delay(started.attempts, self.settings.capture_retry_base_seconds)),
            }
        )
        status = PaymentStatus.NEEDS_ATTENTION if give_up else PaymentStatus.CAPTURE_PENDING
        logger.warning(
            "capture step failed",
            extra={"payment": payment.payment_id, "step": name.value, "attempt": started.attempts, "code": exc.code},
        )
        if give_up:
            metrics.add_metric(name="CaptureNeedsAttention", unit="Count", value=1)
        try:
            return self.store.record_step(payment.payment_id, name, failed, status=status)
        except StatusChanged:
            return self.payment(payment.payment_id, None)

    # -------------------------------------------------------------- orders (webhook and sync)
    def apply_order(self, order: Order) -> str:
        event = order_event(order.payment_method, order.status)
        if event is OrderEvent.IGNORE:
            return "ignored"
        payment_id = self.store.payment_id_for_order(order.id)
        if payment_id is None:
            logger.warning("Topomer order without a payment", extra={"order_id": order.id})
            metrics.add_metric(name="OrderWithoutPayment", unit="Count", value=1)
            return "no_payment"
        payment = self.payment(payment_id, None)
        if event is OrderEvent.CAPTURE:
            if payment.status in (PaymentStatus.VOIDED, PaymentStatus.EXPIRED):
                # Paid in the shop, but the hold is gone: a person must settle it.
                logger.error("paid order whose hold was released", extra={"order_id": order.id})
                metrics.add_metric(name="PaidOrderWithoutHold", unit="Count", value=1)
                return f"not_captured_{payment.status.value}"
            if payment.status is PaymentStatus.NEEDS_ATTENTION:
                return "needs_attention"
            return self.capture(payment_id, None, order).status.value
        if payment.status is PaymentStatus.AUTHORIZED:
            return self.void(payment_id, None).status.value
        return f"not_voided_{payment.status.value}"

    # -------------------------------------------------------------- the scheduled sync
    def sync(self, run_id: str) -> dict[str, int]:
        """One run: retry pending captures, expire old holds, poll orders, reconcile balances."""
        counts: dict[str, int] = {}

        def count(outcome: str, n: int = 1) -> None:
            counts[outcome] = counts.get(outcome, 0) + n

        for payment in self.store.open_payments(PaymentStatus.CAPTURE_PENDING):
            count(f"retry_{self.retry_capture(payment)}")
        for payment in self.store.open_payments(PaymentStatus.NEEDS_ATTENTION):
            if (held := self.retry_order_hold(payment)) is not None:
                count(f"hold_order_{held}")
        for payment in self.store.open_payments(PaymentStatus.AUTHORIZED):
            if self.expire_hold(payment):
                count("hold_expired")
        for outcome, n in poll_orders(self.orders, self.store.cursors, self.apply_order, self.clock()).items():
            count(f"order_{outcome}", n)
        count("drift", self.reconcile(run_id))
        return counts

    def retry_capture(self, payment: Payment) -> str:
        name = next_step(payment)
        if name is not None and not due(payment.step(name), self.clock()):
            return "not_due"
        return self._run_capture(payment, None, wait=0).status.value

    def retry_order_hold(self, payment: Payment) -> str | None:
        """Run a stopped payment's unfinished ``hold_order`` step when it is due; ``None`` when it has none."""
        step = payment.steps.get(StepName.HOLD_ORDER)
        if step is None or step.status is StepStatus.DONE:
            return None
        if not due(step, self.clock()):
            return "not_due"
        owner = f"hold-{secrets.token_hex(8)}"
        # The user's lease: no other run writes this order's note at the same time.
        if not self.store.acquire_lease(payment.user_id, owner, self.clock(), LEASE_TTL):
            return "busy"
        try:
            payment = self.payment(payment.payment_id, None)
            if payment.step(StepName.HOLD_ORDER).status is StepStatus.DONE:
                return StepStatus.DONE.value
            return self._hold_order(payment).step(StepName.HOLD_ORDER).status.value
        finally:
            self.store.release_lease(payment.user_id, owner)

    def expire_hold(self, payment: Payment) -> bool:
        now = self.clock()
        if datetime.fromisoformat(payment.hold_expires_at) >= now:
            return False
        released = self.store.release(payment, PaymentStatus.EXPIRED, now, only_before=_iso(now))
        if released:
            metrics.add_metric(name="HoldExpired", unit="Count", value=1)
            logger.info("hold expired", extra={"payment": payment.payment_id, "order_id": payment.order_id})
        return released

    def reconcile(self, run_id: str) -> int:
        """Compare Topomer's balance of each recently active user with the one expected; count drifts."""
        now = self.clock()
        cursor = self.store.cursors.get(RECONCILE_CURSOR) or ""
        since = _iso(datetime.fromisoformat(cursor) - RECONCILE_OVERLAP) if cursor else ""
        drifts = 0
        newest, skipped = cursor, False
        for user_id, last_activity in self.store.users_active_since(since):
            owner = f"reconcile-{run_id}"
            if not self.store.acquire_lease(user_id, owner, now, LEASE_TTL):
                skipped = True  # a capture is moving this balance right now: the next run looks again
                continue
            try:
                holds, token = self.store.get_holds(user_id), self.store.user_token(user_id)
                if holds is None or token is None:
                    continue
                try:
                    actual = self.topomer.get_user_by_token(token).balance
                except UpstreamError as exc:
                    logger.warning("reconciliation skipped a user", extra={"user_id": user_id, "code": exc.code})
                    skipped = True
                    continue
                difference = drift(holds.expected_balance, actual)
                if difference != 0 and self.store.record_drift(user_id, run_id, holds.expected_balance, actual, now):
                    drifts += 1
                    metrics.add_metric(name="BalanceDrift", unit="Count", value=1)
                    logger.warning(
                        "Topomer balance differs from the expected one",
                        extra={"user_id": user_id, "expected": str(holds.expected_balance), "actual": str(actual)},
                    )
                newest = max(newest, last_activity)
            finally:
                self.store.release_lease(user_id, owner)
        if newest and newest != cursor and not skipped:
            self.store.cursors.advance(RECONCILE_CURSOR, newest)
        return drifts
