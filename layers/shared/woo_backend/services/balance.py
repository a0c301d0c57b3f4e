"""Topomer balance payments: the use cases the HTTP API runs (reads, authorize, void, capture).

Money safety, in short:
- Holds: an authorization reserves its amount with one conditional write on the user's holds item
  (``held <= balance - amount``, one reservation per order), so payments can never together hold more than
  the balance Topomer showed, and racing authorizations of one user are serialized by DynamoDB instead of
  retried (``store.holds`` says why on the real engine). The steps and what a crash between them leaves are in
  ``BalanceService.authorize``.
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
    DebitsMoved,
    HoldRefused,
    InsufficientBalance,
    InvalidShopperToken,
    InvalidToken,
    OrderHasPayment,
    OrderHasPaymentRecord,
    OrderNotFound,
    OrderReserved,
    Payment,
    PaymentInProgress,
    PaymentNotFound,
    PaymentStatus,
    StatusChanged,
    Step,
    TokenExpired,
)
from woo_backend.domain.balance_rules import (
    available,
    check_can_hold,
    check_capturable,
    check_order_payable,
    check_voidable,
    hold_limit,
)
from woo_backend.errors import Busy, DomainError, UpstreamError, UpstreamNotFound
from woo_backend.observability import metrics
from woo_backend.services.balance_ports import HoldRecords, OrdersApi, PaymentRecords, TopomerApi, reload
from woo_backend.services.capture import LEASE_WAIT_SECONDS, CaptureRunner
from woo_backend.settings import BalanceSettings
from woo_backend.topomer import TopomerUser
from woo_backend.woocommerce import Order

# Looks (with growing waits, about 2 s in all) for the payment a racing request of the same order is linking.
LINK_WAIT_ATTEMPTS = 8
# A reservation refused because a capture ended meanwhile is tried once more, on a fresh read.
RESERVE_ATTEMPTS = 2


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
        """Hold ``amount`` for the order, which must exist, be unpaid, be in our currency and total ``amount``.

        Three writes, none a transaction on the user's hot holds item:
        1. the payment (authorized, with its hold's expiry), so whatever follows is findable by the sync;
        2. the reservation: one conditional ``UpdateItem`` on the holds item (``store.holds``): 402 if it does
           not fit; refused if a capture's debit ended a hold since the balance was read (read both again,
           ``_reserve``); another payment's reservation for this order: that payment is the order's (step 3),
           or, its link never written, adopted by a retry of the same payer (``_linked_authorization``);
        3. the order's link to the payment (one payment per order); lost to another payment: give the
           reservation back (conditioned on it, so once) and answer the order's payment.
        A refused authorization deletes its payment. A function that dies between the steps leaves an
        authorized payment nobody was told of, with or without its reservation: the sync's expiry closes it
        when its hold expires (minutes, far beyond the function's timeout) and gives back the reservation if
        there is one (``PaymentsStore.release``). So money is never held for good, and never held twice.
        """
        user = self._user(token)
        try:
            self._check_order(order_id, amount)
        except UpstreamError:
            raise  # WooCommerce down: 503, nothing held
        except DomainError as refusal:
            # Refused on its own; but a retry for an order that has this payment (paid since) gets it.
            return self._existing_or_raise(order_id, user, amount, refusal)
        now = self.clock()
        payment = Payment(
            payment_id=f"pay_{secrets.token_hex(12)}",
            order_id=order_id,
            user_id=str(user.id),
            amount=amount,
            currency=self.settings.currency,
            status=PaymentStatus.AUTHORIZED,
            token=token,
            token_hash=token_hash(token),
            created_at=iso(now),
            hold_expires_at=iso(now + timedelta(minutes=float(self.settings.hold_ttl_minutes))),
            steps={name: Step() for name in CAPTURE_STEPS},
            reserved=True,
        )
        try:
            held_after, user = self._reserve(payment, user)
        except OrderReserved as reserved:
            return self._linked_authorization(order_id, user, amount, token, reserved.payment_id)
        except DomainError as refusal:
            # Refused on its own; but a retry for an order already paid gets that order's payment.
            return self._existing_or_raise(order_id, user, amount, refusal)
        try:
            self.payments.link_order(payment)
        except OrderHasPaymentRecord as linked:
            self.holds.release_reservation(payment, self.clock())
            self.payments.discard(payment.payment_id)
            return self._existing_authorization(linked.payment_id, user, amount)
        metrics.add_metric(name="PaymentAuthorized", unit="Count", value=1)
        return Authorization(
            payment_id=payment.payment_id,
            order_id=order_id,
            status=payment.status,
            amount=amount,
            available_after=available(user.balance, held_after),
            currency=payment.currency,
        )

    def _reserve(self, payment: Payment, user: TopomerUser) -> tuple[Decimal, TopomerUser]:
        """Record the payment and reserve its hold; the user's held total after it and the user as last read
        (the balance the hold was checked against). A refusal deletes the payment.

        The reservation requires the holds item's count of debits to be what it was before the balance was
        read (``store.holds`` says why): a capture that ends in between makes it refused (``DebitsMoved``), and
        the holds and the balance are read again, once; a second loss in a row is 503 ``busy``.
        """
        debits, user = self._debits_then_balance(user, payment.token, again=False)
        limit = hold_limit(user.balance, user.expired, payment.amount)  # refused before any write
        self.payments.record_payment(payment)
        try:
            for attempt in range(RESERVE_ATTEMPTS):
                if attempt:
                    debits, user = self._debits_then_balance(user, payment.token, again=True)
                    limit = hold_limit(user.balance, user.expired, payment.amount)
                try:
                    return self.holds.reserve(payment, limit, user.balance, debits=debits), user
                except DebitsMoved:
                    continue
            raise Busy("the balance is being captured by another request; retry shortly")
        except HoldRefused as refused:
            self.payments.discard(payment.payment_id)
            # The refusal carries the holds it met: check_can_hold raises with the exact figures (no read to race).
            check_can_hold(
                user.balance, user.expired, refused.current.held if refused.current else user.balance, payment.amount
            )
            raise InsufficientBalance("the balance is held by other payments") from None
        except (OrderReserved, DomainError):
            self.payments.discard(payment.payment_id)
            raise

    def _debits_then_balance(self, user: TopomerUser, token: str, *, again: bool) -> tuple[int, TopomerUser]:
        """The holds item's count of debits, then a balance read after it. The first Topomer read (it gave the
        user's id) is kept while no debit was ever counted: a debit ending after it would have counted one."""
        holds = self.holds.get_holds(str(user.id))
        debits = holds.debits if holds else 0
        return debits, (self._user(token) if again or debits else user)

    def _linked_authorization(
        self, order_id: int, user: TopomerUser, amount: Decimal, token: str, reserved_by: str
    ) -> Authorization:
        """Another payment, ``reserved_by``, reserved for this order: its payment, once it is the order's.

        Its order link may never come: the write failed (a DynamoDB 5xx) after the reservation, which would
        block the order until the hold expires. A retry by the same payer adopts it instead (``_adopt``).
        """
        for attempt in range(LINK_WAIT_ATTEMPTS):
            linked = self.payments.payment_id_for_order(order_id)
            if linked is None and attempt == 0:
                linked = self._adopt(reserved_by, user, amount, token)
            if linked is not None:
                return self._existing_authorization(linked, user, amount)
            sleep_backoff(attempt, base=0.02, cap=0.5, floor=0.5)
        # The other payment's id is not shown: the request may not be its payer's.
        raise PaymentInProgress(f"a payment of order {order_id} is being authorized; retry to get it")

    def _adopt(self, payment_id: str, user: TopomerUser, amount: Decimal, token: str) -> str | None:
        """Link the order to the reserving payment if it is this request's twin: still authorized, of the same
        user, token and amount (the link is written for that payment alone, so a twin still running writes the
        same). Its id once it is the order's (or the order's other payment), ``None`` when it is not a twin."""
        payment = self.payments.get_payment(payment_id)
        if (
            payment is None
            or payment.status is not PaymentStatus.AUTHORIZED
            or payment.user_id != str(user.id)
            or payment.amount != amount
            or not hmac.compare_digest(payment.token_hash, token_hash(token))
        ):
            return None
        try:
            self.payments.link_order(payment)
        except OrderHasPaymentRecord as linked:
            return linked.payment_id
        return payment.payment_id

    def _existing_or_raise(
        self, order_id: int, user: TopomerUser, amount: Decimal, refusal: DomainError
    ) -> Authorization:
        """The order's payment for a retry of it, else the refusal."""
        existing = self.payments.payment_id_for_order(order_id)
        if existing is not None:
            return self._existing_authorization(existing, user, amount)
        raise refusal

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
