"""Topomer API client. The wire format is not public; it is defined once, here, in these models.

What is written down (Topomer's plugin description, the only public text) is the requests; nothing
promises the answers to writes. So:
- ``POST /api/auth/token`` {client_id, client_secret} -> {access_token, expires_in}; other calls send
  ``Authorization: Bearer``; a 401 refreshes the token once.
- ``GET /api/plugin/users/get-by-token?token=T`` -> {id, solde, expired, email?}: only these are read
  (``email`` may be absent or null, anything else is ignored). A refused customer token (404, or
  400/401/403 again with a fresh access token) raises ``CustomerTokenRefused``.
- ``GET /api/interval-prix`` -> [PriceInterval].
- ``POST /api/plugin/users/update-solde`` {token, user_id, solde} (new absolute balance).
- ``POST /api/plugin/users/update-expired`` {token, expired: true}.
- ``GET /api/plugin/shoppers/{id}/balance`` (X-Shopper-Id, X-Shopper-Token) -> {balance}; a refused pair
  raises ``CustomerTokenRefused`` as for get-by-token.
- ``POST /api/plugin/promos`` {code, percentage, type} -> the new promo's id (``id`` or ``data.id`` in a
  JSON body, or a ``Location`` header ending in it); ``PUT /api/plugin/promos/{id}``.
- ``POST /api/plugin/orders`` {order_id, customer, items, total, payment_method}.

Writes: any 2xx means Topomer took the request; the body is never read for a confirmation (a real server
may answer ``{"ok": true}``, the changed object, 201 with an id, or 204 with nothing). Whether a money
move landed is read back by the caller (``get-by-token``: ``solde``, ``expired``). Topomer has no lookup
for orders or promos, so their POSTs are not repeated by this client after a doubtful failure (they raise
``UpstreamOutcomeUnknown``); they carry an ``Idempotency-Key`` for a server that honours one, and nothing
more is relied on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Collection
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Unpack

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from woo_backend.errors import UpstreamNotFound, UpstreamRejected
from woo_backend.http import ClientOptions, RequestOptions, UpstreamClient, segment
from woo_backend.settings import TopomerSettings

if TYPE_CHECKING:
    import httpx  # imported at the first request (woo_backend.http)

TOKEN_REFRESH_MARGIN_SECONDS = 30
# get-by-token answers that mean "this customer token is refused" (after one fresh access token).
REFUSED_TOKEN_STATUSES = frozenset({400, 401, 403})


class CustomerTokenRefused(UpstreamNotFound):
    """Topomer refuses the customer's token: 404, or 400/401/403 even with a fresh access token."""

    code = "topomer_token_refused"


class AccessTokenRefused(UpstreamRejected):
    """``/api/auth/token`` refused our client credentials: a configuration problem, never the customer's."""

    code = "topomer_credentials_refused"


class TopomerModel(BaseModel):
    model_config = ConfigDict(extra="ignore")


class AccessToken(TopomerModel):
    access_token: str
    expires_in: int = 3600


class TopomerUser(TopomerModel):
    """What the service reads of ``get-by-token``; every other field of the answer is ignored."""

    id: int | str
    balance: Decimal = Field(alias="solde")
    expired: bool
    email: str | None = None


class PriceInterval(TopomerModel):
    min: Decimal
    max: Decimal | None = None
    percentage: Decimal = Field(alias="pourcentage")


class ShopperBalance(TopomerModel):
    balance: Decimal


class TopomerPromo(TopomerModel):
    """A promo Topomer took; ``id`` is None when its answer did not name one."""

    id: int | str | None = None


class TopomerOrderItem(BaseModel):
    product_id: int
    name: str
    quantity: int
    total: Decimal


class TopomerOrder(BaseModel):
    order_id: int
    customer: dict[str, Any]
    items: list[TopomerOrderItem]
    total: Decimal
    payment_method: str


_intervals = TypeAdapter(list[PriceInterval])


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _created_id(response: httpx.Response) -> int | str | None:
    """The id a create answer names, if any: ``id`` or ``data.id`` in a JSON body, else the ``Location`` tail."""
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = None  # a body we cannot read: the write was still taken (2xx)
    for candidate in (body, body.get("data") if isinstance(body, dict) else None):
        found = candidate.get("id") if isinstance(candidate, dict) else None
        if isinstance(found, int | str) and not isinstance(found, bool) and str(found):
            return found
    location = response.headers.get("Location", "").rstrip("/")
    return location.rsplit("/", 1)[-1] or None if location else None


