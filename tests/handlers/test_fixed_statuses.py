"""The two status bugs issue 12 fixed, pinned in process with real races: a second container of the same
function (another request, run from a hook just before the first one's DynamoDB write) gets there first.

- A concurrent admin PATCH of a promo code that loses the race: 409 ``conflict`` (it was 400).
- Busy, when too many requests race for one record: 503 ``busy`` in promo (one cart quoted by many requests;
  it was 400). Credits no longer answer it (issue 13): a consume is one conditional write applied to the
  balance as it is, so one that other requests overtake before each of its writes still lands, once.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import cycle

import pytest

from tests.handlers.conftest import ADMIN
from tests.handlers.events import Answer
from tests.handlers.lambdas import Function, before_writes
from tests.handlers.test_credits import granted
from tests.handlers.test_promo import create, quote
from tests.handlers.upstreams import Shop


@pytest.fixture
def rival_promo(promo: Function) -> Function:
    return promo.rival()


def test_a_patch_losing_to_a_concurrent_patch_is_409_conflict(promo: Function, rival_promo: Function) -> None:
    assert create(promo, "RACE-1", "10").status == 201

    rivals: list[Answer] = []  # asserted after: a failure inside the hook would surface as the request's 500

    def rival_patch() -> None:
        rivals.append(rival_promo("PATCH", "/promo/v1/codes/RACE-1", json_body={"percentage": "30"}, headers=ADMIN))

    before_writes(promo, rival_patch, times=1)
    lost = promo("PATCH", "/promo/v1/codes/RACE-1", json_body={"percentage": "20"}, headers=ADMIN)
    assert [(won.status, won.json()["version"]) for won in rivals] == [(200, 2)]
    assert lost.error == (409, "conflict")
    stored = promo("GET", "/promo/v1/codes/RACE-1", headers=ADMIN).json()
    assert (stored["percentage"], stored["version"]) == ("30", 2)


def test_a_cart_quoted_by_many_requests_at_once_is_503_busy(
    promo: Function, rival_promo: Function, no_sleep: None
) -> None:
    # Each rival quote moves the cart to a new code of another interval than ours (5% and 15% in turn), so
    # every attempt of ours finds the cart changed when it writes, and never a code it could answer with.
    totals: Iterator[str] = cycle(["60.00", "300.00"])

    rivals: list[Answer] = []

    def rival_quote() -> None:
        rivals.append(quote(rival_promo, next(totals), cart_id="cart-busy"))

    before_writes(promo, rival_quote)
    busy = quote(promo, "150.00", cart_id="cart-busy")
    assert busy.error == (503, "busy")
    assert len(rivals) >= 5
    assert {rival.status for rival in rivals} == {201}


@pytest.fixture
def rival_credits(credits: Function) -> Function:
    return credits.rival()


@pytest.mark.parametrize(
    ("path", "request_body", "shape"),
    [
        ("/credits/v1/orders/{key}/consume", {"json_body": {"amount": 1}}, "native"),
        ("/dotix/v1/order/{key}", {"form": {"num": "1"}}, "dotix"),
        ("/wp-json/dotix/v1/order/{key}", {"form": {"num": "1"}}, "dotix"),
    ],
    ids=["native", "dotix", "wp-json-dotix"],
)
def test_an_order_consumed_by_many_requests_at_once_is_never_busy(
    credits: Function,
    rival_credits: Function,
    shop: Shop,
    no_sleep: None,
    path: str,
    request_body: dict[str, object],
    shape: str,
) -> None:
    key = granted(credits, shop)["order_key"]

    rivals: list[Answer] = []

    def rival_consume() -> None:
        rivals.append(rival_credits("POST", f"/credits/v1/orders/{key}/consume", json_body={"amount": 1}))

    runs = before_writes(credits, rival_consume)
    landed = credits("POST", path.format(key=key), **request_body)
    assert landed.status == 200
    balance = landed.json()["balance"]
    assert balance == (698 if shape == "native" else "698")  # one rival overtook it; it landed on what was left
    assert {rival.status for rival in rivals} == {200}
    final = credits("GET", f"/credits/v1/orders/{key}").json()["balance"]
    assert final == 700 - len(runs) - 1  # every consume landed exactly once
    ledger = credits("GET", f"/credits/v1/orders/{key}/transactions", query={"limit": "100"}).json()["items"]
    assert [e["balance_after"] for e in ledger] == list(range(final, 701))
