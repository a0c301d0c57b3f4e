"""What a retry tells the admin (``services.admin_payments``): plain words for each way a payment can end, and the
admin's view of a payment never carrying its token."""

from __future__ import annotations

from tests.fakes import sample_payment
from woo_backend.api.admin.payments_models import PaymentAdmin
from woo_backend.domain.balance import PaymentStatus, Resolution, Step, StepName, StepStatus
from woo_backend.services.admin_payments import mismatch_message, outcome_of, parked_report, retry_message, snapshot

PENDING = PaymentStatus.CAPTURE_PENDING
ATTENTION = PaymentStatus.NEEDS_ATTENTION


def failed(name: StepName, error: str, attempts: int = 1) -> dict[StepName, Step]:
    steps = dict(sample_payment().steps)
    steps[name] = Step(status=StepStatus.RETRY, attempts=attempts, last_error=error)
    return steps


def test_outcomes_follow_the_status() -> None:
    assert outcome_of(sample_payment(status=PaymentStatus.CAPTURED)) == "captured"
    assert outcome_of(sample_payment(status=PENDING)) == "still_pending"
    assert outcome_of(sample_payment(status=ATTENTION)) == "needs_attention"
    assert outcome_of(sample_payment(status=PaymentStatus.VOIDED)) == "nothing_to_do"


def test_a_step_that_failed_again_is_named_with_its_error() -> None:
    before = sample_payment(status=PENDING)
    after = sample_payment(status=ATTENTION, steps=failed(StepName.DEBIT, "upstream_unavailable: down", 8))
    message = retry_message("needs_attention", before, after)
    assert "debit step failed again (upstream_unavailable: down) after 8 attempts" in message
    assert "resolve" in message
    pending = sample_payment(status=PENDING, steps=failed(StepName.EXPIRE_TOKEN, "x: y"))
    assert "balance sync retries it" in retry_message("still_pending", before, pending)


def test_a_busy_lease_a_drift_and_a_parked_report_each_say_what_to_do() -> None:
    same = sample_payment(status=PENDING)
    assert "Another run is working" in retry_message("still_pending", same, same)
    drifted = sample_payment(status=ATTENTION, steps=failed(StepName.DEBIT, "balance_drifted: moved"))
    assert "moved outside this service" in retry_message("needs_attention", same, drifted)
    parked = sample_payment(status=ATTENTION, steps=failed(StepName.RECORD_ORDER, "order_report_unknown: lost"))
    assert parked_report(parked)
    assert "Check Topomer for order 49" in retry_message("needs_attention", same, parked)


def test_a_mismatch_says_whether_the_order_was_held() -> None:
    reason = "amount_mismatch: the payment is 30.00 EUR, the order totals 45.00 EUR"
    held = {**sample_payment().steps, StepName.HOLD_ORDER: Step(status=StepStatus.DONE)}
    assert "put on hold with a note" in mismatch_message(sample_payment(status=ATTENTION, reason=reason, steps=held))
    gone = mismatch_message(sample_payment(status=ATTENTION, reason="order_not_found: gone"))
    assert "on hold" not in gone
    assert "resolve" in gone


def test_the_admin_view_and_the_audit_snapshot_never_carry_the_token() -> None:
    payment = sample_payment(
        status=PaymentStatus.RESOLVED, resolution=Resolution(note="n", by="alice", at="2026-11-23T10:00:00+00:00")
    )
    shown = PaymentAdmin.of(payment).model_dump_json()
    assert "tpm_secret" not in shown
    assert not {"token", "token_hash"} & set(PaymentAdmin.of(payment).model_dump())
    assert '"by":"alice"' in shown
    assert "tpm_secret" not in str(snapshot(payment))
