"""Balance authorizations against what can happen between their steps (moto, the shared fakes):
a capture of the same user ending after the balance was read, and an order link whose write failed."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from tests.fakes import sample_payment
from tests.integration.balance_fakes import TOKEN, Parts, hold, make_parts
from woo_backend.api import STATUS_BY_KIND
from woo_backend.domain.balance import (
    Authorization,
    DebitsMoved,
    HoldRefused,
    InsufficientBalance,
    Payment,
    PaymentInProgress,
    PaymentStatus,
    UserHolds,
)
from woo_backend.errors import Busy
from woo_backend.store.holds import HoldsStore, release_hold

# A second token of user 101 (TOKEN's user): a capture expires its token, the user keeps buying with another.
OTHER_TOKEN = "tok-101-b"


@pytest.fixture
def parts(aws: Any) -> Parts:
    made = make_parts(aws)
    made.topomer.ids[OTHER_TOKEN] = made.topomer.ids[TOKEN]
    made.topomer.balances[OTHER_TOKEN] = made.topomer.balances[TOKEN]
    return made


def _capture(parts: Parts, payment_id: str) -> None:
    """Capture a payment of ``OTHER_TOKEN``; the fake keeps a balance per token, Topomer one per user."""
    assert parts.service.capture(payment_id, OTHER_TOKEN).status is PaymentStatus.CAPTURED
    parts.topomer.balances[TOKEN] = parts.topomer.balances[OTHER_TOKEN]


def _holds(parts: Parts) -> UserHolds:
    holds = parts.store.holds.get_holds("101")
    assert holds is not None
    return holds


def _once(action: Any) -> Any:
    fired: list[bool] = []

    def run() -> None:
        if not fired:
            fired.append(True)
            action()

    return run


# ------------------------------------------------------------------ a capture ends while an authorization runs
def test_a_capture_ending_after_the_balance_read_is_not_counted_as_free_money(
    parts: Parts, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 150.00, 100.00 held for order 2000. The authorization reads 150.00; then 2000 is captured: Topomer shows
    # 50.00 and nothing is held. Checked against the old balance, 60.00 would fit (0 + 60 <= 150).
    captured = hold(parts, OTHER_TOKEN, 2000, "100.00")
    parts.shop.pending(2001, "60.00")
    capture = _once(lambda: _capture(parts, captured.payment_id))
    read = parts.topomer.get_user_by_token

    def read_then_capture(token: str) -> Any:
        user = read(token)
        if token == TOKEN:
            capture()
        return user

    monkeypatch.setattr(parts.topomer, "get_user_by_token", read_then_capture)
    with pytest.raises(InsufficientBalance, match=r"50\.00 is less than 60\.00") as refused:
        parts.service.authorize(TOKEN, 2001, Decimal("60.00"))
    assert STATUS_BY_KIND[refused.value.kind] == 402
    holds = _holds(parts)
    assert (holds.held, holds.debits) == (Decimal(0), 1)
    assert parts.store.payments.payment_id_for_order(2001) is None
    assert parts.store.payments.open_payments(PaymentStatus.AUTHORIZED) == []


@pytest.mark.parametrize(("amount", "fits"), [("60.00", False), ("40.00", True), ("50.00", True)])
def test_a_capture_ending_before_the_reservation_makes_it_read_again(
    parts: Parts, monkeypatch: pytest.MonkeyPatch, amount: str, fits: bool
) -> None:
    # The capture ends after the holds and the balance were read, just before the reservation is written: the
    # reservation is refused (the count of debits moved) and tried again on a fresh read.
    captured = hold(parts, OTHER_TOKEN, 2100, "100.00")
    parts.shop.pending(2101, amount)
    capture = _once(lambda: _capture(parts, captured.payment_id))
    record = parts.store.payments.record_payment

    def record_then_capture(payment: Payment) -> None:
        record(payment)
        capture()

    monkeypatch.setattr(parts.store.payments, "record_payment", record_then_capture)
    if not fits:
        with pytest.raises(InsufficientBalance, match=r"50\.00 is less than 60\.00"):
            parts.service.authorize(TOKEN, 2101, Decimal(amount))
        assert _holds(parts).held == 0
        assert parts.store.payments.open_payments(PaymentStatus.AUTHORIZED) == []  # the refused one is deleted
        return
    auth = parts.service.authorize(TOKEN, 2101, Decimal(amount))
    assert auth.created
    assert auth.available_after == Decimal("50.00") - Decimal(amount)  # the balance after the capture
    assert _holds(parts).held == Decimal(amount)
    assert parts.store.payments.payment_id_for_order(2101) == auth.payment_id


def test_a_reservation_that_loses_to_captures_twice_is_busy_and_leaves_nothing(
    parts: Parts, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts.shop.pending(2201, "5.00")
    tries: list[int] = []

    def moved(payment: Payment, limit: Decimal, balance_seen: Decimal, *, debits: int) -> Decimal:
        tries.append(debits)
        raise DebitsMoved(None)

    monkeypatch.setattr(parts.store.holds, "reserve", moved)
    with pytest.raises(Busy) as busy:
        parts.service.authorize(TOKEN, 2201, Decimal("5.00"))
    assert STATUS_BY_KIND[busy.value.kind] == 503
    assert tries == [0, 0]  # tried once more, then told
    assert parts.store.payments.open_payments(PaymentStatus.AUTHORIZED) == []


def test_only_a_debit_counts_void_and_expiry_do_not() -> None:
    payment = _payment()
    now = datetime(2026, 11, 23, 10, 5, tzinfo=UTC)
    debited = release_hold("PaymentsTable", payment, now, debited_to=Decimal("93.00"))["Update"]
    voided = release_hold("PaymentsTable", payment, now, require=True)["Update"]
    assert "#debits = if_not_exists(#debits, :zero) + :one" in debited["UpdateExpression"]
    assert "#debits" not in voided["UpdateExpression"]


# ------------------------------------------------------------------ the refusal, as the real engine answers it
def _payment() -> Payment:
    return sample_payment(
        payment_id="pay_" + "b" * 24, order_id=8, amount=Decimal("7.00"), token=TOKEN, steps={}, reserved=True
    )


def _refused_with(old: dict[str, Any], debits: int) -> tuple[Exception, dict[str, Any]]:
    client = boto3.client("dynamodb", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    sent: dict[str, Any] = {}
    client.meta.events.register("provide-client-params.dynamodb.UpdateItem", lambda params, **_: sent.update(params))
    stub = Stubber(client)
    stub.add_client_error("update_item", "ConditionalCheckFailedException", "refused", modeled_fields={"Item": old})
    with stub, pytest.raises((DebitsMoved, HoldRefused)) as refused:
        HoldsStore("PaymentsTable", client).reserve(_payment(), Decimal("93.00"), Decimal("100.00"), debits=debits)
    return refused.value, sent


def test_a_reservation_refused_because_a_debit_ended_says_so() -> None:
    old = {"user_id": {"S": "101"}, "held": {"N": "0"}, "version": {"N": "4"}, "debits": {"N": "3"}}
    refusal, sent = _refused_with(old, debits=2)
    assert isinstance(refusal, DebitsMoved)
    assert sent["ConditionExpression"].endswith("AND #debits = :debits")
    assert sent["ExpressionAttributeValues"][":debits"] == {"N": "2"}


def test_a_reservation_refused_with_the_debits_it_read_does_not_fit() -> None:
    old = {"user_id": {"S": "101"}, "held": {"N": "95.00"}, "version": {"N": "4"}, "debits": {"N": "2"}}
    refusal, _ = _refused_with(old, debits=2)
    assert isinstance(refusal, HoldRefused)
    assert refusal.current is not None
    assert refusal.current.held == Decimal("95.00")


def test_a_first_reservation_accepts_an_item_without_debits() -> None:
    old = {"user_id": {"S": "101"}, "held": {"N": "95.00"}, "version": {"N": "1"}}
    refusal, sent = _refused_with(old, debits=0)
    assert isinstance(refusal, HoldRefused)
    assert "(attribute_not_exists(#debits) OR #debits = :debits)" in sent["ConditionExpression"]


# ------------------------------------------------------------------ an order link whose write failed
def _link_fails_once(parts: Parts, monkeypatch: pytest.MonkeyPatch) -> Payment:
    """Authorize order 3000 while its link write fails with a DynamoDB 5xx; the payment left reserved."""
    monkeypatch.setattr("woo_backend.services.balance.sleep_backoff", lambda *args, **kwargs: None)
    link = parts.store.payments.link_order
    calls: list[str] = []

    def fails_once(payment: Payment) -> None:
        calls.append(payment.payment_id)
        if len(calls) == 1:
            error = {"Error": {"Code": "InternalServerError", "Message": "boom"}, "ResponseMetadata": {}}
            raise ClientError(error, "PutItem")  # type: ignore[arg-type]
        link(payment)

    monkeypatch.setattr(parts.store.payments, "link_order", fails_once)
    parts.shop.pending(3000, "8.00")
    with pytest.raises(ClientError):
        parts.service.authorize(TOKEN, 3000, Decimal("8.00"))
    [left] = parts.store.payments.open_payments(PaymentStatus.AUTHORIZED)
    assert _holds(parts).held == Decimal("8.00")
    assert parts.store.payments.payment_id_for_order(3000) is None
    return left


def test_a_retry_adopts_the_reservation_whose_order_link_failed(parts: Parts, monkeypatch: pytest.MonkeyPatch) -> None:
    left = _link_fails_once(parts, monkeypatch)
    again: Authorization = parts.service.authorize(TOKEN, 3000, Decimal("8.00"))
    assert (again.payment_id, again.created, again.status) == (left.payment_id, False, PaymentStatus.AUTHORIZED)
    assert again.available_after == Decimal("142.00")
    assert parts.store.payments.payment_id_for_order(3000) == left.payment_id
    assert _holds(parts).held == Decimal("8.00")  # one hold, never a second
    assert [p.payment_id for p in parts.store.payments.open_payments(PaymentStatus.AUTHORIZED)] == [left.payment_id]
    # And it is the order's payment from now on: void gives the one hold back.
    parts.service.void(left.payment_id, TOKEN)
    assert _holds(parts).held == 0


def test_another_token_or_a_payment_moving_on_does_not_adopt_it(parts: Parts, monkeypatch: pytest.MonkeyPatch) -> None:
    left = _link_fails_once(parts, monkeypatch)
    with pytest.raises(PaymentInProgress) as other_token:
        parts.service.authorize(OTHER_TOKEN, 3000, Decimal("8.00"))
    assert STATUS_BY_KIND[other_token.value.kind] == 409
    now = parts.clock()
    parts.store.payments.set_status(left.payment_id, PaymentStatus.CAPTURE_PENDING, (PaymentStatus.AUTHORIZED,), now)
    with pytest.raises(PaymentInProgress):
        parts.service.authorize(TOKEN, 3000, Decimal("8.00"))
    assert parts.store.payments.payment_id_for_order(3000) is None
    assert _holds(parts).held == Decimal("8.00")
