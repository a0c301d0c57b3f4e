"""Issue 13, part 1: every amount, total, percentage and credits amount is read by one strict parser, over HTTP.

ASCII digits with at most two decimals (a credits amount: ASCII digits or exactly "max"), nothing around them:
each form below was read as a number before (spaces trimmed, any number of trailing zeros, "MAX " in any case)
or is its near kin. A refusal is a 400 naming the field, with the field's own code, and changes nothing.
Each test sends all its forms and compares the whole table, so it shows every form still read.
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest

from tests.e2e import web
from tests.e2e.conftest import LocalStack
from tests.e2e.payments import auth, authorize, new_order, new_user

pytestmark = pytest.mark.e2e

CREDITS_100 = 10  # a seeded product worth 100 credits
FULL_WIDTH_5, ARABIC_INDIC_5 = "\uff15", "\u0665"


def refusal(response: httpx.Response) -> tuple[int, str]:
    """``(status, code)`` of an error answer; ``(status, "")`` for anything else."""
    body = response.json()
    error = body.get("error") if isinstance(body, dict) else None
    return response.status_code, error["code"] if isinstance(error, dict) else ""


# ------------------------------------------------------------------ balance payments
def test_payment_amounts_must_be_plain_and_a_refusal_holds_nothing(stack: LocalStack, api: httpx.Client) -> None:
    token = new_user(stack, "1000.00")
    forms: dict[str, Any] = {
        "1e2": "100.00",
        "1E+2": "100.00",
        " 5.00": "5.00",
        "5.00\n": "5.00",
        "5.00 ": "5.00",
        "+5": "5.00",
        ".5": "0.50",
        "5.": "5.00",
        "10.000": "10.00",
        "10.0000": "10.00",
        FULL_WIDTH_5: "5.00",
        ARABIC_INDIC_5: "5.00",
    }
    orders = {form: new_order(stack, total) for form, total in forms.items()}
    responses = {form: authorize(api, token, orders[form], form) for form in forms}
    assert {form: refusal(r) for form, r in responses.items()} == dict.fromkeys(forms, (400, "invalid_amount"))
    assert all("amount" in r.json()["error"]["message"] for r in responses.values())
    # A JSON number is not a documented form of this amount: refused too, naming the field.
    body = {"token": token, "order_id": new_order(stack, "5.00"), "amount": 5}
    number = api.post("/balance/v1/payments", json=body, headers={"Idempotency-Key": secrets.token_hex(8)})
    assert number.status_code == 400, number.text
    assert "amount" in number.json()["error"]["message"]

    # Nothing held, and every order is still free to be paid with its amount written plainly.
    assert api.get("/balance/v1/balance", headers=auth(token)).json()["available"] == "1000.00"
    paid = {form: authorize(api, token, orders[form], total).status_code for form, total in forms.items()}
    assert paid == dict.fromkeys(forms, 201)


# ------------------------------------------------------------------ promo
def quote(api: httpx.Client, cart_id: str, total: Any) -> httpx.Response:
    return api.post("/promo/v1/auto", json={"cart_id": cart_id, "cart_total": total, "currency": "EUR"})


def test_cart_totals_must_be_plain_and_a_refusal_draws_no_code(stack: LocalStack, api: httpx.Client) -> None:
    forms = ["150.00 ", " 150", "150\n", "1.5e2", "1.5E+2", "150.000", "+150", ".5", "150.", "1\uff15\uff10", "1_50"]
    carts = {form: f"cart-strict-{secrets.token_hex(6)}" for form in forms}
    coupons = len(stack.woo_state()["coupons"])
    responses = {form: quote(api, carts[form], form) for form in forms}
    assert {form: refusal(r) for form, r in responses.items()} == dict.fromkeys(forms, (400, "invalid_cart_total"))
    assert all("cart_total" in r.json()["error"]["message"] for r in responses.values())
    assert len(stack.woo_state()["coupons"]) == coupons
    # No cart holds a code: the first plain quote draws one (201), a whole JSON number still being a total.
    drawn = {form: quote(api, carts[form], "150.00" if i % 2 else 150).status_code for i, form in enumerate(forms)}
    assert drawn == dict.fromkeys(forms, 201)


def test_percentages_must_be_plain_and_a_refusal_stores_nothing(admin: httpx.Client) -> None:
    forms = ["1e1", "1E+1", FULL_WIDTH_5, ARABIC_INDIC_5, " 10", "10 ", "10\n", "10.000", "+10", ".5", "10."]
    names = {form: f"STRICT-{secrets.token_hex(4).upper()}" for form in forms}
    created = {
        form: refusal(admin.post("/promo/v1/codes", json={"code": names[form], "percentage": form})) for form in forms
    }
    assert created == dict.fromkeys(forms, (400, "invalid_percentage"))
    assert {form: admin.get(f"/promo/v1/codes/{names[form]}").status_code for form in forms} == dict.fromkeys(
        forms, 404
    )

    name = f"STRICT-{secrets.token_hex(4).upper()}"
    assert admin.post("/promo/v1/codes", json={"code": name, "percentage": 10}).status_code == 201  # a whole number
    patched = {form: refusal(admin.patch(f"/promo/v1/codes/{name}", json={"percentage": form})) for form in forms}
    assert patched == dict.fromkeys(forms, (400, "invalid_percentage"))
    kept = admin.get(f"/promo/v1/codes/{name}").json()
    assert (kept["percentage"], kept["version"]) == ("10", 1)


# ------------------------------------------------------------------ credits
def granted_order(stack: LocalStack) -> dict[str, Any]:
    """A new order of 100 credits, completed in the shop with its webhook delivered."""
    body = {"customer_id": 1, "status": "pending", "line_items": [{"product_id": CREDITS_100, "quantity": 1}]}
    order = web.post(f"{stack.woocommerce}/_sim/orders", json=body, timeout=30).json()
    moved = web.post(
        f"{stack.woocommerce}/_sim/orders/{order['id']}/status",
        json={"status": "completed", "deliver": True},
        timeout=30,
    )
    assert moved.status_code == 200
    return dict(order)


CREDIT_FORMS = ["max ", " max", "MAX", "MAX ", "Max", " 7", "7 ", "7\n", "+7", "7.0", "1e1", "\uff17", "\u0667"]


def test_consume_takes_digits_or_exactly_max_and_a_refusal_spends_nothing(stack: LocalStack, api: httpx.Client) -> None:
    key = granted_order(stack)["order_key"]
    consume = f"/credits/v1/orders/{key}/consume"
    answers = {form: refusal(api.post(consume, json={"amount": form})) for form in CREDIT_FORMS}
    assert answers == dict.fromkeys(CREDIT_FORMS, (400, "invalid_amount"))
    assert api.get(f"/credits/v1/orders/{key}").json()["balance"] == 100
    ledger = api.get(f"/credits/v1/orders/{key}/transactions").json()["items"]
    assert [entry["type"] for entry in ledger] == ["grant"]

    assert api.post(consume, json={"amount": "7"}).json()["balance"] == 93
    assert api.post(consume, json={"amount": 3}).json()["balance"] == 90
    rest = api.post(consume, json={"amount": "max"})
    assert (rest.status_code, rest.json()["consumed"], rest.json()["balance"]) == (200, 90, 0)


def test_dotix_num_takes_digits_or_exactly_max_else_lack_of_param(stack: LocalStack) -> None:
    order = granted_order(stack)
    url = f"{stack.api}/dotix/v1/order/{order['order_key']}"
    refused = {"_res": "err", "_msg": "lack_of_param"}
    by_form = {form: web.post(url, data={"num": form}) for form in CREDIT_FORMS}
    assert {form: (a.status_code, a.json()) for form, a in by_form.items()} == dict.fromkeys(
        CREDIT_FORMS, (200, refused)
    )
    as_json = {form: web.post(url, json={"num": form}).json() for form in CREDIT_FORMS}
    assert as_json == dict.fromkeys(CREDIT_FORMS, refused)
    assert web.get(url).json()["balance"] == "100"

    assert web.post(url, data={"num": "max"}).json() == {
        "_res": "ok",
        "order_id": order["id"],
        "consumed": "100",
        "balance": "0",
    }
