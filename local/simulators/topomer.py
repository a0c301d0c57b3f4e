"""Topomer simulator: the requests of ``woo_backend.topomer``, seeded with users, a shopper and intervals.

Topomer's server is not public. The only written source is the Topomer WordPress plugin's listing
("External Services": ``get-by-token``, ``interval-prix``, ``update-solde``, ``update-expired``, the shopper
balance, promo create/update, order records, the access token), which names the endpoints and the data
sent, and says nothing of the answers to writes or of deduplication. So this simulator does not model
one server: it models the range a reasonable server may fall in, and tests run the service across it.

- Answers to writes (``update-solde``, ``update-expired``, ``orders``, promo create and update) follow an
  answer style: ``ok`` (200 ``{"ok": true}``), ``object`` (200 with the changed user / record / promo),
  ``created`` (201 ``{"id": ...}``) or ``empty`` (204, no body). A promo create names its new id in every
  style (``{"ok": true, "id"}``, the promo, ``{"id"}``, a ``Location`` header), unless
  ``name_created_id`` is false. Control: ``POST /_sim/answer_style {"style", "name_created_id"?}``;
  default from ``TOPOMER_SIM_ANSWER_STYLE`` (``ok``); ``/_sim/reset`` goes back to the default.
- No deduplication by default: every order report and promo create POST makes a new record (a second
  report of an order is a second row, a second create of a code a second promo); ``post_log`` in the
  state lists every write POST taken with its ``Idempotency-Key``. ``POST /_sim/dedup {"orders": true,
  "promos": true}`` makes it honour ``Idempotency-Key`` (a key seen before gets the first answer again).
- ``get-by-token`` shows a user's fields; a user added with ``answer_fields`` shows only those, and
  ``email`` may be null. ``POST /_sim/tokens/refuse {"token", "status"}`` makes ``get-by-token`` refuse a
  token with that status (400/401/403/404), as a server may for a token it will not serve.
- A token is good for one payment: the capture marks it expired (``update-expired``), then the service answers
  410 ``token_expired``. ``POST /_sim/tokens {"balance": "100.00", "email"?}`` adds a user with a fresh token
  (201 ``{"token", "user_id", "email", "balance"}``); ``POST /_sim/users`` adds one with a chosen id and token.

Not from any source, and assumed by the service (README, "What we rely on upstream"), so a real Topomer
may differ: ``get-by-token`` keeps answering a token after ``update-expired``, with ``expired: true``
(the capture reads that back, reconciliation and ``GET /balance`` read expired tokens); writes are
applied before the answer (the service does not need it: a write not read back yet is retried); a 401
asks for a fresh access token. The rest (404 for an unknown token or user, 400 for a negative
``solde``, 422 for a create without its fields) is this simulator's own choice, and the service relies
on none of it beyond "a 4xx was not taken".
"""

from __future__ import annotations

