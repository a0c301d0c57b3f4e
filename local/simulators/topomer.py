"""Topomer simulator: the wire format of ``woo_backend.topomer``, seeded with users, a shopper and intervals."""

from __future__ import annotations

import secrets
from decimal import Decimal, InvalidOperation
from typing import Any

from werkzeug.wrappers import Request, Response

from local.simulators.base import Simulator, json_response

CLIENT_ID = "local-topomer-client"
CLIENT_SECRET = "local-topomer-secret"
SEED_TOKEN = "tpm_local_token_alice"
SEED_SHOPPER_ID = "shopper-1"
SEED_SHOPPER_TOKEN = "shopper-token-1"


class TopomerSimulator(Simulator):
    name = "topomer"

    def __init__(self, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        super().__init__()
        self.route("/api/auth/token", ["POST"], self.token)
        self.route("/api/plugin/users/get-by-token", ["GET"], self.get_by_token)
        self.route("/api/interval-prix", ["GET"], self.intervals)
        self.route("/api/plugin/users/update-solde", ["POST"], self.update_solde)
        self.route("/api/plugin/users/update-expired", ["POST"], self.update_expired)
        self.route("/api/plugin/shoppers/<shopper_id>/balance", ["GET"], self.shopper_balance)
        self.route("/api/plugin/promos", ["POST"], self.create_promo)
        self.route("/api/plugin/promos/<promo_id>", ["PUT"], self.update_promo)
        self.route("/api/plugin/orders", ["POST"], self.create_order)
        self.route("/_sim/users", ["POST"], self.add_user)
        self.route("/_sim/intervals", ["PUT"], self.set_intervals)
        self.route("/_sim/tokens/revoke", ["POST"], self.revoke_access_tokens)

    def reset(self) -> None:
        self.access_tokens: set[str] = set()
        self.users: dict[str, dict[str, Any]] = {
            SEED_TOKEN: {
                "id": 101,
                "token": SEED_TOKEN,
                "email": "alice@example.com",
                "solde": Decimal("150.00"),
                "expired": False,
            },
            "tpm_local_token_bob": {
                "id": 102,
                "token": "tpm_local_token_bob",
                "email": "bob@example.com",
                "solde": Decimal("20.00"),
                "expired": False,
            },
        }
        self.shoppers = {SEED_SHOPPER_ID: {"token": SEED_SHOPPER_TOKEN, "balance": Decimal("75.50")}}
        self.interval_list: list[dict[str, Any]] = [
            {"min": "50.00", "max": "100.00", "pourcentage": "5"},
            {"min": "100.00", "max": "250.00", "pourcentage": "10"},
            {"min": "250.00", "max": None, "pourcentage": "15"},
        ]
        self.promos: dict[str, dict[str, Any]] = {}
        self.orders: list[dict[str, Any]] = []
        self.balance_updates: list[dict[str, Any]] = []

    def state(self) -> dict[str, Any]:
        return {
            "users": self.users,
            "shoppers": self.shoppers,
            "intervals": self.interval_list,
            "promos": self.promos,
            "orders": self.orders,
            "balance_updates": self.balance_updates,
        }

    def authorize(self, request: Request) -> Response | None:
        if request.path == "/api/auth/token" or request.path.startswith("/_sim/"):
            return None
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or token not in self.access_tokens:
            return json_response({"message": "unauthenticated"}, status=401)
        return None

    # ------------------------------------------------------------ API
    def token(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        if body.get("client_id") != self.client_id or body.get("client_secret") != self.client_secret:
            return json_response({"message": "bad credentials"}, status=401)
        token = secrets.token_urlsafe(16)
        self.access_tokens.add(token)
        return json_response({"access_token": token, "expires_in": 3600})

    def get_by_token(self, request: Request) -> Response:
        user = self.users.get(request.args.get("token", ""))
        if user is None:
            return json_response({"message": "unknown token"}, status=404)
        return json_response(user)

    def intervals(self, request: Request) -> Response:
        return json_response(self.interval_list)

    def update_solde(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        user = self.users.get(str(body.get("token", "")))
        if user is None or str(user["id"]) != str(body.get("user_id")):
            return json_response({"message": "unknown user"}, status=404)
        try:
            solde = Decimal(str(body.get("solde")))
        except InvalidOperation:
            return json_response({"message": "bad solde"}, status=400)
        if solde < 0:
            return json_response({"message": "negative solde"}, status=400)
        self.balance_updates.append({"token": user["token"], "from": user["solde"], "to": solde})
        user["solde"] = solde
        return json_response({"ok": True, "solde": solde})

    def update_expired(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        user = self.users.get(str(body.get("token", "")))
        if user is None:
            return json_response({"message": "unknown token"}, status=404)
        user["expired"] = bool(body.get("expired"))
        return json_response({"ok": True})

    def shopper_balance(self, request: Request, shopper_id: str) -> Response:
        shopper = self.shoppers.get(shopper_id)
        if request.headers.get("X-Shopper-Id") != shopper_id:
            return json_response({"message": "shopper id header mismatch"}, status=400)
        if shopper is None or request.headers.get("X-Shopper-Token") != shopper["token"]:
            return json_response({"message": "unknown shopper"}, status=404)
        return json_response({"balance": shopper["balance"]})

    def create_promo(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        if not body.get("code") or body.get("percentage") is None:
            return json_response({"message": "code and percentage are required"}, status=422)
        # One promo per code: a creation sent again after a lost answer gets the first one back.
        for known in self.promos.values():
            if known["code"] == body["code"]:
                return json_response(known)
        promo_id = str(len(self.promos) + 1)
        self.promos[promo_id] = {"id": int(promo_id), **body}
        return json_response(self.promos[promo_id], status=201)

    def update_promo(self, request: Request, promo_id: str) -> Response:
        if promo_id not in self.promos:
            return json_response({"message": "unknown promo"}, status=404)
        self.promos[promo_id].update(request.get_json(silent=True) or {})
        return json_response(self.promos[promo_id])

    def create_order(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        if "order_id" not in body:
            return json_response({"message": "order_id is required"}, status=422)
        # One record per order: a report sent again (after a lost answer) replaces the first.
        for index, known in enumerate(self.orders):
            if known.get("order_id") == body["order_id"]:
                self.orders[index] = body
                return json_response({"ok": True, "id": index + 1})
        self.orders.append(body)
        return json_response({"ok": True, "id": len(self.orders)}, status=201)

    # ------------------------------------------------------------ control
    def add_user(self, request: Request) -> Response:
        body = request.get_json(force=True)
        user = {
            "id": body["id"],
            "token": body["token"],
            "email": body.get("email", ""),
            "solde": Decimal(str(body.get("solde", "0"))),
            "expired": bool(body.get("expired", False)),
        }
        self.users[user["token"]] = user
        return json_response(user, status=201)

    def set_intervals(self, request: Request) -> Response:
        self.interval_list = request.get_json(force=True)
        return json_response(self.interval_list)

    def revoke_access_tokens(self, request: Request) -> Response:
        self.access_tokens.clear()
        return json_response({"ok": True})
