"""Topomer API client. The wire format is not public; it is defined once, here, in these models.

- ``POST /api/auth/token`` {client_id, client_secret} -> {access_token, expires_in}; other calls send
  ``Authorization: Bearer``; a 401 refreshes the token once.
- ``GET /api/plugin/users/get-by-token?token=T`` -> TopomerUser; unknown token -> 404.
- ``GET /api/interval-prix`` -> [PriceInterval].
- ``POST /api/plugin/users/update-solde`` {token, user_id, solde} (new absolute balance).
- ``POST /api/plugin/users/update-expired`` {token, expired: true}.
- ``GET /api/plugin/shoppers/{id}/balance`` (X-Shopper-Id, X-Shopper-Token) -> {balance}.
- ``POST /api/plugin/promos`` {code, percentage, type} -> {id, ...}; ``PUT /api/plugin/promos/{id}``.
- ``POST /api/plugin/orders`` {order_id, customer, items, total, payment_method}.
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from woo_backend.errors import UpstreamRejected
from woo_backend.http import DEFAULT_TIMEOUT, RetryPolicy, UpstreamClient
from woo_backend.settings import TopomerSettings

TOKEN_REFRESH_MARGIN_SECONDS = 30


class TopomerModel(BaseModel):
    model_config = ConfigDict(extra="ignore")


class AccessToken(TopomerModel):
    access_token: str
    expires_in: int = 3600


class TopomerUser(TopomerModel):
    id: int | str
    token: str
    email: str = ""
    balance: Decimal = Field(alias="solde")
    expired: bool = False


class PriceInterval(TopomerModel):
    min: Decimal
    max: Decimal | None = None
    percentage: Decimal = Field(alias="pourcentage")


class ShopperBalance(TopomerModel):
    balance: Decimal


class TopomerPromo(TopomerModel):
    id: int | str


class Acknowledgement(TopomerModel):
    """Topomer's answer to a write: ``{"ok": true, ...}``. Anything else means the write is not confirmed."""

    ok: Literal[True]


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


class TopomerClient(UpstreamClient):
    name = "topomer"

    def __init__(
        self,
        settings: TopomerSettings,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(settings.url, timeout=timeout, retry=retry, transport=transport)
        self._settings = settings
        self._token: str | None = None
        self._token_expires_at = 0.0
        self._token_lock = threading.Lock()

    # -------------------------------------------------------------- auth
    def _access_token(self, *, force: bool = False) -> str:
        with self._token_lock:
            if force or self._token is None or time.monotonic() >= self._token_expires_at:
                response = self.request(
                    "POST",
                    "/api/auth/token",
                    json={
                        "client_id": self._settings.client_id.get_secret_value(),
                        "client_secret": self._settings.client_secret.get_secret_value(),
                    },
                    repeatable=True,
                )
                token = self.parse(response, AccessToken)
                self._token = token.access_token
                self._token_expires_at = time.monotonic() + max(0, token.expires_in - TOKEN_REFRESH_MARGIN_SECONDS)
            return self._token

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        repeatable: bool | None = None,
    ) -> httpx.Response:
        """An authenticated call; on 401 the token is refreshed once and the call sent again."""
        for refresh in (False, True):
            auth = {"Authorization": f"Bearer {self._access_token(force=refresh)}"}
            try:
                return self.request(
                    method, path, params=params, json=json, headers={**auth, **(headers or {})}, repeatable=repeatable
                )
            except UpstreamRejected as exc:
                if exc.status != 401 or refresh:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    # -------------------------------------------------------------- endpoints
    def get_user_by_token(self, token: str) -> TopomerUser:
        return self.parse(self.call("GET", "/api/plugin/users/get-by-token", params={"token": token}), TopomerUser)

    def price_intervals(self) -> list[PriceInterval]:
        return self.parse_as(self.call("GET", "/api/interval-prix"), _intervals)

    def update_balance(self, token: str, user_id: int | str, new_balance: Decimal) -> None:
        # An absolute balance: sending it twice leaves the same balance, so it may be retried.
        response = self.call(
            "POST",
            "/api/plugin/users/update-solde",
            json={"token": token, "user_id": user_id, "solde": _money(new_balance)},
            repeatable=True,
        )
        self.parse(response, Acknowledgement)

    def expire_token(self, token: str) -> None:
        response = self.call(
            "POST", "/api/plugin/users/update-expired", json={"token": token, "expired": True}, repeatable=True
        )
        self.parse(response, Acknowledgement)

    def shopper_balance(self, shopper_id: str, shopper_token: str) -> ShopperBalance:
        response = self.call(
            "GET",
            f"/api/plugin/shoppers/{shopper_id}/balance",
            headers={"X-Shopper-Id": shopper_id, "X-Shopper-Token": shopper_token},
        )
        return self.parse(response, ShopperBalance)

    def create_promo(self, code: str, percentage: Decimal, promo_type: str) -> TopomerPromo:
        response = self.call(
            "POST", "/api/plugin/promos", json={"code": code, "percentage": str(percentage), "type": promo_type}
        )
        return self.parse(response, TopomerPromo)

    def update_promo(self, promo_id: int | str, fields: dict[str, Any]) -> None:
        self.call("PUT", f"/api/plugin/promos/{promo_id}", json=fields)

    def record_order(self, order: TopomerOrder) -> None:
        # Topomer keeps one record per order_id, so a report sent again after a lost answer is harmless.
        response = self.call("POST", "/api/plugin/orders", json=order.model_dump(mode="json"), repeatable=True)
        self.parse(response, Acknowledgement)