import os
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
ANSWER_STYLES = ("ok", "object", "created", "empty")
ANSWER_STYLE_ENV = "TOPOMER_SIM_ANSWER_STYLE"


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
        self.route("/_sim/tokens", ["POST"], self.new_token)
        self.route("/_sim/intervals", ["PUT"], self.set_intervals)
        self.route("/_sim/tokens/revoke", ["POST"], self.revoke_access_tokens)
        self.route("/_sim/tokens/refuse", ["POST"], self.refuse_token)
        self.route("/_sim/answer_style", ["POST"], self.set_answer_style)
        self.route("/_sim/dedup", ["POST"], self.set_dedup)

    def reset(self) -> None:
        self.answer_style = os.environ.get(ANSWER_STYLE_ENV, "ok")
        if self.answer_style not in ANSWER_STYLES:
            raise ValueError(f"{ANSWER_STYLE_ENV} must be one of {', '.join(ANSWER_STYLES)}")
        self.name_created_id = True
        self.dedup = {"orders": False, "promos": False}
        self.replies: dict[tuple[str, str], Response] = {}  # (path, Idempotency-Key) -> first answer
        self.post_log: list[dict[str, Any]] = []
        self.refused_tokens: dict[str, int] = {}
        self.answer_fields: dict[str, list[str]] = {}
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
            "post_log": self.post_log,
            "answer_style": self.answer_style,
            "dedup": self.dedup,
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
        token = request.args.get("token", "")
        if token in self.refused_tokens:
            return json_response({"message": "token refused"}, status=self.refused_tokens[token])
        user = self.users.get(token)
        if user is None:
            return json_response({"message": "unknown token"}, status=404)
        return json_response(self._user_answer(user))

    def _user_answer(self, user: dict[str, Any]) -> dict[str, Any]:
        fields = self.answer_fields.get(user["token"])
        return dict(user) if fields is None else {k: v for k, v in user.items() if k in fields}

    def _written(self, changed: dict[str, Any], created_id: object, *, created_status: int = 201) -> Response:
        """The answer to a write that was taken, in the current answer style."""
        if self.answer_style == "object":
            return json_response(changed)
        if self.answer_style == "created":
            return json_response({"id": created_id}, status=created_status)
        if self.answer_style == "empty":
            return Response(status=204)
        return json_response({"ok": True})

    def _log_post(self, request: Request) -> str | None:
        key = request.headers.get("Idempotency-Key")
        self.post_log.append({"path": request.path, "idempotency_key": key})
        return key

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
        return self._written(self._user_answer(user), user["id"])

    def update_expired(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        user = self.users.get(str(body.get("token", "")))
        if user is None:
            return json_response({"message": "unknown token"}, status=404)
        user["expired"] = bool(body.get("expired"))
        return self._written(self._user_answer(user), user["id"])

    def shopper_balance(self, request: Request, shopper_id: str) -> Response:
        shopper = self.shoppers.get(shopper_id)
        if request.headers.get("X-Shopper-Id") != shopper_id:
            return json_response({"message": "shopper id header mismatch"}, status=400)
        if shopper is None or request.headers.get("X-Shopper-Token") != shopper["token"]:
            return json_response({"message": "unknown shopper"}, status=404)
        return json_response({"balance": shopper["balance"]})

    def create_promo(self, request: Request) -> Response:
        key = self._log_post(request)
        if self.dedup["promos"] and key and (request.path, key) in self.replies:
            return self.replies[(request.path, key)]
        body = request.get_json(silent=True) or {}
        if not body.get("code") or body.get("percentage") is None:
            return json_response({"message": "code and percentage are required"}, status=422)
        # No lookup by code: a second create of a code is a second promo (nothing written says otherwise).
        promo_id = str(len(self.promos) + 1)
        self.promos[promo_id] = {"id": int(promo_id), **body}
        response = self._created_promo(self.promos[promo_id])
        if key:
            self.replies[(request.path, key)] = response
        return response

    def _created_promo(self, promo: dict[str, Any]) -> Response:
        """A create's answer: it names the new id in every style, unless ``name_created_id`` is off."""
        named = self.name_created_id
        if self.answer_style == "object":
            return json_response(promo if named else {k: v for k, v in promo.items() if k != "id"})
        if self.answer_style == "created":
            return json_response({"id": promo["id"]} if named else {}, status=201)
        if self.answer_style == "empty":
            headers = {"Location": f"/api/plugin/promos/{promo['id']}"} if named else {}
            return Response(status=204, headers=headers)
        return json_response({"ok": True, "id": promo["id"]} if named else {"ok": True})

    def update_promo(self, request: Request, promo_id: str) -> Response:
        if promo_id not in self.promos:
            return json_response({"message": "unknown promo"}, status=404)
        self.promos[promo_id].update(request.get_json(silent=True) or {})
        self.promos[promo_id]["id"] = int(promo_id)
        return self._written(self.promos[promo_id], int(promo_id), created_status=200)

    def create_order(self, request: Request) -> Response:
        key = self._log_post(request)
        if self.dedup["orders"] and key and (request.path, key) in self.replies:
            return self.replies[(request.path, key)]
        body = request.get_json(silent=True) or {}
        if "order_id" not in body:
            return json_response({"message": "order_id is required"}, status=422)
        # No lookup by order_id: a report sent again is a second record (nothing written says otherwise).
        record = {"id": len(self.orders) + 1, **body}
        self.orders.append(record)
        response = self._written(record, record["id"])
        if key:
            self.replies[(request.path, key)] = response
        return response

    # ------------------------------------------------------------ control
    def add_user(self, request: Request) -> Response:
        body = request.get_json(force=True)
        user = {
            "id": body["id"],
            "token": body["token"],
            "email": body.get("email", ""),  # null stays null
            "solde": Decimal(str(body.get("solde", "0"))),
            "expired": bool(body.get("expired", False)),
        }
        self.users[user["token"]] = user
        if body.get("answer_fields") is not None:
            self.answer_fields[user["token"]] = list(body["answer_fields"])
        return json_response(user, status=201)

    def new_token(self, request: Request) -> Response:
        """A new user with a fresh token and ``balance`` (default 100.00): a token for one more payment."""
        body = request.get_json(silent=True) or {}
        try:
            balance = Decimal(str(body.get("balance", "100.00")))
        except InvalidOperation:
            balance = Decimal(-1)
        if not balance.is_finite() or balance < 0:
            return json_response({"message": 'balance must be a decimal of zero or more, e.g. "100.00"'}, 400)
        user_id = max((u["id"] for u in self.users.values() if isinstance(u["id"], int)), default=100) + 1
        token = f"tpm_local_token_{secrets.token_hex(6)}"
        email = body.get("email", f"user{user_id}@example.com")
        self.users[token] = {"id": user_id, "token": token, "email": email, "solde": balance, "expired": False}
        return json_response({"token": token, "user_id": user_id, "email": email, "balance": balance}, status=201)

    def refuse_token(self, request: Request) -> Response:
        body = request.get_json(force=True)
        status = int(body.get("status", 403))
        if status not in (400, 401, 403, 404):
            return json_response({"message": "status must be 400, 401, 403 or 404"}, status=400)
        self.refused_tokens[str(body["token"])] = status
        return json_response({"token": body["token"], "status": status})

    def set_answer_style(self, request: Request) -> Response:
        body = request.get_json(force=True)
        if body.get("style") not in ANSWER_STYLES:
            return json_response({"message": f"style must be one of {', '.join(ANSWER_STYLES)}"}, status=400)
        self.answer_style = body["style"]
        self.name_created_id = bool(body.get("name_created_id", True))
        return json_response({"style": self.answer_style, "name_created_id": self.name_created_id})

    def set_dedup(self, request: Request) -> Response:
        body = request.get_json(force=True)
        for kind in ("orders", "promos"):
            if kind in body:
                self.dedup[kind] = bool(body[kind])
        return json_response(self.dedup)

    def set_intervals(self, request: Request) -> Response:
        self.interval_list = request.get_json(force=True)
        return json_response(self.interval_list)

    def revoke_access_tokens(self, request: Request) -> Response:
        self.access_tokens.clear()
        return json_response({"ok": True})
