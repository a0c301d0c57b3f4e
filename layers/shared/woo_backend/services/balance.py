"""Topomer balance payments: the use cases the HTTP API runs (reads, authorize, void, capture).

Money safety, in short:
- Holds: an authorization raises the user's held total in the same transaction that records the
  payment, conditioned on the total's version, so two payments can never together hold more than the
  balance Topomer showed.
- Capture: Topomer takes absolute balances, so captures of one user are serialized by a lease in
  DynamoDB; the debit's arithmetic (balance before, balance written) is recorded before the call and
  checked against Topomer's balance on any retry, so the debit lands exactly once (``capture``).
- Every step is recorded before and after it runs; a failed step is retried by the sync
  (``balance_sync``), with backoff, and after a bounded number of failures the payment is marked
  ``needs_attention`` (with a metric).

WooCommerce's order events (webhook and poll) and the scheduled sync are in ``balance_sync``, the
reconciliation of balances in ``balance_reconcile``; the wiring in ``bootstrap.balance``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from decimal import Decimal

from woo_backend.backoff import sleep_backoff
from woo_backend.clock import Clock, iso, utcnow
from woo_backend.domain.balance import (
    CAPTURE_STEPS,
    Authorization,
    CustomerBalance,
    InvalidShopperToken,
    InvalidToken,
    OrderHasPayment,
    OrderHasPaymentRecord,
    OrderNotFound,
    Payment,
    PaymentNotFound,
    PaymentStatus,
    StaleHolds,
    StatusChanged,
    Step,
    TokenExpired,
    UserHolds,
)
from woo_backend.domain.balance_rules import (
    available,
    check_can_hold,
    check_capturable,
    check_order_payable,
    check_voidable,
)
from woo_backend.errors import Busy, DomainError, UpstreamError, UpstreamNotFound
from woo_backend.observability import metrics
from woo_backend.services.balance_ports import HoldRecords, OrdersApi, PaymentRecords, TopomerApi, reload
from woo_backend.services.capture import LEASE_WAIT_SECONDS, CaptureRunner
from woo_backend.settings import BalanceSettings
from woo_backend.topomer import TopomerUser
from woo_backend.woocommerce import Order

MAX_HOLD_ATTEMPTS = 40


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class BalanceService:
    def __init__(
        self,
        payments: PaymentRecords,
        holds: HoldRecords,
        captures: CaptureRunner,
        topomer: TopomerApi,
        orders: OrdersApi,
        settings: BalanceSettings,
        clock: Clock = utcnow,
    ) -> None:
        self.payments = payments
        self.holds = holds
        self.captures = captures
        self.topomer = topomer
        self.orders = orders
        self.settings = settings
        self.clock = clock

    # -------------------------------------------------------------- reads
    def _user(self, token: str) -> TopomerUser:
        try:
            return self.topomer.get_user_by_token(token)
        except UpstreamNotFound:
            # Unknown (404) or refused (400/401/403 with a fresh access token): the customer's token, never a 502.
            raise InvalidToken("Topomer does not accept this token") from None

    def _held(self, user_id: str) -> Decimal:
        holds = self.holds.get_holds(user_id)
        return holds.held if holds else Decimal(0)

    def balance(self, token: str) -> CustomerBalance:
        user = self._user(token)
        if user.expired:
            raise TokenExpired("this Topomer token has expired")
        return CustomerBalance(
            user_id=str(user.id),
            email=user.email,
            balance=user.balance,
            available=available(user.balance, self._held(str(user.id))),
            expired=user.expired,
        )

    def shopper_balance(self, shopper_id: str, shopper_token: str) -> Decimal:
        try:
            return self.topomer.shopper_balance(shopper_id, shopper_token).balance
        except UpstreamNotFound:
            raise InvalidShopperToken("Topomer does not know this shopper and token") from None

    def payment(self, payment_id: str, token: str | None) -> Payment:
        """The payment, if ``token`` is the one that authorized it (``None``: a trusted caller)."""
        payment = reload(self.payments, payment_id)
        # One answer for "no such payment" and "not yours": the API does not confirm that an id exists.
        if token is not None and not hmac.compare_digest(payment.token_hash, token_hash(token)):
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
            existing = self.payments.payment_id_for_order(order_id)
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
            created_at=iso(now),
            hold_expires_at=iso(now + timedelta(minutes=float(self.settings.hold_ttl_minutes))),
            steps={name: Step() for name in CAPTURE_STEPS},
        )
        holds: UserHolds | None = self.holds.get_holds(user_id)
        for attempt in range(MAX_HOLD_ATTEMPTS):
            held = holds.held if holds else Decimal(0)
            try:
                held_after = check_can_hold(user.balance, user.expired, held, amount)
            except DomainError:
                # Refused on its own; but a retry for an order already paid gets that order's payment.
                existing = self.payments.payment_id_for_order(order_id)
                if existing is not None:
                    return self._existing_authorization(existing, user, amount)
                raise
            try:
                self.payments.authorize(payment, holds, held_after, user.balance)
            except OrderHasPaymentRecord as linked:
                return self._existing_authorization(linked.payment_id, user, amount)
            except StaleHolds as stale:
                holds = stale.current
                sleep_backoff(attempt, base=0.002, cap=0.1)  # full jitter: contenders spread apart
                continue
            metrics.add_metric(name="PaymentAuthorized", unit="Count", value=1)
            return Authorization(
                payment_id=payment.payment_id,
                order_id=order_id,
                status=payment.status,
                amount=amount,
                available_after=available(user.balance, held_after),
                currency=payment.currency,
            )
        # Contention, not a short balance: every try met holds moved by another payment. 503, retry.
        raise Busy("the balance is being held by many payments at once; retry shortly")

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
        payment = self.payments.get_payment(payment_id)
        if payment is None or payment.user_id != str(user.id) or payment.amount != amount:
            raise OrderHasPayment("this order already has a different Topomer payment")
        return Authorization(
            payment_id=payment.payment_id,
            order_id=payment.order_id,
            status=payment.status,
            amount=payment.amount,
            available_after=available(user.balance, self._held(payment.user_id)),
            currency=payment.currency,
            created=False,
        )

    # -------------------------------------------------------------- void
    def void(self, payment_id: str, token: str | None) -> Payment:
        payment = self.payment(payment_id, token)
        check_voidable(payment)
        if payment.status is PaymentStatus.AUTHORIZED and not self.payments.release(
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
            payment = self.payments.set_status(
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
        return self.captures.run(payment, order, wait=LEASE_WAIT_SECONDS)