class TopomerClient(UpstreamClient):
    name = "topomer"

    def __init__(self, settings: TopomerSettings, **options: Unpack[ClientOptions]) -> None:
        options.setdefault("timeout", settings.read_timeout_seconds)
        super().__init__(settings.url, **options)
        self._settings = settings
        self._token: str | None = None
        self._token_expires_at = 0.0
        self._token_lock = threading.Lock()

    # -------------------------------------------------------------- auth
    def _access_token(self, *, force: bool = False) -> str:
        with self._token_lock:
            if force or self._token is None or time.monotonic() >= self._token_expires_at:
                try:
                    response = self.request(
                        "POST",
                        "/api/auth/token",
                        json={
                            "client_id": self._settings.client_id.get_secret_value(),
                            "client_secret": self._settings.client_secret.get_secret_value(),
                        },
                        repeatable=True,
                    )
                except UpstreamRejected as exc:
                    raise AccessTokenRefused(self.name, exc.message, status=exc.status) from None
                token = self.parse(response, AccessToken)
                self._token = token.access_token
                self._token_expires_at = time.monotonic() + max(0, token.expires_in - TOKEN_REFRESH_MARGIN_SECONDS)
            return self._token

    def call(
        self, method: str, path: str, *, refresh_on: Collection[int] = (401,), **options: Unpack[RequestOptions]
    ) -> httpx.Response:
        """An authenticated call; on 401 (or ``refresh_on``) the token is refreshed once and the call sent again.

        A refused request was not taken, so sending it again is safe whatever its method.
        """
        for refresh in (False, True):
            auth = {"Authorization": f"Bearer {self._access_token(force=refresh)}"}
            sent: RequestOptions = {**options, "headers": {**auth, **(options.get("headers") or {})}}
            try:
                return self.request(method, path, **sent)
            except AccessTokenRefused:
                raise
            except UpstreamRejected as exc:
                if exc.status not in refresh_on or refresh:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    # -------------------------------------------------------------- endpoints
    def get_user_by_token(self, token: str) -> TopomerUser:
        """The customer's account; ``CustomerTokenRefused`` when Topomer will not serve this token."""
        response = self._customer_call("GET", "/api/plugin/users/get-by-token", params={"token": token})
        return self.parse(response, TopomerUser)

    def _customer_call(self, method: str, path: str, **options: Unpack[RequestOptions]) -> httpx.Response:
        """A read keyed by a customer's credentials: 404, or 400/401/403 again with a fresh access token, is
        Topomer refusing the customer's token (``CustomerTokenRefused``), never an outage."""
        try:
            return self.call(method, path, refresh_on=REFUSED_TOKEN_STATUSES, **options)
        except AccessTokenRefused:
            raise
        except UpstreamNotFound as exc:
            raise CustomerTokenRefused(self.name, "unknown customer token", status=exc.status) from None
        except UpstreamRejected as exc:
            if exc.status in REFUSED_TOKEN_STATUSES:
                raise CustomerTokenRefused(
                    self.name, f"customer token refused ({exc.status})", status=exc.status
                ) from None
            raise

    def price_intervals(self) -> list[PriceInterval]:
        return self.parse_as(self.call("GET", "/api/interval-prix"), _intervals)

    def update_balance(self, token: str, user_id: int | str, new_balance: Decimal) -> None:
        """Set the absolute balance. Any 2xx is "taken"; the caller reads ``solde`` back to know it landed."""
        # An absolute balance: sending it twice leaves the same balance, so it may be repeated.
        self.call(
            "POST",
            "/api/plugin/users/update-solde",
            json={"token": token, "user_id": user_id, "solde": _money(new_balance)},
            repeatable=True,
        )

    def expire_token(self, token: str) -> None:
        """Mark the token used. Any 2xx is "taken"; the caller reads ``expired`` back to know it landed."""
        self.call("POST", "/api/plugin/users/update-expired", json={"token": token, "expired": True}, repeatable=True)

    def shopper_balance(self, shopper_id: str, shopper_token: str) -> ShopperBalance:
        response = self._customer_call(
            "GET",
            f"/api/plugin/shoppers/{segment(shopper_id)}/balance",
            headers={"X-Shopper-Id": shopper_id, "X-Shopper-Token": shopper_token},
        )
        return self.parse(response, ShopperBalance)

    def create_promo(self, code: str, percentage: Decimal, promo_type: str) -> TopomerPromo:
        """Create the promo once: raises ``UpstreamOutcomeUnknown`` when it may have been taken (never resent).

        The id comes from the answer when it names one (see ``_created_id``); otherwise ``id`` is None.
        """
        response = self.call(
            "POST",
            "/api/plugin/promos",
            json={"code": code, "percentage": str(percentage), "type": promo_type},
            headers={"Idempotency-Key": f"woo-backend-promo-{code}"},
            repeatable=False,
        )
        return TopomerPromo(id=_created_id(response))

    def update_promo(self, promo_id: int | str, fields: dict[str, Any]) -> None:
        # A PUT of the whole promo: repeating it leaves the same promo. Any 2xx is "taken".
        self.call("PUT", f"/api/plugin/promos/{segment(promo_id)}", json=fields)

    def record_order(self, order: TopomerOrder, idempotency_key: str) -> None:
        """Report a paid order once: raises ``UpstreamOutcomeUnknown`` when it may have been taken.

        Topomer has no way to look an order up and may keep every POST it gets, so a report whose fate is
        unknown is never resent here; ``idempotency_key`` lets a server that honours the header dedupe.
        """
        self.call(
            "POST",
            "/api/plugin/orders",
            json=order.model_dump(mode="json"),
            headers={"Idempotency-Key": idempotency_key},
            repeatable=False,
        )
