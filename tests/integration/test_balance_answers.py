"""The balance API's answer models, serialized by Powertools as a route returns them, give the bytes the
hand-built answers gave before the models (kept below as the reference), and the idempotency record keeps
its stored shape (records written before still replay)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import Response, content_types
from pydantic import BaseModel

from tests.fakes import sample_payment
from woo_backend.api import create_resolver
from woo_backend.api.balance import (
    AuthorizationRecord,
    BalanceAnswer,
    PaymentAnswer,
    ShopperBalanceAnswer,
)
from woo_backend.api.resolver import compact_json
from woo_backend.domain.balance import (
    CAPTURE_STEPS,
    Authorization,
    CustomerBalance,
    Payment,
    PaymentStatus,
    Step,
    StepName,
    StepStatus,
)
from woo_backend.domain.money import money


def reference_payment(payment: Payment) -> dict[str, Any]:
    """The payment's answer as the domain's ``Payment.public()`` built it before the answer models replaced it."""
    return {
        "payment_id": payment.payment_id,
        "order_id": payment.order_id,
        "user_id": payment.user_id,
        "amount": money(payment.amount),
        **({"currency": payment.currency} if payment.currency else {}),
        "status": payment.status.value,
        **({"reason": payment.reason} if payment.reason else {}),
        "created_at": payment.created_at,
        "hold_expires_at": payment.hold_expires_at,
        "captured_at": payment.captured_at,
        "steps": {
            name.value: payment.step(name).model_dump(mode="json", exclude_none=True)
            for name in (*CAPTURE_STEPS, StepName.HOLD_ORDER)
            if name in CAPTURE_STEPS or name in payment.steps
        },
    }


def served(model: BaseModel, status: int = 200) -> str:
    """The body Powertools answers when a route returns ``model`` (as the balance routes do)."""
    app = create_resolver()

    def answer() -> Response[BaseModel]:
        return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=model)

    # The route's return type names the model itself, as the balance routes' annotations do.
    answer.__annotations__["return"] = Response[type(model)]  # type: ignore[misc]
    app.get("/answer")(answer)

    event = {
        "version": "2.0",
        "routeKey": "GET /answer",
        "rawPath": "/answer",
        "rawQueryString": "",
        "headers": {},
        "requestContext": {"http": {"method": "GET", "path": "/answer"}, "requestId": "r", "stage": "$default"},
        "isBase64Encoded": False,
    }
    result: dict[str, Any] = app.resolve(event, None)  # type: ignore[arg-type]
    assert (result["statusCode"], result["headers"]["Content-Type"]) == (status, "application/json")
    return str(result["body"])


BASE = sample_payment()
DONE = Step(status=StepStatus.DONE, attempts=1, started_at="t1", done_at="t2")
FAILED = Step(status=StepStatus.RETRY, attempts=2, started_at="t1", next_attempt_at="t3", last_error='x: "é"')


@pytest.mark.parametrize(
    "payment",
    [
        BASE,
        BASE.model_copy(update={"currency": "EUR"}),
        BASE.model_copy(update={"currency": ""}),
        BASE.model_copy(
            update={
                "status": PaymentStatus.CAPTURED,
                "currency": "EUR",
                "captured_at": "2026-11-23T10:01:00.000000+00:00",
                "steps": {name: DONE for name in CAPTURE_STEPS},
            }
        ),
        BASE.model_copy(update={"status": PaymentStatus.CAPTURE_PENDING, "steps": {StepName.DEBIT: FAILED}}),
        BASE.model_copy(
            update={
                "status": PaymentStatus.NEEDS_ATTENTION,
                "reason": "amount_mismatch: the payment is 30.00 EUR, the order totals 45.00 EUR",
                "steps": {**BASE.steps, StepName.HOLD_ORDER: FAILED},
            }
        ),
    ],
)
def test_a_payment_answers_as_before(payment: Payment) -> None:
    body = served(PaymentAnswer.of(payment), status=202)
    assert body == compact_json(reference_payment(payment))
    assert "tpm_secret" not in body


def test_the_balance_answers_as_before() -> None:
    balance = CustomerBalance(
        user_id="101", email=None, balance=Decimal("80"), available=Decimal("54.5"), expired=False
    )
    reference = {"user_id": "101", "email": None, "balance": "80.00", "available": "54.50", "expired": False}
    assert served(BalanceAnswer.of(balance)) == compact_json(reference)
    shopper = ShopperBalanceAnswer.of("shopper-1", Decimal("75.5"))
    assert served(shopper) == compact_json({"shopper_id": "shopper-1", "balance": "75.50"})


@pytest.mark.parametrize("created", [True, False])
def test_an_authorization_answers_and_is_recorded_as_before(created: bool) -> None:
    authorization = Authorization(
        payment_id="pay_" + "b" * 24,
        order_id=7,
        status=PaymentStatus.AUTHORIZED,
        amount=Decimal("12.5"),
        available_after=Decimal("87.5"),
        currency="EUR",
        created=created,
    )
    record = AuthorizationRecord.of(authorization)
    stored = {
        "payment_id": "pay_" + "b" * 24,
        "order_id": 7,
        "status": "authorized",
        "amount": "12.50",
        "available_after": "87.50",
        "currency": "EUR",
        "created": created,
    }
    # What the idempotency layer stores (PydanticSerializer: model_dump(mode="json")), and reads back.
    assert record.model_dump(mode="json") == stored
    assert AuthorizationRecord.model_validate(json.loads(json.dumps(stored))) == record
    answer = {key: value for key, value in stored.items() if key != "created"}
    assert served(record.answer(), status=201 if created else 200) == compact_json(answer)


def test_a_record_from_before_currencies_replays_with_a_null_currency() -> None:
    old = {"payment_id": "pay_" + "c" * 24, "order_id": 8, "status": "authorized", "amount": "1.00"}
    record = AuthorizationRecord.model_validate({**old, "available_after": "2.00", "created": True})
    assert served(record.answer()) == compact_json({**old, "available_after": "2.00", "currency": None})
